package login

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// FuzzSafeNext: whatever SafeNext accepts stays on this server when a
// browser resolves it, and carries nothing that could split a header.
func FuzzSafeNext(f *testing.F) {
	for _, s := range append([]string{"/", "/oauth/authorize?a=b", "/x#y"}, hostile...) {
		f.Add(s)
	}
	base, _ := url.Parse("https://ehealth.example.com/login/code")
	f.Fuzz(func(t *testing.T, next string) {
		got, ok := SafeNext(next)
		if !ok {
			return
		}
		if got != next || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t\x00") {
			t.Fatalf("SafeNext accepted %q", next)
		}
		u, err := base.Parse(next)
		if err != nil || u.Host != base.Host || u.Scheme != base.Scheme {
			t.Fatalf("%q resolves to %v (%v)", next, u, err)
		}
	})
}

// FuzzLoginForm posts arbitrary forms, with a valid CSRF token, to the
// login's steps: none may fail with a server error, and every redirect is
// to a path on this server.
func FuzzLoginForm(f *testing.F) {
	f.Add(uint8(0), "kind=hkid&number=A123456(3)&next=%2F")
	f.Add(uint8(1), "challenge=xxx&code=123456&next=%2Foauth%2Fauthorize")
	f.Add(uint8(2), "username=wong&password=correct+horse+battery&code=123456&next=%2F%2Fevil")
	f.Add(uint8(3), "pending=abc&role=PractitionerRole%2Fr1")
	f.Add(uint8(4), "next=https%3A%2F%2Fevil.example")
	p := platformtest.Open(f, platformtest.Backends[0].Open(f))
	sessions := oauth.NewSessions(p.Store, 0)
	h, err := New(p.Store, p.Service, sessions, Config{Origin: "https://ehealth.example.com", Demo: true, Password: cheap, IPRate: -1,
		MaxFailures: 1 << 20, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	paths := []string{"/code", "/code/verify", "/professional", "/professional/role", "/logout", "/oidc/none", "/passkey/begin"}
	const token = "0123456789012345678901234567890123456789012"
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		path := Path + paths[int(which)%len(paths)]
		req := httptest.NewRequest(http.MethodPost, "https://ehealth.example.com"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://ehealth.example.com")
		req.Header.Set(csrfHeader, token)
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: token})
		rec := httptest.NewRecorder()
		h.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable && rec.Code != http.StatusBadGateway {
			t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body)
		}
		if loc := rec.Header().Get("Location"); loc != "" {
			if _, ok := SafeNext(loc); !ok {
				t.Fatalf("%s %q: redirect to %q", path, body, loc)
			}
		}
	})
}
