package login

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// nsPending holds a professional between authentication and the choice of
// a role, by the SHA-256 of the id the role form carries.
const nsPending = "login.pending"

// methodPasswordTOTP is the Who.Method of a professional's sign-in.
const methodPasswordTOTP = "password+totp"

// pendingPro is an authenticated professional who has yet to choose a role.
type pendingPro struct {
	Practitioner string `json:"practitioner"`
	Roles        []Role `json:"roles"`
	Next         string `json:"next"`
}

// roleData is the data of role.html.
type roleData struct {
	Pending string
	Roles   []Role
}

// professionalPage is the professionals' sign-in form.
func (h *Handler) professionalPage(w http.ResponseWriter, r *http.Request) {
	next, ok := nextOf(r)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgBadNext)
		return
	}
	h.render(w, r, http.StatusOK, "professional.html", page{Title: text{"Healthcare professionals", "醫護專業人員"}, Next: next})
}

// professional checks a username, password and TOTP code, then signs the
// professional in as their only role or asks which one.
func (h *Handler) professional(w http.ResponseWriter, r *http.Request) {
	next, ok := nextOf(r)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgBadNext)
		return
	}
	ctx := r.Context()
	username := normalUsername(r.PostFormValue("username"))
	acct := account("professional", username)
	if wait, err := h.limits.locked(ctx, acct); err != nil || wait > 0 {
		h.lockedOut(w, r, wait, err)
		return
	}
	acc, ok, err := h.accounts.authenticate(ctx, username, r.PostFormValue("password"), r.PostFormValue("code"))
	if err != nil {
		h.internal(w, r, "authenticate professional", err)
		return
	}
	if !ok {
		if wait, err := h.limits.failed(ctx, acct); err != nil || wait > 0 {
			h.lockedOut(w, r, wait, err)
			return
		}
		h.render(w, r, http.StatusUnauthorized, "professional.html", page{Title: text{"Healthcare professionals", "醫護專業人員"},
			Next: next, Error: &msgBadCredentials})
		return
	}
	if err := h.limits.succeeded(ctx, acct); err != nil {
		h.internal(w, r, "reset failures", err)
		return
	}
	roles, err := h.people.roles(ctx, acc.Practitioner)
	if err != nil {
		h.internal(w, r, "read roles", err)
		return
	}
	switch len(roles) {
	case 0:
		h.fail(w, r, http.StatusForbidden, msgNoRole)
	case 1:
		h.signIn(w, r, proWho(acc.Practitioner, roles[0]), next)
	default:
		h.askRole(w, r, pendingPro{Practitioner: acc.Practitioner, Roles: roles, Next: next})
	}
}

func proWho(practitioner string, role Role) oauth.Who {
	return oauth.Who{FHIRUser: practitioner, Org: role.Org, Role: role.Ref, Method: methodPasswordTOTP}
}

// askRole keeps the professional pending and shows their roles.
func (h *Handler) askRole(w http.ResponseWriter, r *http.Request, p pendingPro) {
	id, err := h.putPending(r.Context(), p)
	if err != nil {
		h.internal(w, r, "keep pending professional", err)
		return
	}
	h.render(w, r, http.StatusOK, "role.html", page{Title: text{"Choose your role", "選擇你的職位"}, Next: p.Next,
		Data: roleData{Pending: id, Roles: p.Roles}})
}

// chooseRole signs the professional in as the role chosen, which must be
// one of those offered.
func (h *Handler) chooseRole(w http.ResponseWriter, r *http.Request) {
	p, ok, err := h.takePending(r.Context(), r.PostFormValue("pending"))
	if err != nil {
		h.internal(w, r, "take pending professional", err)
		return
	}
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgBadCredentials)
		return
	}
	for _, role := range p.Roles {
		if role.Ref == r.PostFormValue("role") {
			h.signIn(w, r, proWho(p.Practitioner, role), p.Next)
			return
		}
	}
	h.fail(w, r, http.StatusBadRequest, msgNoRole)
}

func (h *Handler) putPending(ctx context.Context, p pendingPro) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	id := randomToken()
	if err := h.keys.PutKey(ctx, store.Key{NS: nsPending, Key: digest(id)}, b, h.cfg.Now().Add(DefaultCeremonyTTL)); err != nil {
		return "", fmt.Errorf("login: store pending professional: %w", err)
	}
	return id, nil
}

func (h *Handler) takePending(ctx context.Context, id string) (pendingPro, bool, error) {
	if len(id) != 43 {
		return pendingPro{}, false, nil
	}
	b, err := h.keys.TakeKey(ctx, nsPending, digest(id))
	if outcome.Is(err, outcome.NotFound) {
		return pendingPro{}, false, nil
	}
	if err != nil {
		return pendingPro{}, false, err
	}
	var p pendingPro
	if err := json.Unmarshal(b, &p); err != nil {
		return pendingPro{}, false, err
	}
	return p, true, nil
}
