package consent

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// The keyed-store namespaces the operations own.
const (
	// codeNS holds pending one-time codes by the SHA-256 of (purpose,
	// patient, practitioner): only the code's HMAC under a random salt.
	codeNS = "consent.code"
	// keyFailNS counts wrong access keys per patient, so a key cannot be
	// guessed through the clinic operations.
	keyFailNS = "consent.key-failures"
)

// The purposes a one-time code is sent for.
const (
	purposeClinic     = "clinic"     // the citizen is at the clinic: $share, $care-relationship
	purposeRestricted = "restricted" // the citizen lets one professional open restricted records
)

// maxKeyFailures wrong access keys in keyFailWindow stop access-key checks
// for the patient until the window ends.
const (
	maxKeyFailures = 5
	keyFailWindow  = 15 * time.Minute
)

// pending is a one-time code waiting to be used.
type pending struct {
	Salt     []byte    `json:"salt"`
	MAC      []byte    `json:"mac"`
	Attempts int       `json:"attempts"`
	Expires  time.Time `json:"expires"`
	Org      string    `json:"org"`
	Reason   string    `json:"reason,omitempty"`
}

func codeKey(purpose, patientID, practitioner string) string {
	h := sha256.Sum256([]byte(purpose + "\x00" + patientID + "\x00" + practitioner))
	return hex.EncodeToString(h[:])
}

func codeMAC(salt []byte, code string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(code))
	return m.Sum(nil)
}

// newCode makes a six-digit code for practitioner (of org) to use on
// patientID for purpose, keeps only its salted HMAC (replacing an earlier
// code for the same), and returns the code.
func (o *Operations) newCode(ctx context.Context, purpose, patientID, practitioner, org, reason string) (string, time.Time, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", time.Time{}, err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	p := pending{Salt: salt, MAC: codeMAC(salt, code), Expires: o.now().Add(o.policy.codeTTL()), Org: org, Reason: reason}
	data, err := json.Marshal(p)
	if err != nil {
		return "", time.Time{}, err
	}
	k := store.Key{NS: codeNS, Key: codeKey(purpose, patientID, practitioner)}
	if err := o.store.PutKey(ctx, k, data, p.Expires); err != nil {
		return "", time.Time{}, outcome.Wrap(outcome.Internal, "consent: keep a one-time code", err)
	}
	return code, p.Expires, nil
}

// useCode checks code against the pending one for (purpose, patientID,
// practitioner) in constant time. The pending code is taken from the
// store, so two requests cannot both use it, and put back after a wrong
// guess while guesses remain: a code works once, until it expires, and
// Policy.CodeAttempts wrong guesses end it.
func (o *Operations) useCode(ctx context.Context, purpose, patientID, practitioner, code string) (pending, bool, error) {
	key := codeKey(purpose, patientID, practitioner)
	data, err := o.store.TakeKey(ctx, codeNS, key)
	if outcome.Is(err, outcome.NotFound) {
		return pending{}, false, nil
	}
	if err != nil {
		return pending{}, false, outcome.Wrap(outcome.Internal, "consent: take a one-time code", err)
	}
	var p pending
	if err := json.Unmarshal(data, &p); err != nil {
		return pending{}, false, outcome.Wrap(outcome.Internal, "consent: decode a one-time code", err)
	}
	if !o.now().Before(p.Expires) {
		return pending{}, false, nil
	}
	code = strings.Join(strings.Fields(code), "")
	if hmac.Equal(p.MAC, codeMAC(p.Salt, code)) {
		return p, true, nil
	}
	p.Attempts++
	if p.Attempts < o.policy.codeAttempts() {
		data, _ := json.Marshal(p)
		if err := o.store.PutKey(ctx, store.Key{NS: codeNS, Key: key}, data, p.Expires); err != nil {
			return pending{}, false, outcome.Wrap(outcome.Internal, "consent: keep a one-time code", err)
		}
	}
	return pending{}, false, nil
}

// accessKey checks a citizen's access key, refusing every check once
// maxKeyFailures wrong ones were given in keyFailWindow.
func (o *Operations) accessKey(ctx context.Context, patientID, key string) (bool, error) {
	if o.citizens.VerifyAccessKey == nil {
		return false, nil
	}
	var fails struct {
		N     int       `json:"n"`
		Until time.Time `json:"until"`
	}
	data, err := o.store.GetKey(ctx, keyFailNS, patientID)
	if err == nil {
		_ = json.Unmarshal(data, &fails)
	} else if !outcome.Is(err, outcome.NotFound) {
		return false, err
	}
	if fails.N >= maxKeyFailures {
		return false, nil
	}
	ok, err := o.citizens.VerifyAccessKey(ctx, patientID, key)
	if err != nil || ok {
		return ok, err
	}
	fails.N++
	if fails.Until.IsZero() {
		fails.Until = time.Now().Add(keyFailWindow)
	}
	data, _ = json.Marshal(fails)
	return false, o.store.PutKey(ctx, store.Key{NS: keyFailNS, Key: patientID}, data, fails.Until)
}

// atClinic checks that the citizen patientID is at practitioner's clinic:
// they gave their access key, or the one-time code $share-code sent them.
func (o *Operations) atClinic(ctx context.Context, in params, patientID, practitioner string) (bool, error) {
	key, err := in.str("accessKey")
	if err != nil {
		return false, err
	}
	code, err := in.str("code")
	if err != nil {
		return false, err
	}
	switch {
	case key != "" && code != "":
		return false, outcome.At(outcome.Invalid, at("code"), "give the access key or a one-time code, not both")
	case key != "":
		return o.accessKey(ctx, patientID, key)
	case code != "":
		_, ok, err := o.useCode(ctx, purposeClinic, patientID, practitioner, code)
		return ok, err
	}
	return false, outcome.At(outcome.Invalid, "Parameters.parameter", "at the clinic, give the citizen's access key (accessKey) or the one-time code sent to them (code)")
}

// sendCode makes a one-time code and writes the notice that carries it to
// the citizen — or to their substitute decision makers, who authorise for
// a child. The notice is labelled restricted (v3-Confidentiality R), so
// it is filed with the restricted records, out of reach of the
// professional who asked for it.
func (o *Operations) sendCode(ctx context.Context, purpose, patientID, practitioner, org, reason string, say func(code string, expires time.Time) notify.Message) error {
	code, expires, err := o.newCode(ctx, purpose, patientID, practitioner, org, reason)
	if err != nil {
		return err
	}
	to, err := o.sdms(ctx, patientID)
	if err != nil {
		return err
	}
	n := o.notice(notify.KindOneTimeCode, patientID, to, say(code, expires))
	n.res["meta"] = map[string]any{"security": []any{restrictedLabel()}}
	_, err = o.transact(ctx, n)
	return err
}

// The restricted label (https://hl7.org/fhir/R4/v3/Confidentiality/cs.html).
const (
	ConfidentialitySystem = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	Restricted            = "R"
)

func restrictedLabel() map[string]any {
	return map[string]any{"system": ConfidentialitySystem, "code": Restricted, "display": "restricted"}
}
