package login

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// csrfCookie holds the double-submit token. The __Host- prefix makes
// browsers insist on Secure, Path=/ and no Domain, so a sibling subdomain
// cannot plant one.
const csrfCookie = "__Host-ehealth-csrf"

// csrfHeader carries the token on JSON requests (the passkey script).
const csrfHeader = "X-CSRF-Token"

// csrfToken returns the request's CSRF token, setting a new cookie when it
// has none, for a page to put in its forms.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode})
	return tok
}

// checkCSRF admits a state-changing request only from this site: a
// cross-site Sec-Fetch-Site or a foreign Origin is refused, and the token
// in the form field csrf (or the X-CSRF-Token header) must equal the
// cookie's. Browsers send Origin on every POST; the token covers old ones
// that do not.
func (h *Handler) checkCSRF(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return errors.New("Sec-Fetch-Site " + r.Header.Get("Sec-Fetch-Site"))
	}
	// A page served with Referrer-Policy: no-referrer (ours) makes browsers
	// send "Origin: null" on its POSTs (Fetch §3.2.5): Sec-Fetch-Site and
	// the token decide those.
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !strings.EqualFold(o, h.cfg.Origin) {
		return errors.New("origin " + o)
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 43 {
		return errors.New("no CSRF cookie")
	}
	sent := r.Header.Get(csrfHeader)
	if sent == "" {
		sent = r.PostFormValue("csrf")
	}
	if subtle.ConstantTimeCompare([]byte(sent), []byte(c.Value)) != 1 {
		return errors.New("CSRF token does not match")
	}
	return nil
}
