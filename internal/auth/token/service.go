package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

const (
	// MaxTTL is the longest lifetime of any token: ehealth admin token's
	// cap. Signing keys are kept this long (plus MaxLeeway) after they stop
	// signing, so every token they signed verifies until it expires.
	MaxTTL = 24 * time.Hour
	// MaxLeeway is the most clock skew Verify tolerates on exp, nbf and iat.
	MaxLeeway = 5 * time.Second
	// DefaultRotateEvery is how long one signing key signs.
	DefaultRotateEvery = 30 * 24 * time.Hour
	// minRotateEvery keeps the number of live keys small.
	minRotateEvery = time.Hour
)

// accessTokenType is the typ header of RFC 9068 §2.1.
const accessTokenType = "at+jwt"

// algorithms are the only signature algorithms Verify accepts.
var algorithms = []jose.SignatureAlgorithm{jose.ES256}

// Config configures a Service. Every server process sharing a database
// must use the same Issuer, Audience and RotateEvery.
type Config struct {
	// Issuer is the authorization server's URL: the iss of issued tokens,
	// and the only one Verify accepts.
	Issuer string
	// Audience is the FHIR base URL: the aud of issued tokens, which Verify
	// requires.
	Audience string
	// RotateEvery is how long one key signs before the next takes over
	// (DefaultRotateEvery if zero; at least an hour).
	RotateEvery time.Duration
	// Leeway is the clock skew tolerated on exp, nbf and iat (MaxLeeway if
	// zero; more than MaxLeeway is refused).
	Leeway time.Duration
	// Now is the clock (time.Now if nil); tests advance their own.
	Now func() time.Time
	// Log receives warnings about unreadable keys (discarded if nil).
	Log *slog.Logger
}

// Service issues and verifies access tokens with the signing keys kept in
// a keyed store. It is safe for concurrent use.
type Service struct {
	keys     store.Keyed
	issuer   string
	audience string
	rotate   time.Duration
	leeway   time.Duration
	now      func() time.Time
	log      *slog.Logger

	set      atomic.Pointer[keySet] // the keys, read without locking
	loadMu   sync.Mutex             // one read or rotation of the keys at a time
	lastRead time.Time              // guarded by loadMu
	verified verifiedTokens         // tokens already verified (verified.go)

	// beforeInsert, when set (by tests), runs after a slot was found empty
	// and before its key is inserted: tests hold two processes there to
	// make them race for the slot.
	beforeInsert func(slotKey string)
}

// New returns a Service keeping its keys in keys. It reads nothing until
// the first token is issued or verified.
func New(keys store.Keyed, cfg Config) (*Service, error) {
	s := &Service{keys: keys, issuer: cfg.Issuer, audience: cfg.Audience,
		rotate: cfg.RotateEvery, leeway: cfg.Leeway, now: cfg.Now, log: cfg.Log}
	if err := checkURL("issuer", s.issuer); err != nil {
		return nil, err
	}
	if err := checkURL("audience", s.audience); err != nil {
		return nil, err
	}
	if s.rotate == 0 {
		s.rotate = DefaultRotateEvery
	}
	if s.rotate < minRotateEvery || s.rotate%time.Second != 0 {
		return nil, fmt.Errorf("token: rotation period %s: want whole seconds, at least %s", s.rotate, minRotateEvery)
	}
	if s.leeway == 0 {
		s.leeway = MaxLeeway
	}
	if s.leeway < 0 || s.leeway > MaxLeeway {
		return nil, fmt.Errorf("token: leeway %s: want at most %s", s.leeway, MaxLeeway)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s, nil
}

func checkURL(what, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("token: %s %q: want an absolute http(s) URL", what, s)
	}
	return nil
}

// Issue signs an access token with claims c, valid for ttl (at most
// MaxTTL) from now. It sets iss, aud, iat, exp and a fresh jti, overriding
// what c has there, checks the rest (Claims.Check) and returns the token
// and its claims. It refuses operator tokens: they come only from
// IssueOperator, which no OAuth flow calls.
func (s *Service) Issue(ctx context.Context, c Claims, ttl time.Duration) (string, Claims, error) {
	if c.Operator {
		return "", Claims{}, outcome.New(outcome.Invalid, "token: Issue does not issue operator tokens")
	}
	return s.issue(ctx, c, ttl)
}

// IssueOperator signs a platform-operator token: full FHIR access, consent
// not applied, every use audited as operator. c must name no fhirUser, org,
// role or patient. Only `ehealth admin token`, which needs access to the
// database, calls it (and `ehealth bench` for its HTTP run); no OAuth
// client can obtain this role.
func (s *Service) IssueOperator(ctx context.Context, c Claims, ttl time.Duration) (string, Claims, error) {
	c.Operator = true
	return s.issue(ctx, c, ttl)
}

