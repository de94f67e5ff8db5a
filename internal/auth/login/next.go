package login

import (
	"net/http"
	"net/url"
	"strings"
)

// maxNext bounds next: an authorize request with its scopes fits well.
const maxNext = 4096

// SafeNext returns raw if it is a relative URL naming a path on this server
// — "/…", never "//host", a scheme, a backslash (browsers read "/\host" as
// another host) or a control character — and ok false otherwise. The login
// redirects only to what SafeNext accepts, so it is no open redirect.
func SafeNext(raw string) (string, bool) {
	if raw == "" || len(raw) > maxNext || raw[0] != '/' {
		return "", false
	}
	if len(raw) > 1 && (raw[1] == '/' || raw[1] == '\\') {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	// The path as a browser resolves it must stay a path: "/%2F%2Fhost"
	// decodes to "//host" only in the path, which is harmless, but refuse
	// it anyway so no later layer can be fooled.
	if strings.HasPrefix(u.Path, "//") {
		return "", false
	}
	return raw, true
}

// nextOf returns the request's next (query or form): "/" when there is
// none, ok false when it is not SafeNext.
func nextOf(r *http.Request) (string, bool) {
	raw := r.FormValue("next")
	if raw == "" {
		return "/", true
	}
	return SafeNext(raw)
}
