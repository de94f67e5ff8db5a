package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
)

// offerPasskey offers a citizen just signed in with a code to register a
// passkey (or to go on without).
func (h *Handler) offerPasskey(w http.ResponseWriter, r *http.Request) {
	next, ok := nextOf(r)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgBadNext)
		return
	}
	if _, ok := h.freshCitizen(r); !ok {
		redirect(w, r, Path+"?next="+url.QueryEscape(next))
		return
	}
	h.render(w, r, http.StatusOK, "offer.html", page{Title: text{"Add a passkey", "新增通行密鑰"}, Next: next})
}

// freshCitizen returns the signed-in citizen if they authenticated within
// DefaultPasskeyFreshFor: adding a passkey needs a recent proof of who they
// are, not a day-old session.
func (h *Handler) freshCitizen(r *http.Request) (string, bool) {
	who, _, ok := h.sessions.Current(r)
	if !ok || h.cfg.Now().Sub(who.AuthTime) > DefaultPasskeyFreshFor {
		return "", false
	}
	return patientOf(who.FHIRUser)
}

// beginResponse is what a begin step answers: the ceremony to name in the
// finish step and the options for navigator.credentials.
type beginResponse struct {
	Ceremony string `json:"ceremony"`
	Options  any    `json:"options"`
}

// beginRegistration starts adding a passkey for the signed-in citizen: a
// discoverable credential with user verification, excluding the ones they
// have.
func (h *Handler) beginRegistration(w http.ResponseWriter, r *http.Request) {
	next, ok := nextOf(r)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgBadNext)
		return
	}
	patient, ok := h.freshCitizen(r)
	if !ok {
		h.fail(w, r, http.StatusUnauthorized, msgNotSignedIn)
		return
	}
	user, ok, err := h.citizen(r.Context(), patient)
	if err != nil || !ok {
		h.internal(w, r, "read citizen", errors.Join(err, errors.New("signed-in citizen not found")))
		return
	}
	creation, session, err := h.webauthn.BeginRegistration(user,
		webauthn.WithExclusions(webauthn.Credentials(user.creds).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		h.internal(w, r, "begin registration", err)
		return
	}
	id, err := h.putCeremony(r.Context(), ceremony{Kind: "register", Patient: patient, Next: next, Session: *session})
	if err != nil {
		h.internal(w, r, "begin registration", err)
		return
	}
	writeJSON(w, http.StatusOK, beginResponse{Ceremony: id, Options: creation})
}

// finishRegistration verifies the new credential (challenge, origin, RP id,
// user presence and verification) and stores it.
func (h *Handler) finishRegistration(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok, err := h.takeCeremony(ctx, r.URL.Query().Get("ceremony"), "register")
	if err != nil {
		h.internal(w, r, "finish registration", err)
		return
	}
	patient, fresh := h.freshCitizen(r)
	if !ok || !fresh || patient != c.Patient {
		h.fail(w, r, http.StatusBadRequest, msgPasskeyFailed)
		return
	}
	user, ok, err := h.citizen(ctx, patient)
	if err != nil || !ok {
		h.internal(w, r, "read citizen", errors.Join(err, errors.New("signed-in citizen not found")))
		return
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(r.Body)
	if err != nil {
		h.passkeyRefused(w, r, "registration", err)
		return
	}
	cred, err := h.webauthn.CreateCredential(user, c.Session, parsed)
	if err != nil {
		h.passkeyRefused(w, r, "registration", err)
		return
	}
	if err := h.saveNewCredential(ctx, patient, cred); err != nil {
		if errors.Is(err, errDuplicateCredential) {
			h.passkeyRefused(w, r, "registration", err)
			return
		}
		h.internal(w, r, "store passkey", err)
		return
	}
	h.cfg.Log.Info("login: passkey registered", "fhirUser", "Patient/"+patient)
	writeJSON(w, http.StatusOK, map[string]string{"redirect": c.Next})
}

// beginPasskey starts a sign-in with a discoverable passkey: no user named,
// user verification required.
func (h *Handler) beginPasskey(w http.ResponseWriter, r *http.Request) {
	next, ok := nextOf(r)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgBadNext)
		return
	}
	assertion, session, err := h.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		h.internal(w, r, "begin passkey sign-in", err)
		return
	}
	id, err := h.putCeremony(r.Context(), ceremony{Kind: "login", Next: next, Session: *session})
	if err != nil {
		h.internal(w, r, "begin passkey sign-in", err)
		return
	}
	writeJSON(w, http.StatusOK, beginResponse{Ceremony: id, Options: assertion})
}

// finishPasskey verifies an assertion against the credential its user
// handle and id name, refuses a sign count that did not go up (a cloned
// authenticator), stores the new count and signs the citizen in.
func (h *Handler) finishPasskey(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok, err := h.takeCeremony(ctx, r.URL.Query().Get("ceremony"), "login")
	if err != nil {
		h.internal(w, r, "finish passkey sign-in", err)
		return
	}
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgPasskeyFailed)
		return
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(r.Body)
	if err != nil {
		h.passkeyRefused(w, r, "sign-in", err)
		return
	}
	patient := string(parsed.Response.UserHandle)
	acct := account("passkey", patient)
	if wait, err := h.limits.locked(ctx, acct); err != nil || wait > 0 {
		h.lockedOut(w, r, wait, err)
		return
	}
	var user *citizenUser
	lookup := func(rawID, handle []byte) (webauthn.User, error) {
		u, ok, err := h.citizen(ctx, string(handle))
		if err == nil && !ok {
			err = errors.New("no such citizen")
		}
		user = u
		return u, err
	}
	_, cred, err := h.webauthn.ValidatePasskeyLogin(lookup, c.Session, parsed)
	if err == nil && cred.Authenticator.CloneWarning {
		err = errors.New("sign count did not increase: a cloned or replayed authenticator")
	}
	if err != nil {
		if wait, ferr := h.limits.failed(ctx, acct); ferr != nil || wait > 0 {
			h.lockedOut(w, r, wait, ferr)
			return
		}
		h.passkeyRefused(w, r, "sign-in", err)
		return
	}
	if err := h.limits.succeeded(ctx, acct); err != nil {
		h.internal(w, r, "reset failures", err)
		return
	}
	stored := storedCredential{Patient: user.patient, Credential: *cred, LastUsed: h.cfg.Now().UTC()}
	if old, err := h.credentials(ctx, user.patient); err == nil {
		for _, o := range old {
			if credKey(o.Credential.ID) == credKey(cred.ID) {
				stored.Created = o.Created
			}
		}
	}
	if err := h.putCredential(ctx, stored); err != nil {
		h.internal(w, r, "update passkey", err)
		return
	}
	if err := h.linkPending(ctx, w, r, user.patient); err != nil {
		h.internal(w, r, "link upstream subject", err)
		return
	}
	h.signIn(w, r, oauth.Who{FHIRUser: "Patient/" + user.patient, Method: "passkey"}, c.Next)
}

// passkeyRefused answers a credential or assertion that did not verify.
func (h *Handler) passkeyRefused(w http.ResponseWriter, r *http.Request, step string, err error) {
	var perr *protocol.Error
	detail := err.Error()
	if errors.As(err, &perr) {
		detail = perr.Details + " " + perr.DevInfo
	}
	h.cfg.Log.Warn("login: passkey refused", "step", step, "reason", detail)
	h.fail(w, r, http.StatusUnauthorized, msgPasskeyFailed)
}
