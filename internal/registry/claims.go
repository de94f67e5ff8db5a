package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// claimGrace is how long a claim whose master Patient does not exist yet
// is taken to be a registration in flight; after it the claim is stale (a
// crash between claim and commit) and a new registration may take it.
const claimGrace = 2 * time.Minute

// claim is the keyed store's entry for one identity document.
type claim struct {
	Patient string    `json:"patient"`
	At      time.Time `json:"at"`
}

// claimKey names doc's claim: a SHA-256 of its number, so the keyed store
// holds no identity number in the clear. An HKID and a birth certificate
// with one number are one person's (the card takes the certificate's
// number), so they share a claim.
func claimKey(doc identity.Document) string {
	scope := doc.System()
	if doc.Kind == identity.HKID || doc.Kind == identity.BirthCertificate {
		scope = "hk-person"
	}
	sum := sha256.Sum256([]byte(scope + "|" + doc.Number))
	return hex.EncodeToString(sum[:])
}

// errRegistered is the answer to a second registration of a document: it
// names no number and no patient.
func errRegistered() error {
	return outcome.New(outcome.Conflict, "this identity document is already registered with eHealth; a citizen registers once")
}

// claim reserves doc for the master Patient patientID, atomically: of two
// registrations of one document only one gets it. A claim held by a
// Patient that exists is a registration (409); one without its Patient
// after claimGrace is stale and taken over.
func (r *Registry) claim(ctx context.Context, doc identity.Document, patientID string) error {
	data, _ := json.Marshal(claim{Patient: patientID, At: r.now().UTC()})
	k := store.Key{NS: ClaimNS, Key: claimKey(doc)}
	for attempt := 0; attempt < 2; attempt++ {
		err := r.keys.InsertKey(ctx, k, data, time.Time{})
		if !outcome.Is(err, outcome.Conflict) {
			return err
		}
		held, err := r.holder(ctx, doc)
		if err != nil {
			return err
		}
		if held.Patient != "" {
			if _, err := r.svc.Read(ctx, resource.Caller{}, "Patient", held.Patient); err == nil || outcome.Is(err, outcome.Gone) {
				return errRegistered()
			} else if !outcome.Is(err, outcome.NotFound) {
				return err
			}
		}
		if r.now().Sub(held.At) < claimGrace {
			return errRegistered() // a registration of it is in flight
		}
		r.log.Warn("taking over a stale identity-document claim", "document", doc, "patient", held.Patient)
		if _, err := r.keys.TakeKey(ctx, ClaimNS, k.Key); err != nil && !outcome.Is(err, outcome.NotFound) {
			return err
		}
	}
	return errRegistered()
}

// holder reads doc's claim (zero when there is none).
func (r *Registry) holder(ctx context.Context, doc identity.Document) (claim, error) {
	data, err := r.keys.GetKey(ctx, ClaimNS, claimKey(doc))
	if outcome.Is(err, outcome.NotFound) {
		return claim{}, nil
	}
	if err != nil {
		return claim{}, err
	}
	var c claim
	if err := json.Unmarshal(data, &c); err != nil {
		return claim{}, outcome.Wrap(outcome.Internal, "registry: decode a document claim", err)
	}
	return c, nil
}

// release drops doc's claim if patientID holds it (a registration that
// failed, or a document a merge marked old).
func (r *Registry) release(ctx context.Context, doc identity.Document, patientID string) error {
	held, err := r.holder(ctx, doc)
	if err != nil || held.Patient != patientID {
		return err
	}
	return r.keys.DeleteKey(ctx, ClaimNS, claimKey(doc))
}

// assign makes patientID hold doc's claim (merge and unmerge move claims).
func (r *Registry) assign(ctx context.Context, doc identity.Document, patientID string) error {
	data, _ := json.Marshal(claim{Patient: patientID, At: r.now().UTC()})
	return r.keys.PutKey(ctx, store.Key{NS: ClaimNS, Key: claimKey(doc)}, data, time.Time{})
}
