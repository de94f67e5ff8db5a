package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

var citizen = Who{FHIRUser: "Patient/p1", Method: "passkey"}

// TestStandaloneLaunch runs a citizen's standalone launch end to end:
// authorize (auto-approved: the scopes are registered) → code → token →
// introspect active → revoke → introspect inactive.
func TestStandaloneLaunch(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		cookie := e.signIn(citizen)
		verifier, challenge := pkce()
		q := authRequest(challenge, "openid fhirUser launch/patient offline_access patient/Observation.rs?category=laboratory patient/Patient.r system/*.rs")
		tok := e.post(PathToken, exchangeCode(e.code(q, cookie), verifier))
		if tok.status != http.StatusOK {
			t.Fatalf("token: %d %s", tok.status, tok.raw)
		}
		if tok.str("patient") != "p1" || tok.str("fhirUser") != "Patient/p1" || tok.body["need_patient_banner"] != true {
			t.Errorf("token response context: %s", tok.raw)
		}
		if tok.str("token_type") != "bearer" || tok.str("refresh_token") == "" || tok.body["expires_in"] == nil {
			t.Errorf("token response: %s", tok.raw)
		}
		const wantScope = "fhirUser launch/patient offline_access openid patient/Observation.rs?category=laboratory patient/Patient.r"
		if tok.str("scope") != wantScope {
			t.Errorf("scope %q, want %q (system/ dropped, the category filter kept)", tok.str("scope"), wantScope)
		}
		c := e.verify(tok.str("access_token"))
		if c.Subject != "Patient/p1" || c.FHIRUser != "Patient/p1" || c.Patient != "p1" || c.ClientID != "app" || c.Scope.String() != wantScope {
			t.Errorf("claims %+v", c)
		}
		checkIDToken(t, e, tok.str("id_token"), "n-1")

		in := e.introspect(tok.str("access_token"))
		if in.body["active"] != true || in.str("patient") != "p1" || in.str("client_id") != "app" || in.str("scope") != wantScope {
			t.Fatalf("introspection of a live token: %s", in.raw)
		}
		if ok, err := e.srv.Active(context.Background(), c); !ok || err != nil {
			t.Errorf("Active before revocation: %v %v", ok, err)
		}
		rv := e.post(PathRevoke, url.Values{"token": {tok.str("access_token")}, "client_id": {"app"}})
		if rv.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", rv.status, rv.raw)
		}
		if in := e.introspect(tok.str("access_token")); in.body["active"] != false || len(in.body) != 1 {
			t.Errorf("introspection after revocation: %s", in.raw)
		}
		if ok, err := e.srv.Active(context.Background(), c); ok || err != nil {
			t.Errorf("Active after revocation: %v %v", ok, err)
		}
		r := e.post(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}, "client_id": {"app"}})
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
	})
}

// checkIDToken verifies an ID token with the published JWKS.
func checkIDToken(t *testing.T, e *env, raw, nonce string) {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	var set jose.JSONWebKeySet
	r := e.do("GET", PathJWKS, nil, nil)
	if err := jsonRoundTrip(r.body, &set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("the id_token's kid is not in the JWKS (%d keys)", len(set.Keys))
	}
	var c idClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("id_token signature: %v", err)
	}
	if c.Issuer != testIssuer || c.Audience != "app" || c.Nonce != nonce || c.FHIRUser != testFHIRBase+"/Patient/p1" || c.AuthTime == nil {
		t.Errorf("id_token claims %+v", c)
	}
}

// TestAuthorizeRefusals: requests the authorize endpoint must refuse,
// and where the refusal goes.
func TestAuthorizeRefusals(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		cookie := e.signIn(citizen)
		_, challenge := pkce()
		cases := []struct {
			name     string
			edit     func(url.Values)
			redirect bool   // the error goes to the app (else a page)
			code     string // the error code
		}{
			{"no PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, true, "invalid_request"},
			{"PKCE plain", func(q url.Values) { q.Set("code_challenge_method", "plain") }, true, "invalid_request"},
			{"PKCE without method", func(q url.Values) { q.Del("code_challenge_method") }, true, "invalid_request"},
			{"no aud", func(q url.Values) { q.Del("aud") }, true, "invalid_request"},
			{"another aud", func(q url.Values) { q.Set("aud", "https://evil.example/fhir") }, true, "invalid_request"},
			{"unregistered scope only", func(q url.Values) { q.Set("scope", "system/*.rs") }, true, "invalid_scope"},
			{"malformed scope", func(q url.Values) { q.Set("scope", "patient/Observation.xyz") }, true, "invalid_scope"},
			{"implicit grant", func(q url.Values) { q.Set("response_type", "token") }, true, "unsupported_response_type"},
			{"redirect URI one character off", func(q url.Values) { q.Set("redirect_uri", appRedirect+"s") }, false, "invalid_request"},
			{"redirect URI missing", func(q url.Values) { q.Del("redirect_uri") }, true, "invalid_request"}, // to the one registered URI
			{"unknown client", func(q url.Values) { q.Set("client_id", "nobody") }, false, "invalid_client"},
			{"system client", func(q url.Values) { q.Set("client_id", "clinic") }, false, "invalid_request"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				q := authRequest(challenge, "launch/patient patient/*.rs")
				tc.edit(q)
				r := e.authorize(q, cookie)
				if !tc.redirect {
					if loc := r.header.Get("Location"); loc != "" || r.status < 400 {
						t.Fatalf("want an error page, got %d to %q", r.status, loc)
					}
					if !strings.Contains(r.raw, tc.code) {
						t.Errorf("the page does not say %s: %s", tc.code, r.raw)
					}
					return
				}
				p := redirectParams(t, r)
				if p.Get("error") != tc.code || p.Get("code") != "" || p.Get("state") != q.Get("state") {
					t.Errorf("redirect %v: want error %s and the state", p, tc.code)
				}
			})
		}
	})
}

