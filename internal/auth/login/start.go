package login

import (
	"net/http"
	"slices"
	"strings"
)

// startData is the data of start.html.
type startData struct {
	Codes     bool // sign-in with a code is offered
	Passkeys  bool // sign-in with a passkey is offered
	Upstreams []upstreamButton
}

type upstreamButton struct {
	Name  string
	Label text
}

// start is the sign-in page: a passkey, a code to the registered phone or
// email, an upstream identity service, or the professionals' page.
func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	next, ok := nextOf(r)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgBadNext)
		return
	}
	h.startPage(w, r, http.StatusOK, next, nil)
}

// startPage shows the sign-in page with an error, if any.
func (h *Handler) startPage(w http.ResponseWriter, r *http.Request, status int, next string, msg *text) {
	d := startData{Codes: h.cfg.Sender != nil, Passkeys: h.webauthn != nil}
	for name, u := range h.upstreams {
		d.Upstreams = append(d.Upstreams, upstreamButton{Name: name, Label: u.label()})
	}
	slices.SortFunc(d.Upstreams, func(a, b upstreamButton) int { return strings.Compare(a.Name, b.Name) })
	h.render(w, r, status, "start.html", page{Title: text{"Sign in", "登入"}, Next: next, Error: msg, Data: d})
}
