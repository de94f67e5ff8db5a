package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/ory/fosite"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// assertionTypeJWTBearer is the client_assertion_type of private_key_jwt
// (RFC 7523 §2.2).
const assertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const (
	// MaxAssertionLifetime is the longest a client assertion may still be
	// valid when it arrives (exp − now): SMART Backend Services asks for no
	// more than five minutes.
	MaxAssertionLifetime = 5 * time.Minute
	// assertionLeeway is the clock skew tolerated on exp, nbf and iat.
	assertionLeeway = 5 * time.Second
	// maxAssertionLen bounds what is parsed: a 4096-bit RS384 assertion is
	// under 1.5 KiB.
	maxAssertionLen = 8 << 10
)

// assertionAlgorithms are the only algorithms a client assertion may use;
// everything else (none, HS*, RS256 …) is refused before any key is read.
var assertionAlgorithms = []jose.SignatureAlgorithm{jose.RS384, jose.ES384}

// assertion is the payload of a JWT a client signs: a client assertion
// (iss = sub = client_id) or, for a token exchange, the assertion of the
// signed-in professional (iss = client_id, sub = Practitioner/ID, with role
// and purpose).
type assertion struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ID        string           `json:"jti"`
	Role      string           `json:"role"`
	Purpose   string           `json:"purpose"`
}

// parsedAssertion is an assertion whose signature is not checked yet.
type parsedAssertion struct {
	tok    *jwt.JSONWebToken
	claims assertion // unverified until verify
}

// parseAssertion parses a compact JWS signed with RS384 or ES384 and reads
// its payload, unverified. It is the first step for anything a client
// signs, and the fuzz target's entry.
func parseAssertion(raw string) (parsedAssertion, error) {
	if raw == "" {
		return parsedAssertion{}, errors.New("the assertion is missing")
	}
	if len(raw) > maxAssertionLen {
		return parsedAssertion{}, errors.New("the assertion is too long")
	}
	tok, err := jwt.ParseSigned(raw, assertionAlgorithms)
	if err != nil {
		return parsedAssertion{}, errors.New("the assertion is not a JWT signed with RS384 or ES384")
	}
	var a assertion
	if err := tok.UnsafeClaimsWithoutVerification(&a); err != nil {
		return parsedAssertion{}, errors.New("the assertion's claims are malformed")
	}
	if a.Issuer == "" {
		return parsedAssertion{}, errors.New("the assertion has no iss")
	}
	return parsedAssertion{tok: tok, claims: a}, nil
}

// verify checks the assertion's signature against the client's keys (the
// one named by kid, or any key of the algorithm's type) and returns the
// verified claims.
func (p parsedAssertion) verify(c *Client) (assertion, error) {
	h := p.tok.Headers[0]
	for _, k := range c.keys {
		if keyAlgorithm(k) != h.Algorithm || h.KeyID != "" && k.KeyID != h.KeyID {
			continue
		}
		var a assertion
		if err := p.tok.Claims(k.Key, &a); err == nil {
			return a, nil
		}
	}
	return assertion{}, errors.New("the assertion's signature does not verify with any of the client's registered keys")
}

// checkTimes applies the lifetime rules: exp required, not passed, at most
// MaxAssertionLifetime ahead; nbf and iat not in the future.
func (a assertion) checkTimes(now time.Time) error {
	switch {
	case a.Expiry == nil:
		return errors.New("the assertion has no exp")
	case !now.Before(a.Expiry.Time().Add(assertionLeeway)):
		return errors.New("the assertion has expired")
	case a.Expiry.Time().Sub(now) > MaxAssertionLifetime+assertionLeeway:
		return errors.New("the assertion's exp is more than five minutes away")
	case a.NotBefore != nil && a.NotBefore.Time().After(now.Add(assertionLeeway)):
		return errors.New("the assertion is not valid yet (nbf)")
	case a.IssuedAt != nil && a.IssuedAt.Time().After(now.Add(assertionLeeway)):
		return errors.New("the assertion is issued in the future (iat)")
	case a.ID == "" || len(a.ID) > 256:
		return errors.New("the assertion has no jti (or one longer than 256 characters)")
	}
	return nil
}

