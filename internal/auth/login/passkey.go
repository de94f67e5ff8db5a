package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Namespaces of passkeys and ceremonies.
const (
	nsPasskey   = "login.passkey"    // Patient id + "/" + credential id → storedCredential
	nsPasskeyID = "login.passkey.id" // credential id → Patient id
	nsCeremony  = "login.ceremony"   // SHA-256 of the ceremony id → ceremony
)

// storedCredential is a citizen's passkey. Kept without expiry: a citizen
// removes a passkey (or the operator does), it does not lapse.
type storedCredential struct {
	Patient    string              `json:"patient"`
	Credential webauthn.Credential `json:"credential"`
	Created    time.Time           `json:"created"`
	LastUsed   time.Time           `json:"lastUsed,omitzero"`
}

// citizenUser is a citizen as go-webauthn sees them. The user handle is
// the master Patient's id: server-assigned, not an identity number.
type citizenUser struct {
	patient string
	name    string
	creds   []webauthn.Credential
}

func (u *citizenUser) WebAuthnID() []byte                         { return []byte(u.patient) }
func (u *citizenUser) WebAuthnName() string                       { return u.name }
func (u *citizenUser) WebAuthnDisplayName() string                { return u.name }
func (u *citizenUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credKey is a credential id as a key: base64url without padding.
func credKey(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

// credentials returns a citizen's passkeys.
func (h *Handler) credentials(ctx context.Context, patient string) ([]storedCredential, error) {
	kvs, err := h.keys.ListKeys(ctx, nsPasskey, patient+"/", 0)
	if err != nil {
		return nil, fmt.Errorf("login: list passkeys: %w", err)
	}
	out := make([]storedCredential, 0, len(kvs))
	for _, kv := range kvs {
		var c storedCredential
		if err := json.Unmarshal(kv.Value, &c); err != nil {
			return nil, fmt.Errorf("login: decode passkey: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// citizen returns the webauthn user of an active citizen; ok is false for
// an unknown or inactive Patient.
func (h *Handler) citizen(ctx context.Context, patient string) (*citizenUser, bool, error) {
	p, ok, err := h.people.read(ctx, "Patient", patient)
	if err != nil || !ok {
		return nil, false, err
	}
	stored, err := h.credentials(ctx, patient)
	if err != nil {
		return nil, false, err
	}
	u := &citizenUser{patient: patient, name: displayName(p)}
	if u.name == "" {
		u.name = "Patient/" + patient
	}
	for _, c := range stored {
		u.creds = append(u.creds, c.Credential)
	}
	return u, true, nil
}

// saveNewCredential stores a citizen's new passkey; a credential id seen
// before (on anyone) is refused.
func (h *Handler) saveNewCredential(ctx context.Context, patient string, cred *webauthn.Credential) error {
	id := credKey(cred.ID)
	err := h.keys.InsertKey(ctx, store.Key{NS: nsPasskeyID, Key: id}, []byte(patient), time.Time{})
	if outcome.Is(err, outcome.Conflict) {
		return errDuplicateCredential
	}
	if err != nil {
		return fmt.Errorf("login: index passkey: %w", err)
	}
	return h.putCredential(ctx, storedCredential{Patient: patient, Credential: *cred, Created: h.cfg.Now().UTC()})
}

var errDuplicateCredential = errors.New("login: credential id already registered")

func (h *Handler) putCredential(ctx context.Context, c storedCredential) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	k := store.Key{NS: nsPasskey, Key: c.Patient + "/" + credKey(c.Credential.ID)}
	if err := h.keys.PutKey(ctx, k, b, time.Time{}); err != nil {
		return fmt.Errorf("login: store passkey: %w", err)
	}
	return nil
}

// ceremony is a WebAuthn registration or sign-in between its two steps.
type ceremony struct {
	Kind    string               `json:"kind"` // "register" or "login"
	Patient string               `json:"patient,omitempty"`
	Next    string               `json:"next"`
	Session webauthn.SessionData `json:"session"`
}

// putCeremony stores c and returns its id.
func (h *Handler) putCeremony(ctx context.Context, c ceremony) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	id := randomToken()
	k := store.Key{NS: nsCeremony, Key: digest(id)}
	if err := h.keys.PutKey(ctx, k, b, h.cfg.Now().Add(DefaultCeremonyTTL)); err != nil {
		return "", fmt.Errorf("login: store ceremony: %w", err)
	}
	return id, nil
}

// takeCeremony takes the ceremony of kind with id (once: a challenge is
// single-use); ok is false when there is none.
func (h *Handler) takeCeremony(ctx context.Context, id, kind string) (ceremony, bool, error) {
	if len(id) != 43 {
		return ceremony{}, false, nil
	}
	b, err := h.keys.TakeKey(ctx, nsCeremony, digest(id))
	if outcome.Is(err, outcome.NotFound) {
		return ceremony{}, false, nil
	}
	if err != nil {
		return ceremony{}, false, fmt.Errorf("login: take ceremony: %w", err)
	}
	var c ceremony
	if err := json.Unmarshal(b, &c); err != nil {
		return ceremony{}, false, fmt.Errorf("login: decode ceremony: %w", err)
	}
	return c, c.Kind == kind, nil
}

// patientOf returns the id of a Patient/ID reference.
func patientOf(fhirUser string) (string, bool) {
	id, ok := strings.CutPrefix(fhirUser, "Patient/")
	return id, ok && id != ""
}
