package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/ory/fosite"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
)

// strategy makes and checks the credentials fosite hands out: access
// tokens are token.Service JWTs (their fosite "signature", the key of their
// stored record, is the jti); authorization codes and refresh tokens are
// 256 random bits, stored by their SHA-256.
type strategy struct {
	tokens    *token.Service
	now       func() time.Time
	accessTTL time.Duration
}

// The contexts each grant may carry scopes for: a user's grants never get
// system/ scopes, a system client's own token gets nothing else.
var (
	userContexts   = scope.MustParse("patient/*.cruds user/*.cruds openid fhirUser profile launch launch/patient launch/encounter offline_access online_access")
	systemContexts = scope.MustParse("system/*.cruds")
	// exchangeContexts: the professional's token from a token exchange.
	exchangeContexts = scope.MustParse("user/*.cruds")
)

// grantedSet parses granted scope tokens, narrowed to what the client is
// registered for and what contexts allows: the scope of every token issued.
func grantedSet(granted []string, c *Client, contexts scope.Set) (scope.Set, error) {
	set, err := scope.Parse(strings.Join(granted, " "))
	if err != nil {
		return scope.Set{}, err
	}
	return scope.Narrow(scope.Narrow(set, c.scope), contexts), nil
}

// claims builds the access token's claims for a fosite request: the
// person of the grant, or for a system client's own token the client and
// its provider. It never sets Operator.
func (s *strategy) claims(r fosite.Requester) (token.Claims, error) {
	c, g := clientOf(r), grantOf(r)
	if c == nil {
		return token.Claims{}, errors.New("oauth: request without a registered client")
	}
	contexts := userContexts
	switch {
	case g.Exchanged:
		contexts = exchangeContexts
	case g.FHIRUser == "":
		contexts = systemContexts
	}
	set, err := grantedSet(r.GetGrantedScopes(), c, contexts)
	if err != nil {
		return token.Claims{}, fmt.Errorf("oauth: granted scope: %w", err)
	}
	cl := token.Claims{ClientID: c.ID, Scope: set}
	if g.FHIRUser == "" {
		if c.Kind != System {
			return token.Claims{}, fmt.Errorf("oauth: client %s is not a system client: its tokens need a user", c.ID)
		}
		cl.Subject, cl.Org = c.ID, c.Org
		return cl, nil
	}
	cl.Subject, cl.FHIRUser = g.FHIRUser, g.FHIRUser
	cl.Org, cl.Role, cl.Purpose, cl.Patient = g.Org, g.Role, g.Purpose, g.Patient
	return cl, nil
}

// AccessTokenSignature is the token's jti, read without verifying it: it
// only names the stored record, and ValidateAccessToken verifies.
func (s *strategy) AccessTokenSignature(_ context.Context, raw string) string {
	return jtiOf(raw)
}

// jtiOf returns the jti of an ES256 JWT, or "-" (which names no record)
// for anything else.
func jtiOf(raw string) string {
	if len(raw) > 8<<10 {
		return "-"
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "-"
	}
	var c struct {
		ID string `json:"jti"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil || c.ID == "" {
		return "-"
	}
	return c.ID
}

// GenerateAccessToken issues the platform's access token for the request.
func (s *strategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	cl, err := s.claims(r)
	if err != nil {
		return "", "", err
	}
	ttl := s.accessTTL
	if exp := grantOf(r).GetExpiresAt(fosite.AccessToken); !exp.IsZero() {
		ttl = exp.Sub(s.now()).Round(time.Second)
	}
	ttl = min(max(ttl, time.Second), token.MaxTTL)
	raw, issued, err := s.tokens.Issue(ctx, cl, ttl)
	if err != nil {
		return "", "", err
	}
	g := grantOf(r)
	g.SetExpiresAt(fosite.AccessToken, issued.Expiry)
	g.issued = &issued
	return raw, issued.ID, nil
}

// ValidateAccessToken verifies the token with token.Service.
func (s *strategy) ValidateAccessToken(ctx context.Context, _ fosite.Requester, raw string) error {
	if _, err := s.tokens.Verify(ctx, raw); err != nil {
		return fosite.ErrTokenExpired.WithHint("The access token is not valid.").WithWrap(err)
	}
	return nil
}

func (s *strategy) RefreshTokenSignature(_ context.Context, raw string) string {
	return hashSecret(raw)
}
func (s *strategy) AuthorizeCodeSignature(_ context.Context, raw string) string {
	return hashSecret(raw)
}

func (s *strategy) GenerateRefreshToken(context.Context, fosite.Requester) (string, string, error) {
	return newSecret()
}

func (s *strategy) GenerateAuthorizeCode(context.Context, fosite.Requester) (string, string, error) {
	return newSecret()
}

func (s *strategy) ValidateRefreshToken(_ context.Context, r fosite.Requester, _ string) error {
	return s.notExpired(r, fosite.RefreshToken)
}

func (s *strategy) ValidateAuthorizeCode(_ context.Context, r fosite.Requester, _ string) error {
	return s.notExpired(r, fosite.AuthorizeCode)
}

func (s *strategy) notExpired(r fosite.Requester, tt fosite.TokenType) error {
	exp := grantOf(r).GetExpiresAt(tt)
	if !exp.IsZero() && !s.now().Before(exp) {
		return fosite.ErrTokenExpired.WithHintf("The %s has expired.", strings.ReplaceAll(string(tt), "_", " "))
	}
	return nil
}

// newSecret returns a one-time credential (256 random bits, base64url) and
// its store key.
func newSecret() (string, string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	raw := base64.RawURLEncoding.EncodeToString(b[:])
	return raw, hashSecret(raw), nil
}

// hashSecret is the store key of a secret: its SHA-256, base64url. The
// secrets are random, so no salt or slow hash is needed.
func hashSecret(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newID returns a random identifier (128 bits, base64url).
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