// TestAuthorizeWithoutSession: no sign-in sends the browser to the login
// with the request in next; prompt=none gets login_required instead.
func TestAuthorizeWithoutSession(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		_, challenge := pkce()
		q := authRequest(challenge, "launch/patient patient/*.rs")
		r := e.authorize(q, "")
		loc, err := url.Parse(r.header.Get("Location"))
		if r.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), testLogin+"?") {
			t.Fatalf("want a redirect to the login, got %d %v", r.status, r.header.Get("Location"))
		}
		next, _ := url.Parse(loc.Query().Get("next"))
		if next.Path != PathAuthorize || next.Query().Get("code_challenge") != challenge || next.Host != "" {
			t.Errorf("next %q: want the authorize request as a path", next)
		}
		// A stale cookie is no session either.
		if r := e.authorize(q, SessionCookie+"="+strings.Repeat("x", 43)); r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), testLogin) {
			t.Errorf("unknown session: %d %s", r.status, r.header.Get("Location"))
		}
		q.Set("prompt", "none")
		if p := redirectParams(t, e.authorize(q, "")); p.Get("error") != "login_required" {
			t.Errorf("prompt=none: %v", p)
		}
	})
}

// TestCodeRefusals: the token endpoint refuses a wrong verifier, a
// redirect URI differing from the authorize request's, another client's
// code, and a reused code, whose reuse also revokes what it issued.
func TestCodeRefusals(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		cookie := e.signIn(citizen)
		scope := "launch/patient patient/*.rs offline_access"
		t.Run("wrong verifier", func(t *testing.T) {
			verifier, challenge := pkce()
			code := e.code(authRequest(challenge, scope), cookie)
			other, _ := pkce()
			wantError(t, e.post(PathToken, exchangeCode(code, other)), http.StatusBadRequest, "invalid_grant")
			// The failed attempt spent the PKCE record: the right verifier is too late.
			wantError(t, e.post(PathToken, exchangeCode(code, verifier)), http.StatusBadRequest, "invalid_grant")
		})
		t.Run("no verifier", func(t *testing.T) {
			_, challenge := pkce()
			f := exchangeCode(e.code(authRequest(challenge, scope), cookie), "")
			f.Del("code_verifier")
			wantError(t, e.post(PathToken, f), http.StatusBadRequest, "invalid_grant")
		})
		t.Run("redirect URI one character off", func(t *testing.T) {
			verifier, challenge := pkce()
			f := exchangeCode(e.code(authRequest(challenge, scope), cookie), verifier)
			f.Set("redirect_uri", appRedirect+"/")
			wantError(t, e.post(PathToken, f), http.StatusBadRequest, "invalid_grant")
		})
		t.Run("unknown code", func(t *testing.T) {
			verifier, _ := pkce()
			wantError(t, e.post(PathToken, exchangeCode(newID(), verifier)), http.StatusBadRequest, "invalid_grant")
		})
		t.Run("reused code", func(t *testing.T) {
			verifier, challenge := pkce()
			code := e.code(authRequest(challenge, scope), cookie)
			first := e.post(PathToken, exchangeCode(code, verifier))
			if first.status != http.StatusOK {
				t.Fatalf("first use: %d %s", first.status, first.raw)
			}
			wantError(t, e.post(PathToken, exchangeCode(code, verifier)), http.StatusBadRequest, "invalid_grant")
			if in := e.introspect(first.str("access_token")); in.body["active"] != false {
				t.Errorf("the first use's access token is still active: %s", in.raw)
			}
			r := e.post(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.str("refresh_token")}, "client_id": {"app"}})
			wantError(t, r, http.StatusBadRequest, "invalid_grant")
		})
	})
}

