package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
)

// Kind is what sort of client an application is.
type Kind string

// The kinds of client.
const (
	// Public is a SMART app that cannot keep a secret (a browser or mobile
	// app): it authenticates with nothing but its client_id and relies on
	// PKCE. Grants: authorization_code, refresh_token.
	Public Kind = "public"
	// Confidential is an app with a key pair ("client-confidential-asymmetric"):
	// it authenticates with private_key_jwt. Grants: authorization_code,
	// refresh_token.
	Confidential Kind = "confidential"
	// System is a backend service of one provider (a clinic system): it
	// authenticates with private_key_jwt and acts for Org. Grants:
	// client_credentials and token exchange for its professionals.
	System Kind = "system"
)

// The signature algorithms of client assertions.
const (
	RS384 = "RS384"
	ES384 = "ES384"
)

// Client is a registered OAuth client.
type Client struct {
	// ID is the client_id: letters, digits and ".-_~:", 1 to 128 of them.
	ID string `json:"id"`
	// Name is shown to people (the patient picker).
	Name string `json:"name,omitempty"`
	Kind Kind   `json:"kind"`
	Org  string `json:"org,omitempty"` // System: the provider, Organization/ID
	// RedirectURIs are the exact redirect URIs of Public and Confidential
	// clients; a request's must equal one of them character for character.
	RedirectURIs []string `json:"redirectUris,omitempty"`
	// Scope is what the client may be granted: SMART v2 scopes and the
	// non-clinical ones (openid, fhirUser, launch, launch/patient,
	// offline_access …). A request is narrowed to it, never refused for
	// asking more.
	Scope string `json:"scope"`
	// Origins are the browser origins (scheme://host[:port]) allowed to call
	// the token, introspection and revocation endpoints and the discovery
	// documents (CORS).
	Origins []string `json:"origins,omitempty"`
	// JWKS is the public key set of Confidential and System clients: RSA keys
	// (at least 2048 bits) for RS384 and P-384 keys for ES384.
	JWKS json.RawMessage `json:"jwks,omitempty"`
	// Introspect lets the client introspect any token (a resource server);
	// without it a client may introspect only its own.
	Introspect bool      `json:"introspect,omitempty"`
	Disabled   bool      `json:"disabled,omitempty"`
	Created    time.Time `json:"created"`

	keys  []jose.JSONWebKey // parsed JWKS, by check
	scope scope.Set         // parsed Scope, by check
}

var (
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._~:-]{1,128}$`)
	orgPattern      = regexp.MustCompile(`^Organization/[A-Za-z0-9\-.]{1,64}$`)
)

// check validates a client and fills its parsed fields.
func (c *Client) check() error {
	if !clientIDPattern.MatchString(c.ID) {
		return fmt.Errorf("client id %q: want 1 to 128 of A-Z a-z 0-9 . _ ~ : -", c.ID)
	}
	set, err := scope.Parse(c.Scope)
	if err != nil {
		return fmt.Errorf("client %s: scope: %w", c.ID, err)
	}
	if set.String() == "" {
		return fmt.Errorf("client %s: no scope: a client is registered for at least one scope", c.ID)
	}
	c.scope = set
	for _, o := range c.Origins {
		if !isOrigin(o) {
			return fmt.Errorf("client %s: origin %q: want scheme://host[:port]", c.ID, o)
		}
	}
	switch c.Kind {
	case Public, Confidential:
		if len(c.RedirectURIs) == 0 {
			return fmt.Errorf("client %s: a %s client needs at least one redirect URI", c.ID, c.Kind)
		}
		for _, u := range c.RedirectURIs {
			if err := checkRedirectURI(u); err != nil {
				return fmt.Errorf("client %s: %w", c.ID, err)
			}
		}
		if c.Org != "" {
			return fmt.Errorf("client %s: only a system client is bound to an organization", c.ID)
		}
	case System:
		if !orgPattern.MatchString(c.Org) {
			return fmt.Errorf("client %s: a system client is bound to one provider: want --org Organization/ID, got %q", c.ID, c.Org)
		}
		if len(c.RedirectURIs) > 0 {
			return fmt.Errorf("client %s: a system client has no redirect URIs", c.ID)
		}
	default:
		return fmt.Errorf("client %s: kind %q: want public, confidential or system", c.ID, c.Kind)
	}
	if c.Kind == Public {
		if len(c.JWKS) > 0 {
			return fmt.Errorf("client %s: a public client has no keys", c.ID)
		}
		return nil
	}
	keys, err := parseJWKS(c.JWKS)
	if err != nil {
		return fmt.Errorf("client %s: %w", c.ID, err)
	}
	c.keys = keys
	return nil
}

// parseJWKS reads a client's public key set: at least one key, each public,
// for signing, an RSA key of 2048 bits or more or a P-384 key, with an alg
// (if given) that fits it.
func parseJWKS(raw json.RawMessage) ([]jose.JSONWebKey, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("jwks: required (the client's public keys, RS384 or ES384)")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("jwks: no keys")
	}
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("jwks: key %d holds a private key: register only the public half", i)
		}
		if k.Use != "" && k.Use != "sig" {
			return nil, fmt.Errorf("jwks: key %d: use %q: want sig", i, k.Use)
		}
		if alg := keyAlgorithm(k); alg == "" || (k.Algorithm != "" && k.Algorithm != alg) {
			return nil, fmt.Errorf("jwks: key %d: want an RSA key of at least 2048 bits (RS384) or a P-384 key (ES384)", i)
		}
	}
	return set.Keys, nil
}

// keyAlgorithm is the assertion algorithm a key verifies: RS384 for RSA
// keys of 2048 bits or more, ES384 for P-384 keys, "" for any other.
func keyAlgorithm(k jose.JSONWebKey) string {
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() >= 2048 {
			return RS384
		}
	case *ecdsa.PublicKey:
		if pub.Curve == elliptic.P384() {
			return ES384
		}
	}
	return ""
}

// checkRedirectURI accepts absolute https URIs, and http ones only on the
// loopback interface (RFC 8252 §7.3), without a fragment.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("redirect URI %q: want an absolute URI without a fragment", raw)
	}
	host := u.Hostname()
	if u.Scheme == "https" || u.Scheme == "http" && (host == "localhost" || host == "127.0.0.1" || host == "::1") {
		return nil
	}
	return fmt.Errorf("redirect URI %q: want https (http only on localhost)", raw)
}

// isOrigin reports whether s is a serialised origin: scheme://host[:port].
func isOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil && s == u.Scheme+"://"+u.Host
}

// grantTypes are the grants each kind of client may use.
var grantTypes = map[Kind][]string{
	Public:       {grantAuthorizationCode, grantRefreshToken},
	Confidential: {grantAuthorizationCode, grantRefreshToken},
	System:       {grantClientCredentials, grantTokenExchange},
}

// The grant types.
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"
	grantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// hasOrigin reports whether o is one of the client's origins.
func (c *Client) hasOrigin(o string) bool { return slices.Contains(c.Origins, o) }

// String describes the client for the admin command's listing.
func (c *Client) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\t%s", c.ID, c.Kind)
	if c.Org != "" {
		fmt.Fprintf(&b, "\t%s", c.Org)
	}
	if c.Disabled {
		b.WriteString("\tdisabled")
	}
	fmt.Fprintf(&b, "\t%s", c.Scope)
	return b.String()
}
