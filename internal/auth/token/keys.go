package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Namespace is the keyed-store namespace of the signing keys.
const Namespace = "auth.signing-key"

const (
	// refreshEvery is how long the cached keys are trusted before they are
	// read again (a key deleted from the store stops verifying after it).
	refreshEvery = 5 * time.Minute
	// reloadEvery is the least time between two reads of the keys, however
	// many tokens with unknown kids arrive.
	reloadEvery = 10 * time.Second
)

// keyRecord is a signing key as stored: the private key as a JWK and the
// times it signs and verifies.
type keyRecord struct {
	KID         string          `json:"kid"`
	SignFrom    time.Time       `json:"signFrom"`
	SignUntil   time.Time       `json:"signUntil"`
	VerifyUntil time.Time       `json:"verifyUntil"`
	Key         json.RawMessage `json:"key"`
}

// signingKey is a loaded key.
type signingKey struct {
	kid         string
	signFrom    time.Time // its slot: [signFrom, signUntil)
	signUntil   time.Time
	verifyUntil time.Time // signUntil + MaxTTL + MaxLeeway
	public      *ecdsa.PublicKey
	signer      jose.Signer
}

// keySet is one snapshot of the keys, replaced whole on every load.
type keySet struct {
	byKID  map[string]*signingKey
	active *signingKey // the key of the slot current at loaded; nil if none yet
	loaded time.Time   // by the service's clock
}

// get returns the key named kid if it may verify at now.
func (s *keySet) get(kid string, now time.Time) *signingKey {
	if s == nil {
		return nil
	}
	k := s.byKID[kid]
	if k == nil || !now.Before(k.verifyUntil) {
		return nil
	}
	return k
}

// slotKey is the store key of the slot starting at start with the given
// period. The period is part of it, so servers configured with different
// periods never take each other's key for a slot of another length.
func slotKey(start time.Time, period time.Duration) string {
	return fmt.Sprintf("%s/%d", start.UTC().Format(time.RFC3339), int64(period/time.Second))
}

// newKeyRecord generates the key for the slot starting at start.
func newKeyRecord(start time.Time, period time.Duration) (keyRecord, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyRecord{}, err
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: string(jose.ES256), Use: "sig"}
	kid, err := thumbprint(jwk)
	if err != nil {
		return keyRecord{}, err
	}
	jwk.KeyID = kid
	body, err := jwk.MarshalJSON()
	if err != nil {
		return keyRecord{}, err
	}
	until := start.Add(period)
	return keyRecord{KID: kid, SignFrom: start, SignUntil: until, VerifyUntil: until.Add(MaxTTL + MaxLeeway), Key: body}, nil
}

// thumbprint is the key's RFC 7638 thumbprint (SHA-256, base64url): its kid.
func thumbprint(jwk jose.JSONWebKey) (string, error) {
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// load turns a stored record into a key that can sign and verify.
func (r keyRecord) load() (*signingKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(r.Key); err != nil {
		return nil, err
	}
	priv, ok := jwk.Key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("key %s is not a P-256 private key", r.KID)
	}
	if kid, err := thumbprint(jwk); err != nil || kid != r.KID || jwk.KeyID != r.KID {
		return nil, fmt.Errorf("key %s: kid does not match the key's thumbprint", r.KID)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: r.KID}},
		(&jose.SignerOptions{}).WithType(accessTokenType))
	if err != nil {
		return nil, err
	}
	return &signingKey{kid: r.KID, signFrom: r.SignFrom, signUntil: r.SignUntil, verifyUntil: r.VerifyUntil,
		public: &priv.PublicKey, signer: signer}, nil
}

