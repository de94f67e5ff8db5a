package login

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// codeSignIn signs a browser in as the citizen with hkid by a code.
func (b *browser) codeSignIn(hkid, patient string) string {
	b.e.t.Helper()
	csrf := b.csrf()
	ch, _ := b.askCode(csrf, hkid, "/")
	if r := b.verify(csrf, ch, b.codeFor(patient), "/"); r.Status != http.StatusSeeOther {
		b.e.t.Fatalf("code sign-in: %d", r.Status)
	}
	return csrf
}

// register adds a passkey with a for the signed-in citizen.
func (b *browser) register(csrf string, a *softAuthenticator, next string) response {
	b.e.t.Helper()
	r := b.postJSON(Path+"/passkey/register/begin?next="+url.QueryEscape(next), csrf, nil)
	if r.Status != http.StatusOK {
		return r
	}
	o := parseOptions(b.e.t, r.Body)
	return b.postJSON(Path+"/passkey/register/finish?ceremony="+o.Ceremony, csrf, a.create(o))
}

// beginPasskey starts a passkey sign-in.
func (b *browser) beginPasskey(csrf, next string) options {
	b.e.t.Helper()
	r := b.postJSON(Path+"/passkey/begin?next="+url.QueryEscape(next), csrf, nil)
	if r.Status != http.StatusOK {
		b.e.t.Fatalf("begin: %d %s", r.Status, r.Body)
	}
	return parseOptions(b.e.t, r.Body)
}

func (b *browser) finishPasskey(o options, assertion map[string]any) response {
	b.e.t.Helper()
	csrf := b.csrf()
	return b.postJSON(Path+"/passkey/finish?ceremony="+o.Ceremony, csrf, assertion)
}