func (s *Service) issue(ctx context.Context, c Claims, ttl time.Duration) (string, Claims, error) {
	if ttl <= 0 || ttl > MaxTTL {
		return "", Claims{}, outcome.New(outcome.Invalid, "token: lifetime %s: want more than 0 and at most %s", ttl, MaxTTL)
	}
	now := s.now()
	c.Issuer, c.Audience = s.issuer, s.audience
	c.IssuedAt = now.Truncate(time.Second).UTC()
	c.NotBefore = time.Time{}
	c.Expiry = c.IssuedAt.Add(ttl)
	c.ID = newID()
	if err := c.Check(); err != nil {
		return "", Claims{}, outcome.New(outcome.Invalid, "token: %v", err)
	}
	k, err := s.activeKey(ctx, now)
	if err != nil {
		return "", Claims{}, err
	}
	raw, err := jwt.Signed(k.signer).Claims(c.wire()).Serialize()
	if err != nil {
		return "", Claims{}, fmt.Errorf("token: sign: %w", err)
	}
	return raw, c, nil
}

// newID returns a random token id: 128 bits, base64url.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Verify checks an access token and returns its claims: compact JWS with
// alg ES256 (nothing else is parsed), typ at+jwt, a kid naming one of the
// keys, a valid signature, iss and aud this service's, exp not passed, nbf
// and iat not in the future (each with the leeway), a lifetime of at most
// MaxTTL, and the claims' rules (Claims.Check). A token failing any of
// these gives outcome.Unauthorized with a Problem (invalid_token); a
// failure to read the keys is returned with its own kind.
func (s *Service) Verify(ctx context.Context, raw string) (Claims, error) {
	if len(raw) > maxTokenLen {
		return Claims{}, invalidToken("the token is longer than %d bytes", maxTokenLen)
	}
	if c, ok := s.verified.get(raw, s.now(), s.leeway); ok {
		return c, nil
	}
	tok, err := jwt.ParseSigned(raw, algorithms)
	if err != nil {
		return Claims{}, invalidToken("the token is not a JWT signed with ES256")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !isAccessTokenType(typ) {
		return Claims{}, invalidToken("the token's typ is not %s", accessTokenType)
	}
	if h.KeyID == "" {
		return Claims{}, invalidToken("the token names no key (kid)")
	}
	now := s.now()
	k, err := s.lookup(ctx, h.KeyID, now)
	if err != nil {
		return Claims{}, err
	}
	var w wire
	if err := tok.Claims(k.public, &w); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return Claims{}, invalidToken("the token's signature does not verify")
		}
		return Claims{}, invalidToken("the token's claims are malformed")
	}
	c, err := s.check(w, now)
	if err == nil {
		s.verified.put(raw, c, now, s.leeway)
	}
	return c, err
}

// isAccessTokenType accepts "at+jwt" and "application/at+jwt", in any case
// (RFC 9068 §4).
func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == accessTokenType || typ == "application/"+accessTokenType
}

// check applies the claim rules to a payload whose signature verified.
func (s *Service) check(w wire, now time.Time) (Claims, error) {
	switch {
	case w.Issuer != s.issuer:
		return Claims{}, invalidToken("the token was issued by another server (iss)")
	case !w.Audience.Contains(s.audience):
		return Claims{}, invalidToken("the token is not for this server (aud)")
	case w.Expiry == nil || w.IssuedAt == nil || w.ID == "":
		return Claims{}, invalidToken("the token lacks exp, iat or jti")
	case !now.Before(w.Expiry.Time().Add(s.leeway)):
		return Claims{}, invalidToken("the token has expired")
	case w.IssuedAt.Time().After(now.Add(s.leeway)):
		return Claims{}, invalidToken("the token is issued in the future (iat)")
	case w.NotBefore != nil && w.NotBefore.Time().After(now.Add(s.leeway)):
		return Claims{}, invalidToken("the token is not valid yet (nbf)")
	case w.Expiry.Time().Sub(w.IssuedAt.Time()) > MaxTTL:
		return Claims{}, invalidToken("the token's lifetime is longer than %s", MaxTTL)
	}
	c, err := w.claims(s.audience)
	if err == nil {
		err = c.Check()
	}
	if err != nil {
		return Claims{}, invalidToken("the token's claims are invalid: %v", err)
	}
	return c, nil
}

// JWKS returns the public signing keys as a JSON Web Key Set (RFC 7517 §5)
// for /.well-known/jwks.json: the key signing now, the next slot's, and the
// retired ones still verifying, oldest first.
func (s *Service) JWKS(ctx context.Context) ([]byte, error) {
	now := s.now()
	if _, err := s.activeKey(ctx, now); err != nil {
		return nil, err
	}
	set := s.set.Load()
	var keys []*signingKey
	for _, k := range set.byKID {
		if now.Before(k.verifyUntil) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b *signingKey) int { return a.signFrom.Compare(b.signFrom) })
	doc := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		doc.Keys = append(doc.Keys, jose.JSONWebKey{Key: k.public, KeyID: k.kid, Algorithm: string(jose.ES256), Use: "sig"})
	}
	return json.Marshal(doc)
}
