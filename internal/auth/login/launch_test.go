package login

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// TestAuthorizeThroughLogin: a SMART app's standalone launch meets the
// authorization server, which sends the citizen to the login with next=
// the authorize request; the citizen signs in with a code, and the
// authorize request resumes and gives the app its code.
func TestAuthorizeThroughLogin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be platformtest.Backend) {
		e := newEnv(t, be, nil)
		e.citizen("p1", hkidA, sms("+85291234567"))
		tokens, err := token.New(e.p.Store, token.Config{Issuer: e.origin, Audience: e.origin + "/fhir"})
		if err != nil {
			t.Fatal(err)
		}
		authz, err := oauth.New(e.p.Store, tokens, oauth.Config{Issuer: e.origin, FHIRBaseURL: e.origin + "/fhir",
			LoginURL: Path, Sessions: e.sessions})
		if err != nil {
			t.Fatal(err)
		}
		e.mux.Handle("/oauth/", authz.Handler())
		const redirect = "https://app.example/cb"
		if _, err := authz.Clients().Register(context.Background(), oauth.Client{ID: "diary", Kind: oauth.Public,
			RedirectURIs: []string{redirect}, Scope: "openid fhirUser launch/patient patient/*.rs"}); err != nil {
			t.Fatal(err)
		}
		verifier := randomToken()
		sum := sha256.Sum256([]byte(verifier))
		q := url.Values{"response_type": {"code"}, "client_id": {"diary"}, "redirect_uri": {redirect}, "state": {"state-0001"},
			"scope": {"openid fhirUser launch/patient patient/*.rs"}, "aud": {e.origin + "/fhir"},
			"code_challenge": {b64u.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		b := e.browser()
		r := b.get(oauth.PathAuthorize + "?" + q.Encode())
		to, _ := url.Parse(r.Location)
		next := to.Query().Get("next")
		if r.Status != http.StatusFound || to.Path != Path || !strings.HasPrefix(next, oauth.PathAuthorize+"?") {
			t.Fatalf("authorize before sign-in: %d %q", r.Status, r.Location)
		}
		if _, ok := SafeNext(next); !ok {
			t.Fatalf("the authorization server's next %q is not one the login accepts", next)
		}
		// The login page, then a code.
		page := b.get(r.Location)
		csrf := csrfField.FindStringSubmatch(page.Body)[1]
		ch, _ := b.askCode(csrf, hkidA, next)
		r = b.verify(csrf, ch, b.codeFor("Patient/p1"), next)
		offer, _ := url.Parse(r.Location)
		if r.Status != http.StatusSeeOther || offer.Query().Get("next") != next {
			t.Fatalf("verify: %d %q", r.Status, r.Location)
		}
		// "Not now" on the passkey offer: back to the authorize request.
		r = b.get(next)
		back, _ := url.Parse(r.Location)
		if r.Status != http.StatusSeeOther && r.Status != http.StatusFound || !strings.HasPrefix(r.Location, redirect+"?") ||
			back.Query().Get("code") == "" || back.Query().Get("state") != "state-0001" {
			t.Fatalf("authorize after sign-in: %d %q %s", r.Status, r.Location, r.Body)
		}
	})
}
