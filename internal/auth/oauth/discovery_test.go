package oauth

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestDiscovery: the SMART configuration and the OpenID Provider
// metadata carry the fields their specs require, and the JWKS holds the
// access-token and ID-token keys.
func TestDiscovery(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		smart := e.do("GET", SmartConfigurationPath, nil, nil)
		if smart.status != http.StatusOK || !strings.HasPrefix(smart.header.Get("Content-Type"), "application/json") {
			t.Fatalf("smart-configuration: %d %s", smart.status, smart.raw)
		}
		want := map[string]string{
			"issuer": testIssuer, "authorization_endpoint": testIssuer + PathAuthorize, "token_endpoint": testIssuer + PathToken,
			"jwks_uri": testIssuer + PathJWKS, "introspection_endpoint": testIssuer + PathIntrospect, "revocation_endpoint": testIssuer + PathRevoke,
		}
		for k, v := range want {
			if smart.str(k) != v {
				t.Errorf("smart %s = %q, want %q", k, smart.str(k), v)
			}
		}
		list := func(r reply, k string) []string {
			var out []string
			for _, v := range r.body[k].([]any) {
				out = append(out, v.(string))
			}
			return out
		}
		for _, c := range []string{"launch-standalone", "launch-ehr", "client-public", "client-confidential-asymmetric",
			"permission-v2", "context-standalone-patient", "sso-openid-connect"} {
			if !slices.Contains(list(smart, "capabilities"), c) {
				t.Errorf("capability %s missing", c)
			}
		}
		if got := list(smart, "code_challenge_methods_supported"); !slices.Equal(got, []string{"S256"}) {
			t.Errorf("code_challenge_methods_supported %v: want S256 only", got)
		}
		for _, g := range []string{"authorization_code", "refresh_token", "client_credentials", grantTokenExchange} {
			if !slices.Contains(list(smart, "grant_types_supported"), g) {
				t.Errorf("grant %s missing", g)
			}
		}
		if got := list(smart, "token_endpoint_auth_signing_alg_values_supported"); !slices.Equal(got, []string{"RS384", "ES384"}) {
			t.Errorf("assertion algorithms %v", got)
		}
		for _, k := range []string{"scopes_supported", "response_types_supported", "token_endpoint_auth_methods_supported"} {
			if len(list(smart, k)) == 0 {
				t.Errorf("smart %s missing", k)
			}
		}

		oidc := e.do("GET", PathOpenIDConfig, nil, nil)
		for k, v := range want {
			if oidc.str(k) != v {
				t.Errorf("openid %s = %q, want %q", k, oidc.str(k), v)
			}
		}
		for _, k := range []string{"response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"} {
			if len(list(oidc, k)) == 0 {
				t.Errorf("openid %s missing (required by OpenID Connect Discovery §3)", k)
			}
		}
		if !slices.Contains(list(oidc, "id_token_signing_alg_values_supported"), "RS256") {
			t.Error("RS256 must be among the ID token algorithms")
		}

		jw := e.do("GET", PathJWKS, nil, nil)
		var set jose.JSONWebKeySet
		if err := jsonRoundTrip(jw.body, &set); err != nil {
			t.Fatal(err)
		}
		algs := map[string]int{}
		for _, k := range set.Keys {
			if !k.IsPublic() {
				t.Fatalf("the JWKS publishes a private key %s", k.KeyID)
			}
			algs[k.Algorithm]++
		}
		if algs["ES256"] < 1 || algs["RS256"] < 2 {
			t.Errorf("JWKS algorithms %v: want the access-token keys (ES256) and the current and next ID-token keys (RS256)", algs)
		}
		// An access token's kid is in the JWKS.
		r := e.systemToken("lab", labKey, "system/Observation.rs")
		tok, err := jose.ParseSigned(r.str("access_token"), []jose.SignatureAlgorithm{jose.ES256})
		if err != nil || len(set.Key(tok.Signatures[0].Header.KeyID)) != 1 {
			t.Errorf("the access token's key is not published: %v", err)
		}
	})
}

// TestCORS: preflights and responses name only registered origins.
func TestCORS(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		preflight := func(path, origin string) reply {
			return e.do("OPTIONS", path, nil, map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST"})
		}
		for _, path := range []string{PathToken, PathIntrospect, PathRevoke, SmartConfigurationPath, PathOpenIDConfig, PathJWKS} {
			r := preflight(path, appOrigin)
			if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != appOrigin ||
				!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
				t.Errorf("%s: preflight from a registered origin: %d %v", path, r.status, r.header)
			}
			r = preflight(path, "https://evil.example")
			if r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s: preflight from an unregistered origin: %d %v", path, r.status, r.header)
			}
		}
		// The actual request: the header only for the registered origin.
		for origin, want := range map[string]string{appOrigin: appOrigin, "https://evil.example": ""} {
			r := e.do("POST", PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {"app"}}, map[string]string{"Origin": origin})
			if got := r.header.Get("Access-Control-Allow-Origin"); got != want || !slices.Contains(r.header.Values("Vary"), "Origin") {
				t.Errorf("POST from %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
			}
		}
		// A newly registered client's origin is allowed at once on this server.
		c := testClients(t)[0]
		c.ID, c.Origins = "app2", []string{"https://app2.example"}
		if _, err := e.srv.Clients().Register(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		e.srv.origins.loaded = e.srv.origins.loaded.Add(-2 * time.Second)
		if r := preflight(PathToken, "https://app2.example"); r.status != http.StatusNoContent {
			t.Errorf("a new client's origin: %d", r.status)
		}
	})
}

// TestRateLimit: the token endpoint's bucket per client.
func TestRateLimit(t *testing.T) {
	forEachBackend(t, Config{TokenRate: 0.001, TokenBurst: 2}, func(t *testing.T, e *env) {
		for i := range 2 {
			if r := e.systemToken("lab", labKey, "system/Observation.rs"); r.status != http.StatusOK {
				t.Fatalf("request %d: %d %s", i, r.status, r.raw)
			}
		}
		r := e.systemToken("lab", labKey, "system/Observation.rs")
		wantError(t, r, http.StatusTooManyRequests, "invalid_request")
		if r.header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		// Another client has its own bucket.
		if r := e.systemToken("clinic", clinicKey, "system/*.rs"); r.status != http.StatusOK {
			t.Errorf("another client was limited: %d %s", r.status, r.raw)
		}
	})
}
