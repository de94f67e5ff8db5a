package oauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// nsIDKey holds the ID-token signing keys, one per rotation slot.
const nsIDKey = "oauth.id-token-key"

// idKeyRotate is how long one ID-token key signs. A key is published from
// one slot before it signs until one slot after (ID tokens live an hour at
// most), so relying parties that cache the JWKS see it in time.
const idKeyRotate = 30 * 24 * time.Hour

// idTokenKeys are the RS256 keys of ID tokens (OpenID Connect Discovery
// requires RS256 among the supported algorithms; access tokens are ES256,
// from auth/token). Like the access-token keys they live in the keyed
// store, one per slot, created with InsertKey so all servers agree.
type idTokenKeys struct {
	keys store.Keyed

	mu     sync.Mutex
	cached map[string]*idKey // by slot key
	loaded time.Time
}

type idKey struct {
	KID  string          `json:"kid"`
	From time.Time       `json:"from"`
	JWK  json.RawMessage `json:"jwk"` // the private key
	priv *rsa.PrivateKey
}

// slot returns the key of the slot starting at start, creating it if none
// exists and create is set (otherwise nil).
func (k *idTokenKeys) slot(ctx context.Context, start time.Time, create bool) (*idKey, error) {
	name := start.UTC().Format(time.RFC3339)
	if c := k.cached[name]; c != nil {
		return c, nil
	}
	body, err := k.keys.GetKey(ctx, nsIDKey, name)
	if outcome.Is(err, outcome.NotFound) {
		if !create {
			return nil, nil
		}
		if body, err = k.create(ctx, name, start); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	var rec idKey
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, err
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(rec.JWK); err != nil {
		return nil, err
	}
	priv, ok := jwk.Key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("oauth: ID-token key %s is not an RSA private key", name)
	}
	rec.priv = priv
	k.cached[name] = &rec
	return &rec, nil
}

// create generates the slot's key and inserts it; if another server got
// there first, its key is the one returned.
func (k *idTokenKeys) create(ctx context.Context, name string, start time.Time) ([]byte, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey}
	sum, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	kid := base64.RawURLEncoding.EncodeToString(sum)
	jwk, err := jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}.MarshalJSON()
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(idKey{KID: kid, From: start, JWK: jwk})
	if err != nil {
		return nil, err
	}
	err = k.keys.InsertKey(ctx, store.Key{NS: nsIDKey, Key: name}, body, start.Add(3*idKeyRotate))
	if outcome.Is(err, outcome.Conflict) {
		return k.keys.GetKey(ctx, nsIDKey, name)
	}
	return body, err
}

// around returns the keys of the previous, current and next slots,
// creating the current and next ones when missing.
func (k *idTokenKeys) around(ctx context.Context, now time.Time) (prev, cur, next *idKey, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cached == nil || now.Sub(k.loaded) > 5*time.Minute {
		k.cached, k.loaded = map[string]*idKey{}, now
	}
	start := now.UTC().Truncate(idKeyRotate)
	if cur, err = k.slot(ctx, start, true); err == nil {
		next, err = k.slot(ctx, start.Add(idKeyRotate), true)
	}
	if err == nil {
		prev, err = k.slot(ctx, start.Add(-idKeyRotate), false)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("oauth: ID-token key: %w", err)
	}
	return prev, cur, next, nil
}

// public returns the public ID-token keys to publish.
func (k *idTokenKeys) public(ctx context.Context, now time.Time) ([]jose.JSONWebKey, error) {
	prev, cur, next, err := k.around(ctx, now)
	if err != nil {
		return nil, err
	}
	var out []jose.JSONWebKey
	for _, key := range []*idKey{prev, cur, next} {
		if key != nil {
			out = append(out, jose.JSONWebKey{Key: &key.priv.PublicKey, KeyID: key.KID, Algorithm: string(jose.RS256), Use: "sig"})
		}
	}
	return out, nil
}

// idClaims is an ID token's payload (OpenID Connect Core §2, SMART's
// fhirUser).
type idClaims struct {
	Issuer   string           `json:"iss"`
	Subject  string           `json:"sub"`
	Audience string           `json:"aud"`
	Expiry   *jwt.NumericDate `json:"exp"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	Nonce    string           `json:"nonce,omitempty"`
	FHIRUser string           `json:"fhirUser"`
}

// idToken signs the ID token of a grant for client c.
func (s *Server) idToken(ctx context.Context, c *Client, g *grant) (string, error) {
	now := s.now()
	_, key, _, err := s.idKeys.around(ctx, now)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key.priv, KeyID: key.KID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	cl := idClaims{Issuer: s.cfg.Issuer, Subject: g.FHIRUser, Audience: c.ID,
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(min(s.cfg.AccessTokenTTL, time.Hour))),
		Nonce: g.Nonce, FHIRUser: s.cfg.FHIRBaseURL + "/" + g.FHIRUser}
	if !g.AuthTime.IsZero() {
		cl.AuthTime = jwt.NewNumericDate(g.AuthTime)
	}
	return jwt.Signed(signer).Claims(cl).Serialize()
}

// jwksDocument is the JWKS: the access-token keys (token.Service) and the
// ID-token keys, in one set.
func (s *Server) jwksDocument(ctx context.Context) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	raw, err := s.tokens.JWKS(ctx)
	if err != nil {
		return set, err
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return set, err
	}
	ids, err := s.idKeys.public(ctx, s.now())
	if err != nil {
		return set, err
	}
	set.Keys = slices.Concat(set.Keys, ids)
	return set, nil
}