// verifyAssertion checks a JWT that a confidential or system client signed
// (RFC 7523 §3): algorithm, the issuing client (enabled, with keys), the
// signature, aud (the token endpoint), the times and, last, that its jti was
// never seen from that client — remembered with InsertKey until the
// assertion expires, so a replay fails on every server. clientID, when not
// empty, is the client_id the request names, which iss must equal. Its
// errors are fosite errors of kind errKind, safe to show the client.
func (s *Server) verifyAssertion(ctx context.Context, raw, clientID string, errKind *fosite.RFC6749Error) (*Client, assertion, error) {
	fail := func(err error) (*Client, assertion, error) { return nil, assertion{}, errKind.WithHint(err.Error()) }
	p, err := parseAssertion(raw)
	if err != nil {
		return fail(err)
	}
	if clientID != "" && clientID != p.claims.Issuer {
		return fail(errors.New("the assertion's iss is not the client_id"))
	}
	c, err := s.clients.Get(ctx, p.claims.Issuer)
	switch {
	case outcome.Is(err, outcome.NotFound) || err == nil && c.Disabled:
		return fail(errors.New("the assertion's iss is not a registered client"))
	case err != nil:
		return nil, assertion{}, fosite.ErrServerError.WithWrap(err)
	case c.Kind == Public:
		return fail(errors.New("a public client has no keys to sign an assertion"))
	}
	a, err := p.verify(c)
	if err != nil {
		return fail(err)
	}
	now := s.now()
	switch {
	case a.Issuer != c.ID:
		return fail(errors.New("the assertion's iss is not the client_id"))
	case !a.Audience.Contains(s.tokenURL):
		return fail(errors.New("the assertion's aud is not this server's token endpoint"))
	}
	if err := a.checkTimes(now); err != nil {
		return fail(err)
	}
	err = s.keys.InsertKey(ctx, store.Key{NS: nsJTI, Key: c.ID + " " + a.ID}, []byte("{}"), a.Expiry.Time().Add(assertionLeeway))
	if outcome.Is(err, outcome.Conflict) {
		return fail(errors.New("the assertion's jti was used before"))
	}
	if err != nil {
		return nil, assertion{}, fosite.ErrServerError.WithWrap(err)
	}
	return c, a, nil
}

// authenticateClient is fosite's client authentication: private_key_jwt
// for confidential and system clients (iss = sub = client_id), the bare
// client_id for public ones. Client secrets are not used on this server.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	switch typ := form.Get("client_assertion_type"); {
	case typ == assertionTypeJWTBearer:
		c, a, err := s.verifyAssertion(ctx, form.Get("client_assertion"), form.Get("client_id"), fosite.ErrInvalidClient)
		if err != nil {
			return nil, err
		}
		if a.Subject != c.ID {
			return nil, fosite.ErrInvalidClient.WithHint("the client assertion's sub is not the client_id")
		}
		return s.storage.GetClient(ctx, c.ID)
	case typ != "":
		return nil, fosite.ErrInvalidRequest.WithHint("client_assertion_type: only urn:ietf:params:oauth:client-assertion-type:jwt-bearer is supported")
	}
	if _, _, basic := r.BasicAuth(); basic || form.Has("client_secret") {
		return nil, fosite.ErrInvalidClient.WithHint("this server does not use client secrets: authenticate with private_key_jwt")
	}
	id := form.Get("client_id")
	if id == "" {
		return nil, fosite.ErrInvalidClient.WithHint("no client_id and no client assertion")
	}
	c, err := s.storage.GetClient(ctx, id)
	if err != nil {
		return nil, fosite.ErrInvalidClient.WithHint("unknown or disabled client")
	}
	if !c.IsPublic() {
		return nil, fosite.ErrInvalidClient.WithHint("this client must authenticate with private_key_jwt")
	}
	return c, nil
}
