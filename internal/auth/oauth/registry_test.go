package oauth

import (
	"context"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// TestRegister: what a registration must hold, per kind.
func TestRegister(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		good := testClients(t)
		rsa1024 := mustRSA1024(t)
		cases := []struct {
			name string
			edit func(*Client)
			base int // index into testClients
		}{
			{"bad id", func(c *Client) { c.ID = "a b" }, 0},
			{"no scope", func(c *Client) { c.Scope = "" }, 0},
			{"bad scope", func(c *Client) { c.Scope = "patient/Observation.q" }, 0},
			{"no kind", func(c *Client) { c.Kind = "" }, 0},
			{"public without redirect", func(c *Client) { c.RedirectURIs = nil }, 0},
			{"http redirect off loopback", func(c *Client) { c.RedirectURIs = []string{"http://app.example/cb"} }, 0},
			{"redirect with fragment", func(c *Client) { c.RedirectURIs = []string{"https://app.example/cb#x"} }, 0},
			{"public with keys", func(c *Client) { c.JWKS = good[1].JWKS }, 0},
			{"origin with a path", func(c *Client) { c.Origins = []string{"https://app.example/"} }, 0},
			{"public bound to an org", func(c *Client) { c.Org = "Organization/x" }, 0},
			{"confidential without keys", func(c *Client) { c.JWKS = nil }, 1},
			{"system without org", func(c *Client) { c.Org = "" }, 2},
			{"system with a Patient as org", func(c *Client) { c.Org = "Patient/x" }, 2},
			{"system with redirect", func(c *Client) { c.RedirectURIs = []string{"https://x.example/cb"} }, 2},
			{"private key", func(c *Client) { c.JWKS = jwks(t, jose.JSONWebKey{Key: ecKey, KeyID: "k", Use: "sig"}) }, 2},
			{"P-256 key", func(c *Client) {
				c.JWKS = jwks(t, jose.JSONWebKey{Key: &mustEC(elliptic.P256()).PublicKey, KeyID: "k"})
			}, 2},
			{"RSA 1024", func(c *Client) { c.JWKS = jwks(t, jose.JSONWebKey{Key: &rsa1024.PublicKey, KeyID: "k"}) }, 2},
			{"alg not the key's", func(c *Client) {
				c.JWKS = jwks(t, jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "k", Algorithm: "RS384"})
			}, 2},
			{"encryption key", func(c *Client) { c.JWKS = jwks(t, jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "k", Use: "enc"}) }, 2},
			{"empty key set", func(c *Client) { c.JWKS = json.RawMessage(`{"keys":[]}`) }, 2},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := good[tc.base]
				c.ID = "new-" + c.ID
				tc.edit(&c)
				if _, err := e.srv.Clients().Register(ctx, c); !outcome.Is(err, outcome.Invalid) {
					t.Errorf("registered: %v", err)
				}
			})
		}
		if _, err := e.srv.Clients().Register(ctx, good[0]); !outcome.Is(err, outcome.Conflict) {
			t.Errorf("a second registration of one id: %v", err)
		}
		list, err := e.srv.Clients().List(ctx)
		if err != nil || len(list) != len(good) || list[0].ID != "app" || list[2].ID != "lab" {
			t.Fatalf("list: %v %v", list, err)
		}
		if err := e.srv.Clients().Disable(ctx, "app"); err != nil {
			t.Fatal(err)
		}
		if c, err := e.srv.Clients().Get(ctx, "app"); err != nil || !c.Disabled {
			t.Errorf("after disabling: %+v %v", c, err)
		}
		if err := e.srv.Clients().Disable(ctx, "ghost"); !outcome.Is(err, outcome.NotFound) {
			t.Errorf("disabling an unknown client: %v", err)
		}
		// A disabled public client can no longer start an authorization.
		_, challenge := pkce()
		r := e.authorize(authRequest(challenge, "launch/patient patient/*.rs"), e.signIn(citizen))
		if r.status < 400 || r.header.Get("Location") != "" {
			t.Errorf("a disabled client's authorize: %d %s", r.status, r.header.Get("Location"))
		}
	})
}

// TestSessions: Start checks who, Current finds the session by its cookie,
// End removes it.
func TestSessions(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		for _, bad := range []Who{{}, {FHIRUser: "Organization/x"}, {FHIRUser: "Patient/p1", Role: "PractitionerRole/r"},
			{FHIRUser: "Practitioner/d", Org: "Organization/o", Purpose: "SNOOP"}} {
			if _, err := e.srv.Sessions().Start(ctx, recorder(), bad); err == nil {
				t.Errorf("started a session for %+v", bad)
			}
		}
		w := recorder()
		id, err := e.srv.Sessions().Start(ctx, w, citizen)
		if err != nil {
			t.Fatal(err)
		}
		ck := w.Result().Cookies()
		if len(ck) != 1 || ck[0].Name != SessionCookie || ck[0].Value != id || !ck[0].HttpOnly || !ck[0].Secure || ck[0].SameSite != http.SameSiteLaxMode {
			t.Fatalf("cookie %+v", ck)
		}
		req := request(SessionCookie + "=" + id)
		who, _, ok := e.srv.Sessions().Current(req)
		if !ok || who.FHIRUser != "Patient/p1" || who.AuthTime.IsZero() {
			t.Fatalf("Current: %+v %v", who, ok)
		}
		if err := e.srv.Sessions().End(recorder(), req); err != nil {
			t.Fatal(err)
		}
		if _, _, ok := e.srv.Sessions().Current(req); ok {
			t.Error("the session outlived End")
		}
	})
}

func mustRSA1024(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func recorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// request is a request carrying a Cookie header.
func request(cookie string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", cookie)
	return r
}