func TestPasskey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be platformtest.Backend) {
		e := newEnv(t, be, nil)
		e.citizen("p1", hkidA, sms("+85291234567"))
		rpID := "ehealth.example.com"
		auth := newSoftAuthenticator(t, rpID, e.origin)

		// Registration needs a citizen who has just proved who they are.
		anon := e.browser()
		if r := anon.register(anon.csrf(), auth, "/"); r.Status != http.StatusUnauthorized {
			t.Fatalf("registration without a sign-in: %d", r.Status)
		}
		b := e.browser()
		csrf := b.codeSignIn(hkidA, "Patient/p1")
		r := b.register(csrf, auth, "/home")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `"redirect":"/home"`) {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
		if string(auth.userHandle) != "p1" {
			t.Fatalf("user handle %q, want the Patient id", auth.userHandle)
		}
		// A second registration of the same credential id is refused.
		if r := b.register(csrf, auth.clone(), "/"); r.Status != http.StatusUnauthorized {
			t.Fatalf("the same credential again: %d", r.Status)
		}
		// Once a passkey exists, a code sign-in goes straight on.
		c := e.browser()
		csrf2 := c.csrf()
		ch, _ := c.askCode(csrf2, hkidA, "/next")
		if r := c.verify(csrf2, ch, c.codeFor("Patient/p1"), "/next"); r.Location != "/next" {
			t.Fatalf("code sign-in with a passkey: %q", r.Location)
		}

		t.Run("sign-in", func(t *testing.T) {
			b := e.browser()
			const next = "/oauth/authorize?client_id=app&scope=openid"
			o := b.beginPasskey(b.csrf(), next)
			r := b.finishPasskey(o, auth.get(o))
			var out map[string]string
			if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &out) != nil || out["redirect"] != next {
				t.Fatalf("finish: %d %s", r.Status, r.Body)
			}
			who, ok := b.whoami()
			if !ok || who.FHIRUser != "Patient/p1" || who.Method != "passkey" {
				t.Fatalf("who %+v", who)
			}
		})

		// Each refusal is 401 (400 for a ceremony that is gone) and signs
		// nobody in.
		evil := auth.clone()
		evil.origin = "https://evil.example.com"
		otherRP := auth.clone()
		otherRP.rpID = "example.com"
		noUV := auth.clone()
		noUV.noUV = true
		stranger := newSoftAuthenticator(t, rpID, e.origin)
		stranger.userHandle = []byte("p1")
		tests := []struct {
			name   string
			assert func(b *browser) (options, map[string]any)
			status int
		}{
			{"wrong origin", func(b *browser) (options, map[string]any) {
				o := b.beginPasskey(b.csrf(), "/")
				return o, evil.get(o)
			}, http.StatusUnauthorized},
			{"wrong relying party", func(b *browser) (options, map[string]any) {
				o := b.beginPasskey(b.csrf(), "/")
				return o, otherRP.get(o)
			}, http.StatusUnauthorized},
			{"no user verification", func(b *browser) (options, map[string]any) {
				o := b.beginPasskey(b.csrf(), "/")
				return o, noUV.get(o)
			}, http.StatusUnauthorized},
			{"unknown credential", func(b *browser) (options, map[string]any) {
				o := b.beginPasskey(b.csrf(), "/")
				return o, stranger.get(o)
			}, http.StatusUnauthorized},
			{"cloned authenticator (sign count not increasing)", func(b *browser) (options, map[string]any) {
				clone := auth.clone() // taken now: same key, same count
				o := b.beginPasskey(b.csrf(), "/")
				if r := b.finishPasskey(o, auth.get(o)); r.Status != http.StatusOK {
					t.Fatalf("the genuine authenticator: %d %s", r.Status, r.Body)
				}
				b.c.Jar, _ = newJar() // signed out: a fresh browser
				o = b.beginPasskey(b.csrf(), "/")
				return o, clone.get(o) // its counter is the one already used
			}, http.StatusUnauthorized},
			{"assertion replayed on a new challenge", func(b *browser) (options, map[string]any) {
				o := b.beginPasskey(b.csrf(), "/")
				old := auth.get(o)
				if r := b.finishPasskey(o, old); r.Status != http.StatusOK {
					t.Fatalf("the genuine assertion: %d", r.Status)
				}
				b.c.Jar, _ = newJar()
				return b.beginPasskey(b.csrf(), "/"), old
			}, http.StatusUnauthorized},
			{"assertion replayed on its own ceremony", func(b *browser) (options, map[string]any) {
				o := b.beginPasskey(b.csrf(), "/")
				a := auth.get(o)
				if r := b.finishPasskey(o, a); r.Status != http.StatusOK {
					t.Fatalf("the genuine assertion: %d", r.Status)
				}
				b.c.Jar, _ = newJar()
				return o, a
			}, http.StatusBadRequest},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b := e.browser()
				o, a := tc.assert(b)
				if r := b.finishPasskey(o, a); r.Status != tc.status {
					t.Fatalf("%d, want %d: %s", r.Status, tc.status, r.Body)
				}
				if _, ok := b.whoami(); ok {
					t.Fatal("signed in")
				}
			})
		}

		t.Run("registration needs a recent sign-in", func(t *testing.T) {
			b := e.browser()
			csrf := b.codeSignIn(hkidA, "Patient/p1")
			e.clock.Advance(DefaultPasskeyFreshFor + time.Minute)
			defer e.clock.Advance(-DefaultPasskeyFreshFor - time.Minute)
			if r := b.register(csrf, newSoftAuthenticator(t, rpID, e.origin), "/"); r.Status != http.StatusUnauthorized {
				t.Fatalf("stale sign-in: %d", r.Status)
			}
		})
		t.Run("registration from another origin", func(t *testing.T) {
			b := e.browser()
			csrf := b.codeSignIn(hkidA, "Patient/p1")
			a := newSoftAuthenticator(t, rpID, "https://evil.example.com")
			if r := b.register(csrf, a, "/"); r.Status != http.StatusUnauthorized {
				t.Fatalf("wrong origin: %d", r.Status)
			}
		})
	})
}
