package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/ehealthplus/ehealth/internal/auth/login"
)

// TestAdminProfessionalLogin sets a registered professional's password and
// TOTP secret with the admin commands, then signs in with them at /login
// of the server as serve wires it.
func TestAdminProfessionalLogin(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("correct horse battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, db := range adminDatabases {
		t.Run(db.name, func(t *testing.T) {
			dbURL := db.url(t)
			ehealth := func(args ...string) (string, error) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), append([]string{"admin"}, append(args, "--db", dbURL)...), &out, &errOut)
				return strings.TrimSpace(out.String()), err
			}
			org, err := ehealth("provider", "add", "--name", "Happy Valley Clinic", "--kind", "clinic")
			if err != nil {
				t.Fatal(err)
			}
			out, err := ehealth("professional", "add", "--name", "Dr Wong", "--council", "mchk", "--registration", "M12345", "--org", org)
			prac, role, _ := strings.Cut(out, "\t")
			if err != nil || !strings.HasPrefix(prac, "Practitioner/") || !strings.HasPrefix(role, "PractitionerRole/") {
				t.Fatalf("professional add: %q %v", out, err)
			}
			for _, bad := range [][]string{
				{"professional", "password", "--username", "wong", "--password-file", pwFile},                                          // new account, no practitioner
				{"professional", "password", "--username", "wong", "--practitioner", "Practitioner/nobody", "--password-file", pwFile}, // no such practitioner
				{"professional", "totp", "--username", "nobody"},                                                                       // no account
			} {
				if _, err := ehealth(bad...); err == nil {
					t.Errorf("%v: accepted", bad)
				}
			}
			if out, err := ehealth("professional", "password", "--username", "Wong", "--practitioner", prac, "--password-file", pwFile); err != nil || out != "password set for wong" {
				t.Fatalf("password: %q %v", out, err)
			}
			uri, err := ehealth("professional", "totp", "--username", "wong")
			u, _ := url.Parse(uri)
			secret := u.Query().Get("secret")
			if err != nil || u.Scheme != "otpauth" || secret == "" {
				t.Fatalf("totp: %q %v", uri, err)
			}

			// Sign in at the server's /login with them.
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			p, err := openPlatform(context.Background(), dbURL, log)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { closer{p}.Close() })
			srv := httptest.NewUnstartedServer(nil)
			srv.StartTLS()
			t.Cleanup(srv.Close)
			stk, err := newStack(p, stackConfig{BaseURL: srv.URL + "/fhir", LoginURL: login.Path}, log)
			if err != nil {
				t.Fatal(err)
			}
			srv.Config.Handler = stk.Handler
			c := srv.Client()
			c.Jar, _ = cookiejar.New(nil)
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := c.Get(srv.URL + "/login/professional")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
			if resp.StatusCode != http.StatusOK || csrf == nil {
				t.Fatalf("GET /login/professional: %d", resp.StatusCode)
			}
			code, _ := hotp.GenerateCodeCustom(secret, uint64(time.Now().Unix()/30), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			form := url.Values{"csrf": {string(csrf[1])}, "next": {"/oauth/authorize?client_id=x"}, "username": {"wong"},
				"password": {"correct horse battery"}, "code": {code}}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login/professional", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", srv.URL)
			resp, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/oauth/authorize?client_id=x" {
				t.Fatalf("sign-in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			var session bool
			for _, ck := range resp.Cookies() {
				session = session || ck.Name == "__Host-ehealth-session" && ck.Value != ""
			}
			if !session {
				t.Fatal("no session cookie")
			}
		})
	}
}
