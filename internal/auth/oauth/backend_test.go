package oauth

import (
	"context"
	"crypto/elliptic"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestBackendServices: a system client's client_credentials token (SMART
// Backend Services) carries its provider and only registered system/
// scopes; every flaw of the assertion is refused.
func TestBackendServices(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		r := e.systemToken("lab", labKey, "system/Observation.rs system/Patient.rs patient/*.rs")
		if r.status != http.StatusOK {
			t.Fatalf("client_credentials: %d %s", r.status, r.raw)
		}
		c := e.verify(r.str("access_token"))
		if c.Org != "Organization/lab-2" || c.Subject != "lab" || c.ClientID != "lab" || c.FHIRUser != "" || c.Scope.String() != "system/Observation.rs" {
			t.Errorf("system token claims %+v", c)
		}
		if r.str("scope") != "system/Observation.rs" || r.str("refresh_token") != "" || r.body["expires_in"].(float64) > 300 {
			t.Errorf("system token response %s", r.raw)
		}
		if in := e.introspect(r.str("access_token")); in.body["active"] != true || in.str("org") != "Organization/lab-2" {
			t.Errorf("introspection: %s", in.raw)
		}
		// The ES384 client too.
		if r := e.systemToken("clinic", clinicKey, "system/*.rs"); r.status != http.StatusOK || e.verify(r.str("access_token")).Org != "Organization/clinic-1" {
			t.Errorf("ES384 client: %d %s", r.status, r.raw)
		}

		otherRSA := signer{jose.RS384, rsKey2, "lab-1"}
		p256 := signer{jose.ES256, mustEC(elliptic.P256()), "clinic-1"}
		replayed := clientAuth(t, "lab", labKey, nil)
		if r := e.post(PathToken, merge(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/Observation.rs"}}, replayed)); r.status != http.StatusOK {
			t.Fatalf("first use of an assertion: %s", r.raw)
		}
		cases := []struct {
			name   string
			form   url.Values
			status int
			code   string
		}{
			{"reused jti", replayed, 401, "invalid_client"},
			{"wrong key", clientAuth(t, "lab", otherRSA, nil), 401, "invalid_client"},
			{"another client's key", clientAuth(t, "lab", clinicKey, nil), 401, "invalid_client"},
			{"ES256", clientAuth(t, "clinic", p256, nil), 401, "invalid_client"},
			{"RS256 with the right key", clientAuth(t, "lab", signer{jose.RS256, rsKey, "lab-1"}, nil), 401, "invalid_client"},
			{"HS256", clientAuth(t, "lab", signer{jose.HS256, []byte("0123456789abcdef0123456789abcdef"), ""}, nil), 401, "invalid_client"},
			{"expired", clientAuth(t, "lab", labKey, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), 401, "invalid_client"},
			{"exp too far", clientAuth(t, "lab", labKey, func(c map[string]any) { c["exp"] = time.Now().Add(10 * time.Minute).Unix() }), 401, "invalid_client"},
			{"no exp", clientAuth(t, "lab", labKey, func(c map[string]any) { delete(c, "exp") }), 401, "invalid_client"},
			{"no jti", clientAuth(t, "lab", labKey, func(c map[string]any) { delete(c, "jti") }), 401, "invalid_client"},
			{"wrong audience", clientAuth(t, "lab", labKey, func(c map[string]any) { c["aud"] = testFHIRBase }), 401, "invalid_client"},
			{"issued in the future", clientAuth(t, "lab", labKey, func(c map[string]any) { c["iat"] = time.Now().Add(time.Minute).Unix() }), 401, "invalid_client"},
			{"sub is not the client", clientAuth(t, "lab", labKey, func(c map[string]any) { c["sub"] = "clinic" }), 401, "invalid_client"},
			{"unknown client", clientAuth(t, "ghost", labKey, nil), 401, "invalid_client"},
			{"client_id differs from iss", merge(clientAuth(t, "lab", labKey, nil), url.Values{"client_id": {"clinic"}}), 401, "invalid_client"},
			{"public client", url.Values{"client_id": {"app"}}, 400, "invalid_grant"},
			{"confidential app", clientAuth(t, "rs", rsSigner, nil), 400, "unauthorized_client"},
			{"client secret", url.Values{"client_id": {"lab"}, "client_secret": {"x"}}, 401, "invalid_client"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.post(PathToken, merge(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/Observation.rs"}}, tc.form))
				wantError(t, r, tc.status, tc.code)
			})
		}
		t.Run("no scope the client has", func(t *testing.T) {
			wantError(t, e.systemToken("lab", labKey, "system/Patient.rs user/*.rs"), 400, "invalid_scope")
			wantError(t, e.systemToken("lab", labKey, ""), 400, "invalid_scope")
		})
		t.Run("disabled client", func(t *testing.T) {
			if err := e.srv.Clients().Disable(context.Background(), "lab"); err != nil {
				t.Fatal(err)
			}
			wantError(t, e.systemToken("lab", labKey, "system/Observation.rs"), 401, "invalid_client")
		})
	})
}

// TestSystemTokenOrg: a system client's tokens name its own provider and
// nothing lets it act for another: there is no parameter for the org, a
// token exchange needs its own system token as actor, and the
// professional's role must be at its provider.
func TestSystemTokenOrg(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		r := e.post(PathToken, merge(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"},
			"org": {"Organization/clinic-1"}, "audience": {"Organization/clinic-1"}}, clientAuth(t, "lab", labKey, nil)))
		if r.status == http.StatusOK {
			if c := e.verify(r.str("access_token")); c.Org != "Organization/lab-2" {
				t.Fatalf("the lab's token names %s", c.Org)
			}
		}
		lab := e.systemToken("lab", labKey, "system/Observation.rs")
		// The clinic presents the lab's token as its actor: refused.
		form := exchangeForm(t, "clinic", clinicKey, lab.str("access_token"), proClaims(nil))
		wantError(t, e.post(PathToken, form), http.StatusBadRequest, "invalid_grant")
		// A role at another provider: refused.
		e.put("PractitionerRole", "dr-chan-lab", map[string]any{"practitioner": ref("Practitioner/dr-chan"), "organization": ref("Organization/lab-2")})
		clinic := e.systemToken("clinic", clinicKey, "system/*.rs")
		form = exchangeForm(t, "clinic", clinicKey, clinic.str("access_token"), proClaims(func(c map[string]any) { c["role"] = "PractitionerRole/dr-chan-lab" }))
		wantError(t, e.post(PathToken, form), http.StatusBadRequest, "invalid_grant")
	})
}

