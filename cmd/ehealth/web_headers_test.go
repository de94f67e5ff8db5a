package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestWebHeaders checks, without a browser, what every web response
// promises: the Content-Security-Policy and the other security headers,
// a sign-in that is a SMART launch with PKCE S256 whose state cookie is
// HttpOnly and SameSite, no-store pages, long-cached hashed static files,
// and forms refused without a session's CSRF token.
func TestWebHeaders(t *testing.T) {
	s := startWebServer(t.Context(), t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := noRedirect.Get(s.origin + "/app/records")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if resp.StatusCode != http.StatusSeeOther || loc.Path != "/oauth/authorize" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("redirect_uri") != s.origin+"/app/callback" {
		t.Errorf("a page without a session: %d to %s, want 303 to the authorize endpoint with PKCE", resp.StatusCode, loc)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: CSP %q, Referrer-Policy %q, Cache-Control %q", csp, resp.Header.Get("Referrer-Policy"), resp.Header.Get("Cache-Control"))
	}
	var state *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-web-citizen-signin" {
			state = c
		}
	}
	if state == nil || !state.HttpOnly || !state.Secure || state.SameSite != http.SameSiteLaxMode || state.Path != "/" || state.Value != q.Get("state") {
		t.Errorf("the sign-in's state cookie: %+v", state)
	}

	// A callback whose state is not this browser's is refused.
	resp, err = noRedirect.Get(s.origin + "/app/callback?code=x&state=" + q.Get("state"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a callback without the state cookie: %d, want 403", resp.StatusCode)
	}

	// A form posted from another site, or without a session, changes nothing.
	req, _ := http.NewRequest("POST", s.origin+"/app/sharing/revoke/abc", strings.NewReader("_csrf=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err = noRedirect.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site POST: %d, want 403", resp.StatusCode)
	}

	// Static files: hashed names, cached for a year, gzip-compressed.
	css := regexp.MustCompile(`^/web/static/app\.[0-9a-f]{8}\.css$`)
	// The layout links the hashed stylesheet: read it from an error page.
	body := fetch(t, s.origin+"/app/nothing-here")
	m := regexp.MustCompile(`href="(/web/static/app\.[0-9a-f]{8}\.css)"`).FindStringSubmatch(body)
	if m == nil || !css.MatchString(m[1]) {
		t.Fatalf("the layout does not link a hashed stylesheet: %.300s", body)
	}
	req, _ = http.NewRequest("GET", s.origin+m[1], nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("static file: Cache-Control %q, Content-Encoding %q", resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Encoding"))
	}
}

// fetch GETs url (following redirects) and returns the body.
func fetch(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
