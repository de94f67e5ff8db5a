package login

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// nsCode holds pending one-time codes by the SHA-256 of their challenge id.
const nsCode = "login.code"

// challenge is a pending one-time code. The browser holds its id; the
// store holds the id's SHA-256 as the key and the code as an HMAC keyed by
// the id, so reading the table gives neither the id nor, without trying a
// million HMACs per entry against an id it does not have, the code.
type challenge struct {
	Patient  string    `json:"patient,omitempty"` // "" when nobody matched: it never verifies
	Account  string    `json:"account"`           // the lockout key of the document typed
	MAC      []byte    `json:"mac"`
	Attempts int       `json:"attempts"`
	Expires  time.Time `json:"expires"`
}

// codePage is the data of code.html.
type codePage struct {
	Challenge string
}

// sendCode takes an identity document, sends a code to the contacts of the
// citizen registered with it and asks for the code. Unknown documents get
// the same answer (and a challenge that can never verify), so the page
// does not tell who is registered.
func (h *Handler) sendCode(w http.ResponseWriter, r *http.Request) {
	next, ok := nextOf(r)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgBadNext)
		return
	}
	if h.cfg.Sender == nil {
		h.fail(w, r, http.StatusServiceUnavailable, msgNoCodes)
		return
	}
	doc, err := identity.Parse(identity.Kind(r.PostFormValue("kind")), r.PostFormValue("number"), r.PostFormValue("country"))
	if err != nil {
		h.startPage(w, r, http.StatusBadRequest, next, &msgBadDocument)
		return
	}
	ctx := r.Context()
	acct := account("citizen", doc.System()+"|"+doc.Number)
	sends := account("citizen-send", doc.System()+"|"+doc.Number)
	for _, a := range []string{acct, sends} {
		if wait, err := h.limits.locked(ctx, a); err != nil || wait > 0 {
			h.lockedOut(w, r, wait, err)
			return
		}
	}
	// Sending counts against the document like a failure does, so nobody
	// can flood a citizen's phone: MaxFailures codes a window at most.
	if _, err := h.limits.failed(ctx, sends); err != nil {
		h.internal(w, r, "count code sends", err)
		return
	}
	id, err := h.newChallenge(ctx, doc, acct, r.PostFormValue("channel"))
	if err != nil {
		h.internal(w, r, "send code", err)
		return
	}
	h.render(w, r, http.StatusOK, "code.html", page{Title: text{"Enter your code", "輸入驗證碼"}, Next: next,
		Info: &msgCodeSent, Data: codePage{Challenge: id}})
}

// newChallenge stores a challenge for the citizen registered with doc (if
// any) and sends its code to their contact on channel (sms by default).
func (h *Handler) newChallenge(ctx context.Context, doc identity.Document, acct, channel string) (string, error) {
	patient, found, err := h.people.citizen(ctx, doc)
	if err != nil {
		return "", err
	}
	id, code := randomToken(), newCode()
	c := challenge{Account: acct, MAC: codeMAC(id, code), Expires: h.cfg.Now().Add(h.cfg.CodeTTL)}
	var to *Contact
	if found {
		contacts, err := h.people.contacts(ctx, patient)
		if err != nil {
			return "", err
		}
		to = pickContact(contacts, channel)
		if to != nil {
			c.Patient = patient
		}
	}
	if err := h.putChallenge(ctx, id, c); err != nil {
		return "", err
	}
	if to == nil {
		h.cfg.Log.Info("login: code asked for no reachable citizen")
		return id, nil
	}
	m := CodeMessage{Patient: "Patient/" + patient, To: *to, Code: code, Expires: c.Expires}
	if err := h.cfg.Sender.SendCode(ctx, m); err != nil {
		return "", fmt.Errorf("send code: %w", err)
	}
	return id, nil
}

// pickContact chooses the first contact of the channel asked for, or the
// first of any.
func pickContact(contacts []Contact, channel string) *Contact {
	for i, c := range contacts {
		if c.System == channel {
			return &contacts[i]
		}
	}
	if len(contacts) > 0 {
		return &contacts[0]
	}
	return nil
}

func (h *Handler) putChallenge(ctx context.Context, id string, c challenge) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return h.keys.PutKey(ctx, store.Key{NS: nsCode, Key: digest(id)}, b, c.Expires)
}

