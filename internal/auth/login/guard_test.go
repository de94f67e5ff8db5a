package login

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// hostile are next values that would send the browser elsewhere (or break
// the header) if taken as they are.
var hostile = []string{
	"https://evil.example",
	"http://evil.example/oauth/authorize",
	"//evil.example",
	"///evil.example",
	"/\\evil.example",
	"\\\\evil.example",
	"/%2F%2Fevil.example",
	"javascript:alert(1)",
	"JaVaScRiPt:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"evil.example",
	"/ok\r\nSet-Cookie: a=b",
	"/ok\tx",
	"http:/evil.example",
	"https:evil.example",
	" /ok",
	"/" + strings.Repeat("a", maxNext),
}

func TestSafeNext(t *testing.T) {
	for _, next := range hostile {
		if got, ok := SafeNext(next); ok {
			t.Errorf("SafeNext(%q) = %q, accepted", next, got)
		}
	}
	for _, next := range []string{"/", "/oauth/authorize?client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=x", "/login/passkey/offer?next=%2F", "/a/b#frag"} {
		if got, ok := SafeNext(next); !ok || got != next {
			t.Errorf("SafeNext(%q) = %q, %v", next, got, ok)
		}
	}
}

// TestOpenRedirect: every page and step refuses a next that is not a path
// on this server, before doing anything else.
func TestOpenRedirect(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be platformtest.Backend) {
		e := newEnv(t, be, nil)
		e.citizen("p1", hkidA, sms("+85291234567"))
		b := e.browser()
		csrf := b.csrf()
		for _, next := range hostile {
			steps := []struct {
				name string
				do   func() response
			}{
				{"GET /login", func() response { return b.get(Path + "?next=" + url.QueryEscape(next)) }},
				{"GET /login/professional", func() response { return b.get(Path + "/professional?next=" + url.QueryEscape(next)) }},
				{"POST /login/code", func() response {
					return b.post(Path+"/code", url.Values{"csrf": {csrf}, "next": {next}, "kind": {"hkid"}, "number": {hkidA}})
				}},
				{"POST /login/professional", func() response {
					return b.post(Path+"/professional", url.Values{"csrf": {csrf}, "next": {next}, "username": {"x"}})
				}},
				{"POST /login/passkey/begin", func() response {
					return b.postJSON(Path+"/passkey/begin?next="+url.QueryEscape(next), csrf, nil)
				}},
			}
			for _, s := range steps {
				if r := s.do(); r.Status != http.StatusBadRequest || r.Location != "" {
					t.Errorf("%s next=%q: %d Location %q", s.name, next, r.Status, r.Location)
				}
			}
		}
		if got := len(b.outbox()); got != 0 {
			t.Errorf("%d codes sent for requests with a hostile next", got)
		}
	})
}

// TestCSRF: a state-changing request needs the cookie's token and must
// not come from another site.
func TestCSRF(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be platformtest.Backend) {
		e := newEnv(t, be, nil)
		e.citizen("p1", hkidA, sms("+85291234567"))
		form := func(csrf string) url.Values {
			return url.Values{"csrf": {csrf}, "kind": {"hkid"}, "number": {hkidA}}
		}
		tests := []struct {
			name string
			send func(b *browser, csrf string) response
		}{
			{"no token", func(b *browser, _ string) response { return b.post(Path+"/code", form("")) }},
			{"wrong token", func(b *browser, csrf string) response {
				return b.post(Path+"/code", form(strings.Repeat("A", len(csrf))))
			}},
			{"no cookie", func(b *browser, csrf string) response {
				b.c.Jar, _ = newJar()
				return b.post(Path+"/code", form(csrf))
			}},
			{"another origin", func(b *browser, csrf string) response {
				req, _ := http.NewRequest(http.MethodPost, b.url(Path+"/code"), strings.NewReader(form(csrf).Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", "https://evil.example")
				return b.do(req)
			}},
			{"cross-site fetch", func(b *browser, csrf string) response {
				req, _ := http.NewRequest(http.MethodPost, b.url(Path+"/code"), strings.NewReader(form(csrf).Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "cross-site")
				return b.do(req)
			}},
			{"JSON without the header", func(b *browser, _ string) response { return b.postJSON(Path+"/passkey/begin", "", nil) }},
			{"logout without a token", func(b *browser, _ string) response { return b.post(Path+"/logout", url.Values{}) }},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b := e.browser()
				r := tc.send(b, b.csrf())
				if r.Status != http.StatusForbidden {
					t.Fatalf("%d, want 403", r.Status)
				}
			})
		}
		if got := len(e.browser().outbox()); got != 0 {
			t.Errorf("%d codes sent by refused requests", got)
		}
		// The same request with the token goes through.
		b := e.browser()
		if _, r := b.askCode(b.csrf(), hkidA, "/"); r.Status != http.StatusOK {
			t.Fatalf("with the token: %d", r.Status)
		}
	})
}

// TestIPRateLimit: each client IP has a token bucket over the login's
// steps; past it, 429 with Retry-After.
func TestIPRateLimit(t *testing.T) {
	e := newEnv(t, platformtest.Backends[0], func(c *Config) { c.IPRate, c.IPBurst = 0.1, 3 })
	b := e.browser()
	csrf := b.csrf()
	for i := range 3 {
		if r := b.proSignIn(csrf, "nobody", "x", "000000", "/"); r.Status != http.StatusUnauthorized {
			t.Fatalf("request %d: %d", i, r.Status)
		}
	}
	r := b.proSignIn(csrf, "someone-else", "x", "000000", "/")
	secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.Status != http.StatusTooManyRequests || secs < 1 || secs > 10 {
		t.Fatalf("past the bucket: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	e.clock.Advance(10 * time.Second)
	if r := b.proSignIn(csrf, "nobody", "x", "000000", "/"); r.Status != http.StatusUnauthorized {
		t.Fatalf("after refilling: %d", r.Status)
	}
}
