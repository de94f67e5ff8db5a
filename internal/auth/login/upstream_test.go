package login

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// upstreamSignIn runs an upstream sign-in in browser b to the end: the
// login, the provider, the callback.
func (b *browser) upstreamSignIn(name, next string) response {
	b.e.t.Helper()
	r := b.post(Path+"/oidc/"+name, url.Values{"csrf": {b.csrf()}, "next": {next}})
	for i := 0; i < 3 && (r.Status == http.StatusFound || r.Status == http.StatusSeeOther) && !strings.HasPrefix(r.Location, "/"); i++ {
		r = b.get(r.Location)
	}
	return r
}

func TestUpstream(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be platformtest.Backend) {
		idp := newFakeIdP(t)
		e := newEnv(t, be, func(c *Config) {
			c.Upstreams = []Upstream{{Name: "iamsmart", Label: "iAM Smart", LabelZh: "智方便", Issuer: idp.issuer,
				ClientID: idp.clientID, ClientSecret: idp.secret, DocumentClaim: "hkid", HTTPClient: loopbackClient(idp.srv)}}
		})
		e.citizen("p1", hkidA, sms("+85291234567"))
		e.citizen("p2", hkidE)
		e.citizen("p3", "AB987654(3)", email("p3@example.hk"))
		if err := LinkSubject(context.Background(), e.p.Store, idp.issuer, "sub-linked", "p1"); err != nil {
			t.Fatal(err)
		}
		if r := e.browser().get(Path); !strings.Contains(r.Body, "iAM Smart") || !strings.Contains(r.Body, "智方便") {
			t.Fatal("no iAM Smart button on the sign-in page")
		}
		const next = "/oauth/authorize?client_id=app"
		tests := []struct {
			name    string
			subject string
			claims  map[string]any
			bad     bool
			status  int
			patient string
		}{
			{"linked subject", "sub-linked", nil, false, http.StatusSeeOther, "p1"},
			{"linked by the identity document the provider vouches for", "sub-new", map[string]any{"hkid": hkidE}, false, http.StatusSeeOther, "p2"},
			{"the new link is kept", "sub-new", nil, false, http.StatusSeeOther, "p2"},
			{"bad signature", "sub-linked", nil, true, http.StatusUnauthorized, ""},
			{"not linked, no document", "sub-unknown", nil, false, http.StatusForbidden, ""},
			{"not linked, document of nobody", "sub-unknown", map[string]any{"hkid": hkidD}, false, http.StatusForbidden, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				idp.signInAs(tc.subject, tc.claims)
				idp.setBadSignature(tc.bad)
				b := e.browser()
				r := b.upstreamSignIn("iamsmart", next)
				if r.Status != tc.status {
					t.Fatalf("%d, want %d: %s", r.Status, tc.status, r.Body)
				}
				who, ok := b.whoami()
				if tc.patient == "" {
					if ok {
						t.Fatalf("signed in as %+v", who)
					}
					return
				}
				if r.Location != next || !ok || who.FHIRUser != "Patient/"+tc.patient || who.Method != "oidc:"+idp.issuer {
					t.Fatalf("location %q, who %+v", r.Location, who)
				}
			})
		}

		t.Run("an unlinked subject is linked by the next sign-in with a code in the same browser", func(t *testing.T) {
			idp.signInAs("sub-later", nil)
			idp.setBadSignature(false)
			b := e.browser()
			if r := b.upstreamSignIn("iamsmart", "/"); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "is not yet linked") {
				t.Fatalf("unlinked: %d", r.Status)
			}
			// Another browser's code sign-in links nothing.
			other := e.browser()
			other.codeSignIn("AB987654(3)", "Patient/p3")
			if r := e.browser().upstreamSignIn("iamsmart", "/"); r.Status != http.StatusForbidden {
				t.Fatalf("linked by another browser's sign-in: %d", r.Status)
			}
			b = e.browser()
			b.upstreamSignIn("iamsmart", "/")
			b.codeSignIn(hkidA, "Patient/p1")
			c := e.browser()
			if r := c.upstreamSignIn("iamsmart", next); r.Status != http.StatusSeeOther {
				t.Fatalf("after linking: %d %s", r.Status, r.Body)
			}
			if who, _ := c.whoami(); who.FHIRUser != "Patient/p1" {
				t.Fatalf("linked to %+v", who)
			}
		})
		t.Run("callback from another browser", func(t *testing.T) {
			idp.signInAs("sub-linked", nil)
			idp.setBadSignature(false)
			b := e.browser()
			r := b.post(Path+"/oidc/iamsmart", url.Values{"csrf": {b.csrf()}, "next": {"/"}})
			r = b.get(r.Location) // the provider redirects to the callback
			other := e.browser()  // which an attacker sends to a victim
			if r := other.get(r.Location); r.Status != http.StatusUnauthorized {
				t.Fatalf("callback in another browser: %d", r.Status)
			}
			if _, ok := other.whoami(); ok {
				t.Fatal("signed in")
			}
		})
	})
}