// verifyCode checks a code. The challenge is taken from the store (one
// request at a time can hold it), and put back after a wrong guess while
// guesses remain: a code works once, for CodeTTL, and CodeAttempts wrong
// guesses end it. Every wrong guess is also a failure of the document's
// account.
func (h *Handler) verifyCode(w http.ResponseWriter, r *http.Request) {
	next, ok := nextOf(r)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgBadNext)
		return
	}
	ctx := r.Context()
	id := r.PostFormValue("challenge")
	code := strings.Join(strings.Fields(r.PostFormValue("code")), "")
	c, ok, err := h.takeChallenge(ctx, id)
	if err != nil {
		h.internal(w, r, "take code", err)
		return
	}
	if !ok {
		h.startPage(w, r, http.StatusBadRequest, next, &msgBadCode)
		return
	}
	if wait, err := h.limits.locked(ctx, c.Account); err != nil || wait > 0 {
		h.lockedOut(w, r, wait, err)
		return
	}
	if c.Patient != "" && hmac.Equal(c.MAC, codeMAC(id, code)) {
		if err := h.limits.succeeded(ctx, c.Account); err != nil {
			h.internal(w, r, "reset failures", err)
			return
		}
		h.citizenSignedIn(w, r, c.Patient, next)
		return
	}
	h.wrongCode(w, r, id, c, next)
}

// wrongCode counts a wrong guess and asks again while the code lasts.
func (h *Handler) wrongCode(w http.ResponseWriter, r *http.Request, id string, c challenge, next string) {
	ctx := r.Context()
	wait, err := h.limits.failed(ctx, c.Account)
	if err != nil || wait > 0 {
		h.lockedOut(w, r, wait, err)
		return
	}
	c.Attempts++
	if c.Attempts >= h.cfg.CodeAttempts {
		h.startPage(w, r, http.StatusBadRequest, next, &msgBadCode)
		return
	}
	if err := h.putChallenge(ctx, id, c); err != nil {
		h.internal(w, r, "keep code", err)
		return
	}
	h.render(w, r, http.StatusBadRequest, "code.html", page{Title: text{"Enter your code", "輸入驗證碼"}, Next: next,
		Error: &msgBadCode, Data: codePage{Challenge: id}})
}

// takeChallenge takes the challenge id names; ok is false when there is
// none or it has expired.
func (h *Handler) takeChallenge(ctx context.Context, id string) (challenge, bool, error) {
	if len(id) != 43 {
		return challenge{}, false, nil
	}
	b, err := h.keys.TakeKey(ctx, nsCode, digest(id))
	if outcome.Is(err, outcome.NotFound) {
		return challenge{}, false, nil
	}
	if err != nil {
		return challenge{}, false, err
	}
	var c challenge
	if err := json.Unmarshal(b, &c); err != nil {
		return challenge{}, false, err
	}
	return c, h.cfg.Now().Before(c.Expires), nil
}

// citizenSignedIn starts a citizen's session after a code: they go on to
// next, by way of the offer of a passkey when they have none.
func (h *Handler) citizenSignedIn(w http.ResponseWriter, r *http.Request, patient, next string) {
	if err := h.linkPending(r.Context(), w, r, patient); err != nil {
		h.internal(w, r, "link upstream subject", err)
		return
	}
	creds, err := h.credentials(r.Context(), patient)
	if err != nil {
		h.internal(w, r, "list passkeys", err)
		return
	}
	if len(creds) == 0 && h.webauthn != nil {
		next = Path + "/passkey/offer?next=" + url.QueryEscape(next)
	}
	h.signIn(w, r, oauth.Who{FHIRUser: "Patient/" + patient, Method: "otp"}, next)
}

// lockedOut answers a locked account (429) or a failure to tell (500).
func (h *Handler) lockedOut(w http.ResponseWriter, r *http.Request, wait time.Duration, err error) {
	if err != nil {
		h.internal(w, r, "lockout", err)
		return
	}
	h.tooMany(w, r, wait)
}

// newCode returns six random digits.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// codeMAC is the HMAC-SHA256 of code keyed by the challenge id.
func codeMAC(id, code string) []byte {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte(code))
	return m.Sum(nil)
}
