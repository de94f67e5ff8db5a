package registry

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"time"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// DefaultAccessKeyCost is the PBKDF2-HMAC-SHA256 iteration count of an
// access-key hash. An access key has only 10^8 values, so a fast hash of it
// would be read back by trying them all; at this cost (tens of milliseconds
// a check) trying them all costs months of CPU per citizen. The key is a
// second factor beside the identity document, not a password on its own.
const DefaultAccessKeyCost = 200_000

// keyHash is what the keyed store holds for a citizen's access key.
type keyHash struct {
	Alg    string    `json:"alg"` // "pbkdf2-sha256"
	Iter   int       `json:"iter"`
	Salt   []byte    `json:"salt"`
	Hash   []byte    `json:"hash"`
	Issued time.Time `json:"issued"`
}

// hashAccessKey derives the stored form of key with a fresh salt.
func (r *Registry) hashAccessKey(key string) (keyHash, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	h, err := pbkdf2.Key(sha256.New, key, salt, r.keyCost, 32)
	if err != nil {
		return keyHash{}, err
	}
	return keyHash{Alg: "pbkdf2-sha256", Iter: r.keyCost, Salt: salt, Hash: h, Issued: r.now().UTC()}, nil
}

// issueAccessKey makes a new access key for the master Patient id, keeps
// its hash (replacing any earlier key) and returns the key itself, which is
// shown once and never stored.
func (r *Registry) issueAccessKey(ctx context.Context, patientID string) (string, error) {
	key := identity.AccessKey()
	h, err := r.hashAccessKey(key)
	if err != nil {
		return "", outcome.Wrap(outcome.Internal, "registry: hash access key", err)
	}
	data, err := json.Marshal(h)
	if err != nil {
		return "", outcome.Wrap(outcome.Internal, "registry: encode access key", err)
	}
	if err := r.keys.PutKey(ctx, store.Key{NS: AccessKeyNS, Key: patientID}, data, time.Time{}); err != nil {
		return "", outcome.Wrap(outcome.Internal, "registry: store access key", err)
	}
	return key, nil
}

// VerifyAccessKey reports whether key is the access key issued to the
// master Patient patientID (false, with no error, when none was issued or
// the citizen has withdrawn). It compares in constant time.
func (r *Registry) VerifyAccessKey(ctx context.Context, patientID, key string) (bool, error) {
	if !identity.ValidAccessKey(key) {
		return false, nil
	}
	data, err := r.keys.GetKey(ctx, AccessKeyNS, patientID)
	if outcome.Is(err, outcome.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var h keyHash
	if err := json.Unmarshal(data, &h); err != nil || h.Alg != "pbkdf2-sha256" {
		return false, outcome.New(outcome.Internal, "registry: the stored access key of Patient/%s is unreadable", patientID)
	}
	got, err := pbkdf2.Key(sha256.New, key, h.Salt, h.Iter, len(h.Hash))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, h.Hash) == 1, nil
}