// TestRefreshRotation: each refresh gives a new refresh token; the old one
// is refused, and using it again revokes the whole family.
func TestRefreshRotation(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		cookie := e.signIn(citizen)
		verifier, challenge := pkce()
		tok := e.post(PathToken, exchangeCode(e.code(authRequest(challenge, "launch/patient patient/*.rs offline_access"), cookie), verifier))
		refresh := func(rt string) reply {
			return e.post(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"app"}})
		}
		second := refresh(tok.str("refresh_token"))
		if second.status != http.StatusOK || second.str("refresh_token") == "" || second.str("refresh_token") == tok.str("refresh_token") {
			t.Fatalf("refresh: %d %s", second.status, second.raw)
		}
		if c := e.verify(second.str("access_token")); c.Patient != "p1" || c.FHIRUser != "Patient/p1" || second.str("patient") != "p1" {
			t.Errorf("the refreshed token lost the launch context: %+v %s", c, second.raw)
		}
		third := refresh(second.str("refresh_token"))
		if third.status != http.StatusOK {
			t.Fatalf("second refresh: %d %s", third.status, third.raw)
		}
		// The first refresh token was rotated away: reuse is refused and revokes the family.
		wantError(t, refresh(tok.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
		wantError(t, refresh(third.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
		if in := e.introspect(third.str("access_token")); in.body["active"] != false {
			t.Errorf("the family's latest access token survived the reuse: %s", in.raw)
		}
		// Another client cannot use the app's refresh token.
		verifier, challenge = pkce()
		tok = e.post(PathToken, exchangeCode(e.code(authRequest(challenge, "launch/patient patient/*.rs offline_access"), cookie), verifier))
		r := e.post(PathToken, merge(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}, clientAuth(t, "rs", rsSigner, nil)))
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
	})
}

// TestRefreshScopes: no refresh token without offline_access or
// online_access; an online_access one stops with the sign-in.
func TestRefreshScopes(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		cookie := e.signIn(citizen)
		verifier, challenge := pkce()
		tok := e.post(PathToken, exchangeCode(e.code(authRequest(challenge, "launch/patient patient/*.rs"), cookie), verifier))
		if tok.status != http.StatusOK || tok.str("refresh_token") != "" {
			t.Errorf("without offline_access: %d %s", tok.status, tok.raw)
		}
		verifier, challenge = pkce()
		tok = e.post(PathToken, exchangeCode(e.code(authRequest(challenge, "launch/patient patient/*.rs online_access"), cookie), verifier))
		if tok.str("refresh_token") == "" {
			t.Fatalf("online_access gave no refresh token: %s", tok.raw)
		}
		refresh := func(rt string) reply {
			return e.post(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"app"}})
		}
		next := refresh(tok.str("refresh_token"))
		if next.status != http.StatusOK {
			t.Fatalf("online refresh while signed in: %d %s", next.status, next.raw)
		}
		req, _ := http.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", cookie)
		if err := e.srv.Sessions().End(httptest.NewRecorder(), req); err != nil {
			t.Fatal(err)
		}
		wantError(t, refresh(next.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
	})
}

// TestEHRLaunch: a launch context the EHR created travels into the token;
// it works once, and only for its user.
func TestEHRLaunch(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		doctor := Who{FHIRUser: "Practitioner/dr-chan", Org: "Organization/clinic-1", Role: "PractitionerRole/dr-chan-gp", Method: "password+totp"}
		cookie := e.signIn(doctor)
		launch, err := e.srv.CreateLaunch(ctx, Launch{Patient: "p1", Encounter: "enc-9", FHIRUser: doctor.FHIRUser, Purpose: "TREAT"})
		if err != nil {
			t.Fatal(err)
		}
		verifier, challenge := pkce()
		q := authRequest(challenge, "launch openid fhirUser patient/*.rs user/Patient.rs")
		q.Set("launch", launch)
		tok := e.post(PathToken, exchangeCode(e.code(q, cookie), verifier))
		if tok.str("patient") != "p1" || tok.str("encounter") != "enc-9" || tok.body["need_patient_banner"] != false || tok.str("fhirUser") != doctor.FHIRUser {
			t.Fatalf("EHR launch token: %s", tok.raw)
		}
		c := e.verify(tok.str("access_token"))
		if c.Org != doctor.Org || c.Role != doctor.Role || c.Purpose != "TREAT" || c.Patient != "p1" {
			t.Errorf("claims %+v", c)
		}
		// Used once.
		q.Set("state", "state-again")
		if p := redirectParams(t, e.authorize(q, cookie)); p.Get("error") != "invalid_request" {
			t.Errorf("a used launch: %v", p)
		}
		// Not for another user.
		other, _ := e.srv.CreateLaunch(ctx, Launch{Patient: "p1", FHIRUser: "Practitioner/dr-wong"})
		q.Set("launch", other)
		if p := redirectParams(t, e.authorize(q, cookie)); p.Get("error") != "access_denied" {
			t.Errorf("another user's launch: %v", p)
		}
		// A launch without the launch scope.
		third, _ := e.srv.CreateLaunch(ctx, Launch{Patient: "p1"})
		q.Set("launch", third)
		q.Set("scope", "patient/*.rs")
		if p := redirectParams(t, e.authorize(q, cookie)); p.Get("error") != "invalid_scope" {
			t.Errorf("launch without the launch scope: %v", p)
		}
	})
}
