package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// contentSecurityPolicy allows nothing but this server's own scripts,
// styles, images and forms: no inline script or style, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every web response carries.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// csrfField is the name of the form field holding the session's CSRF
// token.
const csrfField = "_csrf"

// sameOrigin refuses a state-changing request another site started: a
// cross-site or same-site Sec-Fetch-Site, or an Origin header other than
// ours.
func sameOrigin(r *http.Request, origin string) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s == "cross-site" || s == "same-site" {
		return false
	}
	// Our pages' Referrer-Policy no-referrer makes browsers send "Origin:
	// null" on their POSTs (Fetch §3.2.5); Sec-Fetch-Site and the
	// session's CSRF token decide those.
	if o := r.Header.Get("Origin"); o != "" && o != "null" && o != origin {
		return false
	}
	return true
}

// validCSRF compares the form's token with the session's in constant
// time.
func validCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue(csrfField)
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// safeReturn is a path of the app to return to after sign-in: under the
// prefix, no scheme, host or "//".
func safeReturn(prefix, p string) string {
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || len(p) < len(prefix) || p[:len(prefix)] != prefix ||
		(len(p) > len(prefix) && p[len(prefix)] != '/' && p[len(prefix)] != '?') || len(p) > 1 && p[1] == '/' ||
		!strings.HasPrefix(path.Clean(u.Path)+"/", prefix+"/") {
		return prefix + "/"
	}
	return p
}