// proClaims are the clinic system's assertion of its signed-in
// professional.
func proClaims(edit func(map[string]any)) map[string]any {
	c := assertionClaims("clinic")
	c["sub"], c["role"], c["purpose"] = "Practitioner/dr-chan", "PractitionerRole/dr-chan-gp", "TREAT"
	if edit != nil {
		edit(c)
	}
	return c
}

// exchangeForm is a token exchange request of client id.
func exchangeForm(tb testing.TB, id string, s signer, actor string, subject map[string]any) url.Values {
	return merge(url.Values{
		"grant_type":         {grantTokenExchange},
		"subject_token":      {s.sign(tb, subject)},
		"subject_token_type": {tokenTypeJWT},
		"actor_token":        {actor},
		"actor_token_type":   {tokenTypeAccessToken},
		"scope":              {"user/Observation.rs user/Patient.r system/*.rs"},
	}, clientAuth(tb, id, s, nil))
}

// TestTokenExchange: the professional behind the clinic's system gets a
// user-level token naming them, their role, the clinic and the purpose.
func TestTokenExchange(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		sys := e.systemToken("clinic", clinicKey, "system/*.rs")
		subject := proClaims(nil)
		r := e.post(PathToken, exchangeForm(t, "clinic", clinicKey, sys.str("access_token"), subject))
		if r.status != http.StatusOK {
			t.Fatalf("exchange: %d %s", r.status, r.raw)
		}
		c := e.verify(r.str("access_token"))
		if c.Subject != "Practitioner/dr-chan" || c.FHIRUser != "Practitioner/dr-chan" || c.Role != "PractitionerRole/dr-chan-gp" ||
			c.Org != "Organization/clinic-1" || c.Purpose != "TREAT" || c.ClientID != "clinic" || c.Scope.String() != "user/Observation.rs user/Patient.r" {
			t.Errorf("exchanged claims %+v", c)
		}
		if r.str("issued_token_type") != tokenTypeAccessToken || r.str("fhirUser") != "Practitioner/dr-chan" || r.str("refresh_token") != "" {
			t.Errorf("exchange response %s", r.raw)
		}
		actor := sys.str("access_token")
		cases := []struct {
			name  string
			form  url.Values
			code  string
			state int
		}{
			{"subject jti reused", exchangeForm(t, "clinic", clinicKey, actor, subject), "invalid_grant", 400},
			{"no purpose", exchangeForm(t, "clinic", clinicKey, actor, proClaims(func(c map[string]any) { delete(c, "purpose") })), "invalid_grant", 400},
			{"unknown purpose", exchangeForm(t, "clinic", clinicKey, actor, proClaims(func(c map[string]any) { c["purpose"] = "SNOOP" })), "invalid_grant", 400},
			{"no role", exchangeForm(t, "clinic", clinicKey, actor, proClaims(func(c map[string]any) { delete(c, "role") })), "invalid_grant", 400},
			{"someone else's role", exchangeForm(t, "clinic", clinicKey, actor, proClaims(func(c map[string]any) { c["sub"] = "Practitioner/dr-wong" })), "invalid_grant", 400},
			{"subject is a patient", exchangeForm(t, "clinic", clinicKey, actor, proClaims(func(c map[string]any) { c["sub"] = "Patient/p1" })), "invalid_grant", 400},
			{"subject expired", exchangeForm(t, "clinic", clinicKey, actor, proClaims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })), "invalid_grant", 400},
			{"subject signed by another key", merge(url.Values{"grant_type": {grantTokenExchange}, "subject_token": {labKey.sign(t, proClaims(nil))},
				"subject_token_type": {tokenTypeJWT}, "actor_token": {actor}, "actor_token_type": {tokenTypeAccessToken}}, clientAuth(t, "clinic", clinicKey, nil)), "invalid_grant", 400},
			{"actor is not a token", exchangeForm(t, "clinic", clinicKey, "nonsense", proClaims(nil)), "invalid_grant", 400},
			{"actor is the user token", exchangeForm(t, "clinic", clinicKey, r.str("access_token"), proClaims(nil)), "invalid_grant", 400},
			{"public client", merge(url.Values{"grant_type": {grantTokenExchange}, "client_id": {"app"}}), "unauthorized_client", 400},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, e.post(PathToken, tc.form), tc.state, tc.code)
			})
		}
		t.Run("revoked actor", func(t *testing.T) {
			rv := e.post(PathRevoke, merge(url.Values{"token": {actor}}, clientAuth(t, "clinic", clinicKey, nil)))
			if rv.status != http.StatusOK {
				t.Fatalf("revoke: %s", rv.raw)
			}
			wantError(t, e.post(PathToken, exchangeForm(t, "clinic", clinicKey, actor, proClaims(nil))), 400, "invalid_grant")
		})
	})
}
