package web

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// nsClientKey holds each app's private key, so every server on one
// database signs its client assertions with the key the registration
// names.
const nsClientKey = "web.client-key"

// client is an app as an OAuth client of the platform's authorization
// server: registered as a confidential client (private_key_jwt, ES384),
// it sends the browser to the authorize endpoint and calls the token and
// revocation endpoints in-process.
type client struct {
	id       string
	redirect string // the app's callback, absolute
	scope    string
	key      jose.JSONWebKey
	authz    http.Handler // the authorization server's endpoints
	issuer   string       // scheme://host of the authorization server
	tokenURL string       // issuer + oauth.PathToken: the assertions' audience
	fhirBase string
	purpose  string // a v3 PurposeOfUse asked for at authorize ("" none)
	now      func() time.Time
}

// registerClient makes sure the app is registered: its key is created
// once in the keyed store (InsertKey, so concurrent servers agree), and
// the client registered with it. The client id carries a hash of the
// registration (redirect URI, scope), so a changed configuration
// registers a new client instead of meeting the old one.
func registerClient(ctx context.Context, cfg Config, name, displayName, redirect, scope string) (*client, error) {
	keys, authz := cfg.Keys, cfg.Authz
	sum := sha256.Sum256([]byte(redirect + "\n" + scope))
	id := "ehealth-web-" + name + "-" + hex.EncodeToString(sum[:4])
	key, err := clientKey(ctx, keys, id)
	if err != nil {
		return nil, err
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.Public()}})
	if err != nil {
		return nil, err
	}
	_, err = authz.Clients().Register(ctx, oauth.Client{ID: id, Name: displayName, Kind: oauth.Confidential,
		RedirectURIs: []string{redirect}, Scope: scope, JWKS: jwks})
	if err != nil && !outcome.Is(err, outcome.Conflict) {
		return nil, fmt.Errorf("web: register app %s: %w", name, err)
	}
	if c, err := authz.Clients().Get(ctx, id); err != nil {
		return nil, fmt.Errorf("web: app %s: %w", name, err)
	} else if c.Disabled {
		return nil, fmt.Errorf("web: app %s: client %s is disabled", name, id)
	}
	return &client{id: id, redirect: redirect, scope: scope, key: key, authz: authz.Handler(),
		issuer: cfg.Issuer, tokenURL: cfg.Issuer + oauth.PathToken, fhirBase: cfg.FHIRBase, now: time.Now}, nil
}

// clientKey returns the app's P-384 private key, creating it the first
// time.
func clientKey(ctx context.Context, keys store.Keyed, id string) (jose.JSONWebKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	jwk := jose.JSONWebKey{Key: priv, KeyID: id + "-1", Algorithm: string(jose.ES384), Use: "sig"}
	body, err := jwk.MarshalJSON()
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	err = keys.InsertKey(ctx, store.Key{NS: nsClientKey, Key: id}, body, time.Time{})
	if err != nil && !outcome.Is(err, outcome.Conflict) {
		return jose.JSONWebKey{}, fmt.Errorf("web: client key: %w", err)
	}
	if err == nil {
		return jwk, nil
	}
	if body, err = keys.GetKey(ctx, nsClientKey, id); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("web: client key: %w", err)
	}
	var stored jose.JSONWebKey
	if err := stored.UnmarshalJSON(body); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("web: client key: %w", err)
	}
	return stored, nil
}

// pending is a sign-in under way: what the callback needs, kept on the
// server under the state's hash.
type pending struct {
	Verifier string `json:"verifier"`
	Return   string `json:"return"` // the app path to go back to
}

// authorizeURL starts a launch: the path of the authorize request (same
// origin) with PKCE S256 and state; launchPatient asks for the patient
// picker.
func (c *client) authorizeURL(state, verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {c.redirect},
		"scope": {c.scope}, "state": {state}, "aud": {c.fhirBase},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	if c.purpose != "" {
		q.Set("purpose_of_use", c.purpose)
	}
	return oauth.PathAuthorize + "?" + q.Encode()
}

// tokenResponse is what the token endpoint answers.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	Patient      string `json:"patient"`
	FHIRUser     string `json:"fhirUser"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// exchange trades a code for tokens.
func (c *client) exchange(ctx context.Context, code, verifier string) (tokenResponse, error) {
	return c.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {c.redirect}, "code_verifier": {verifier}})
}

// refresh trades a refresh token for new tokens (the refresh token
// rotates).
func (c *client) refresh(ctx context.Context, refresh string) (tokenResponse, error) {
	return c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

func (c *client) token(ctx context.Context, form url.Values) (tokenResponse, error) {
	status, body, err := c.post(ctx, oauth.PathToken, form)
	if err != nil {
		return tokenResponse{}, err
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return tokenResponse{}, fmt.Errorf("web: token endpoint answered %d: %w", status, err)
	}
	if status != http.StatusOK || tr.AccessToken == "" {
		kind := outcome.Unauthorized
		if status == http.StatusTooManyRequests || status >= 500 {
			kind = outcome.Transient
		}
		return tokenResponse{}, outcome.New(kind, "web: token endpoint: %s %s", tr.Error, tr.Description)
	}
	return tr, nil
}

// revoke revokes a token (RFC 7009); a token already gone is no error.
func (c *client) revoke(ctx context.Context, tok, hint string) error {
	if tok == "" {
		return nil
	}
	status, body, err := c.post(ctx, oauth.PathRevoke, url.Values{"token": {tok}, "token_type_hint": {hint}})
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("web: revoke: %d %s", status, body)
	}
	return nil
}

// post sends a form to an endpoint of the authorization server,
// in-process, authenticated with a fresh client assertion.
func (c *client) post(ctx context.Context, path string, form url.Values) (int, []byte, error) {
	assertion, err := c.assertion()
	if err != nil {
		return 0, nil, err
	}
	form.Set("client_id", c.id)
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", assertion)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = "127.0.0.1:0"
	rec := newRecorder()
	c.authz.ServeHTTP(rec, r)
	return rec.status, rec.body.Bytes(), nil
}

// assertion is a private_key_jwt client assertion for the token endpoint.
func (c *client) assertion() (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES384, Key: c.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", c.key.KeyID))
	if err != nil {
		return "", err
	}
	now := c.now()
	claims := jwt.Claims{Issuer: c.id, Subject: c.id, Audience: jwt.Audience{c.tokenURL}, ID: randomToken(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(2 * time.Minute))}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// recorder is an in-memory http.ResponseWriter: how the apps read the
// answers of the handlers they call in-process.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

func (r *recorder) WriteHeader(status int) { r.status = status }

// hasScope reports whether a space-separated scope string holds s.
func hasScope(scopes, s string) bool { return slices.Contains(strings.Fields(scopes), s) }