// ensureSlot makes sure the slot starting at start has a key in the store.
// Of several processes doing this at once, InsertKey lets one win; the
// others find its key when they next read the keys.
func (s *Service) ensureSlot(ctx context.Context, start time.Time) error {
	key := slotKey(start, s.rotate)
	if _, err := s.keys.GetKey(ctx, Namespace, key); err == nil || !outcome.Is(err, outcome.NotFound) {
		return err
	}
	rec, err := newKeyRecord(start, s.rotate)
	if err != nil {
		return fmt.Errorf("token: generate signing key: %w", err)
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if s.beforeInsert != nil {
		s.beforeInsert(key)
	}
	err = s.keys.InsertKey(ctx, store.Key{NS: Namespace, Key: key}, body, rec.VerifyUntil)
	if outcome.Is(err, outcome.Conflict) {
		return nil
	}
	return err
}

// read loads every key of the namespace that may still verify at now and
// publishes the snapshot. A record that cannot be loaded is logged and
// skipped: one bad row must not stop every token from verifying.
func (s *Service) read(ctx context.Context, now time.Time) (*keySet, error) {
	kvs, err := s.keys.ListKeys(ctx, Namespace, "", 0)
	if err != nil {
		return nil, fmt.Errorf("token: read signing keys: %w", err)
	}
	set := &keySet{byKID: make(map[string]*signingKey, len(kvs)), loaded: now}
	slot := s.slotOf(now)
	for _, kv := range kvs {
		var rec keyRecord
		k, err := func() (*signingKey, error) {
			if err := json.Unmarshal(kv.Value, &rec); err != nil {
				return nil, err
			}
			return rec.load()
		}()
		if err != nil {
			s.log.Warn("token: skipping a signing key that does not load", "key", kv.Key.Key, "err", err)
			continue
		}
		if !now.Before(k.verifyUntil) {
			continue
		}
		set.byKID[k.kid] = k
		if k.signFrom.Equal(slot) && k.signUntil.Equal(slot.Add(s.rotate)) {
			set.active = k
		}
	}
	s.set.Store(set)
	return set, nil
}

// slotOf is the start of the rotation slot holding t.
func (s *Service) slotOf(t time.Time) time.Time { return t.UTC().Truncate(s.rotate) }

// activeKey returns the key that signs at now, creating it (and the next
// slot's) in the store when the slot has none yet.
func (s *Service) activeKey(ctx context.Context, now time.Time) (*signingKey, error) {
	if k := s.set.Load().activeAt(now, s); k != nil {
		return k, nil
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if k := s.set.Load().activeAt(now, s); k != nil {
		return k, nil
	}
	slot := s.slotOf(now)
	for _, start := range []time.Time{slot, slot.Add(s.rotate)} {
		if err := s.ensureSlot(ctx, start); err != nil {
			return nil, fmt.Errorf("token: signing key for %s: %w", start.Format(time.RFC3339), err)
		}
	}
	s.lastRead = now
	set, err := s.read(ctx, now)
	if err != nil {
		return nil, err
	}
	if set.active == nil {
		return nil, fmt.Errorf("token: no signing key for the slot starting %s after creating it", slot.Format(time.RFC3339))
	}
	return set.active, nil
}

// activeAt returns the snapshot's signing key if it is fresh and still the
// one for now's slot.
func (set *keySet) activeAt(now time.Time, s *Service) *signingKey {
	if set == nil || set.active == nil || now.Sub(set.loaded) >= refreshEvery || !set.active.signFrom.Equal(s.slotOf(now)) {
		return nil
	}
	return set.active
}

// lookup returns the key named kid that may verify a token at now. An
// unknown kid makes it read the keys again, unless they were read less than
// reloadEvery ago.
func (s *Service) lookup(ctx context.Context, kid string, now time.Time) (*signingKey, error) {
	set := s.set.Load()
	if k := set.get(kid, now); k != nil && now.Sub(set.loaded) < refreshEvery {
		return k, nil
	}
	set, err := s.reread(ctx, now)
	if k := set.get(kid, now); k != nil {
		return k, nil // a known key still verifies while the database is away
	}
	if err != nil {
		return nil, err
	}
	return nil, invalidToken("the token is signed with an unknown or retired key")
}

// reread reads the keys again unless that was tried less than reloadEvery
// ago; it returns the newest snapshot either way.
func (s *Service) reread(ctx context.Context, now time.Time) (*keySet, error) {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if !s.lastRead.IsZero() && now.Sub(s.lastRead) < reloadEvery && now.Sub(s.lastRead) >= 0 {
		return s.set.Load(), nil
	}
	s.lastRead = now
	set, err := s.read(ctx, now)
	if err != nil {
		s.log.Warn("token: reading signing keys failed", "err", err)
		return s.set.Load(), err
	}
	return set, nil
}
