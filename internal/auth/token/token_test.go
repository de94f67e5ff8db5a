package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestIssueVerifyRoundTrip(t *testing.T) {
	cases := []struct {
		name     string
		claims   Claims
		operator bool
		// wantJSON are claims the payload must hold exactly; absent lists
		// the ones it must not hold.
		wantJSON map[string]any
		absent   []string
	}{
		{name: "practitioner with every claim", claims: practitioner(),
			wantJSON: map[string]any{"fhirUser": "Practitioner/123", "org": "Organization/hosp-1",
				"role": "PractitionerRole/r-7", "purpose": "TREAT", "patient": "9", "client_id": "clinic-emr",
				"sub": "Practitioner/123", "scope": "fhirUser openid user/Observation.rs user/Patient.r"},
			absent: []string{"operator", "nbf"}},
		{name: "citizen", claims: Claims{Subject: "Patient/9", ClientID: "ehealth-app",
			Scope: scope.MustParse("patient/*.rs launch/patient"), FHIRUser: "Patient/9", Patient: "9"},
			wantJSON: map[string]any{"fhirUser": "Patient/9", "patient": "9"},
			absent:   []string{"org", "role", "purpose", "operator"}},
		{name: "substitute decision maker", claims: Claims{Subject: "RelatedPerson/4", ClientID: "ehealth-app",
			Scope: scope.MustParse("patient/*.rs"), FHIRUser: "RelatedPerson/4", Patient: "child-1"},
			wantJSON: map[string]any{"fhirUser": "RelatedPerson/4", "patient": "child-1"}},
		{name: "system token for a provider", claims: Claims{Subject: "lab-system", ClientID: "lab-system",
			Scope: scope.MustParse("system/Observation.cr"), Org: "Organization/lab-2"},
			wantJSON: map[string]any{"org": "Organization/lab-2"}, absent: []string{"fhirUser", "operator"}},
		{name: "operator", operator: true, claims: Claims{Subject: "operator", ClientID: "ehealth-admin",
			Scope: scope.MustParse("system/*.cruds"), Purpose: "HSYSADMIN"},
			wantJSON: map[string]any{"operator": true, "purpose": "HSYSADMIN"},
			absent:   []string{"fhirUser", "org", "role", "patient"}},
	}
	forEachBackend(t, func(t *testing.T, st store.Store) {
		clk := newClock(DefaultRotateEvery, 3*24*time.Hour+time.Minute+300*time.Millisecond)
		s := newService(t, st, clk, Config{})
		ctx := context.Background()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				issue := s.Issue
				if tc.operator {
					issue = s.IssueOperator
				}
				raw, issued, err := issue(ctx, tc.claims, 15*time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.Verify(ctx, raw)
				if err != nil {
					t.Fatal(err)
				}
				if !sameClaims(got, issued) {
					t.Errorf("verified claims differ from issued:\n got %+v\nwant %+v", got, issued)
				}
				want := tc.claims
				want.Issuer, want.Audience, want.Operator, want.ID = testIssuer, testAudience, tc.operator, got.ID
				want.IssuedAt = clk.Now().Truncate(time.Second)
				want.Expiry = want.IssuedAt.Add(15 * time.Minute)
				if !sameClaims(got, want) {
					t.Errorf("claims:\n got %+v\nwant %+v", got, want)
				}
				checkWire(t, raw, tc.wantJSON, tc.absent)
			})
		}
	})
}

// sameClaims compares claims, their scope sets by their normal form.
func sameClaims(a, b Claims) bool {
	if a.Scope.String() != b.Scope.String() {
		return false
	}
	a.Scope, b.Scope = scope.Set{}, scope.Set{}
	return reflect.DeepEqual(a, b)
}

// checkWire checks a token's header and payload as JSON: the RFC 9068
// shape and the claims a case expects.
func checkWire(t *testing.T, raw string, want map[string]any, absent []string) {
	t.Helper()
	header, payload := parts(t, raw)
	if header["typ"] != "at+jwt" || header["alg"] != "ES256" || header["kid"] == nil {
		t.Errorf("header %v: want typ at+jwt, alg ES256 and a kid", header)
	}
	for _, c := range []string{"iss", "aud", "sub", "client_id", "scope", "iat", "exp", "jti"} {
		if payload[c] == nil {
			t.Errorf("payload lacks %s: %v", c, payload)
		}
	}
	if payload["iss"] != testIssuer || payload["aud"] != testAudience {
		t.Errorf("iss %v aud %v", payload["iss"], payload["aud"])
	}
	for k, v := range want {
		if payload[k] != v {
			t.Errorf("payload %s = %#v, want %#v", k, payload[k], v)
		}
	}
	for _, k := range absent {
		if _, ok := payload[k]; ok {
			t.Errorf("payload has %s: %v", k, payload[k])
		}
	}
}

func TestIssueRefuses(t *testing.T) {
	with := func(f func(*Claims)) Claims { c := practitioner(); f(&c); return c }
	cases := []struct {
		name     string
		claims   Claims
		operator bool
		ttl      time.Duration
		want     string
	}{
		{"operator through Issue", Claims{Subject: "x", ClientID: "x", Scope: scope.MustParse("system/*.rs"), Operator: true}, false, time.Hour, "operator"},
		{"operator naming a person", practitioner(), true, time.Hour, "operator token names no"},
		{"operator naming a patient", Claims{Subject: "x", ClientID: "x", Scope: scope.MustParse("system/*.rs"), Patient: "9"}, true, time.Hour, "operator token names no"},
		{"zero lifetime", practitioner(), false, 0, "lifetime"},
		{"lifetime above the cap", practitioner(), false, MaxTTL + time.Second, "lifetime"},
		{"no person and no provider", with(func(c *Claims) { c.FHIRUser, c.Org, c.Role = "", "", "" }), false, time.Hour, "names a fhirUser or an org"},
		{"fhirUser an Organization", with(func(c *Claims) { c.FHIRUser = "Organization/1" }), false, time.Hour, "fhirUser"},
		{"fhirUser without id", with(func(c *Claims) { c.FHIRUser = "Practitioner/" }), false, time.Hour, "fhirUser"},
		{"fhirUser absolute", with(func(c *Claims) { c.FHIRUser = "https://x/Practitioner/1" }), false, time.Hour, "fhirUser"},
		{"org not an Organization", with(func(c *Claims) { c.Org = "Practitioner/1" }), false, time.Hour, "org"},
		{"role not a PractitionerRole", with(func(c *Claims) { c.Role = "Practitioner/1" }), false, time.Hour, "role"},
		{"role without org", with(func(c *Claims) { c.Org = "" }), false, time.Hour, "role"},
		{"role of a patient", with(func(c *Claims) { c.FHIRUser = "Patient/9" }), false, time.Hour, "role"},
		{"unknown purpose", with(func(c *Claims) { c.Purpose = "CURIOSITY" }), false, time.Hour, "purpose"},
		{"patient not an id", with(func(c *Claims) { c.Patient = "Patient/9" }), false, time.Hour, "patient"},
		{"no scope", with(func(c *Claims) { c.Scope = scope.Set{} }), false, time.Hour, "scope"},
		{"no subject", with(func(c *Claims) { c.Subject = "" }), false, time.Hour, "sub"},
		{"no client", with(func(c *Claims) { c.ClientID = "" }), false, time.Hour, "client_id"},
	}
	forEachBackend(t, func(t *testing.T, st store.Store) {
		s := newService(t, st, newClock(time.Hour, time.Minute), Config{})
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				issue := s.Issue
				if tc.operator {
					issue = s.IssueOperator
				}
				raw, _, err := issue(context.Background(), tc.claims, tc.ttl)
				if err == nil {
					t.Fatalf("issued %s", raw)
				}
				if !outcome.Is(err, outcome.Invalid) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v (kind %v): want Invalid mentioning %q", err, outcome.KindOf(err), tc.want)
				}
			})
		}
	})
}

// TestVerifyRejects forges and alters tokens every way an attacker or a
// confused client might, and checks each is refused as invalid_token with
// the reason, while the control cases pass.
func TestVerifyRejects(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		clk := newClock(DefaultRotateEvery, time.Hour)
		s := newService(t, st, clk, Config{})
		good, claims, err := s.Issue(ctx, practitioner(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		header, payload := parts(t, good)
		kid := header["kid"].(string)
		ours := privateKeys(t, st)[kid]
		foreign, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pubDER, _ := x509.MarshalPKIXPublicKey(&ours.PublicKey)
		jwks, err := s.JWKS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		edit := func(f func(p map[string]any)) map[string]any {
			p := map[string]any{}
			for k, v := range payload {
				p[k] = v
			}
			f(p)
			return p
		}
		now := claims.IssuedAt.Unix()
		others := func(cfg Config) string {
			o := newService(t, st, clk, cfg)
			raw, _, err := o.Issue(ctx, practitioner(), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		split := strings.Split(good, ".")
		cases := []struct {
			name    string
			raw     func() string
			advance time.Duration
			want    string // "" : accepted
		}{
			{"control", func() string { return good }, 0, ""},
			{"within the leeway after exp", func() string { return good }, time.Minute + 4*time.Second, ""},
			{"aud as an array holding ours", func() string {
				return sign(t, jose.ES256, ours, kid, "at+jwt", edit(func(p map[string]any) { p["aud"] = []string{"https://other", testAudience} }))
			}, 0, ""},
			{"typ application/at+jwt", func() string { return sign(t, jose.ES256, ours, kid, "application/at+jwt", payload) }, 0, ""},
			{"expired beyond the leeway", func() string { return good }, time.Minute + 6*time.Second, "expired"},
			{"wrong signature", func() string { return sign(t, jose.ES256, foreign, kid, "at+jwt", payload) }, 0, "signature"},
			{"signature of another token", func() string {
				other, _, _ := s.Issue(ctx, practitioner(), 2*time.Minute)
				return split[0] + "." + split[1] + "." + strings.Split(other, ".")[2]
			}, 0, "signature"},
			{"tampered payload", func() string {
				return split[0] + "." + encodeJSON(t, edit(func(p map[string]any) { p["scope"] = "user/*.cruds" })) + "." + split[2]
			}, 0, "signature"},
			{"tampered header", func() string {
				return encodeJSON(t, map[string]any{"alg": "ES256", "kid": kid, "typ": "at+jwt", "x": 1}) + "." + split[1] + "." + split[2]
			}, 0, "signature"},
			{"unknown kid", func() string { return sign(t, jose.ES256, foreign, "junk", "at+jwt", payload) }, 0, "unknown"},
			{"no kid", func() string { return sign(t, jose.ES256, ours, "", "at+jwt", payload) }, 0, "kid"},
			{"alg none", func() string {
				return encodeJSON(t, map[string]any{"alg": "none", "kid": kid, "typ": "at+jwt"}) + "." + split[1] + "."
			}, 0, "ES256"},
			{"HS256 keyed with the public key (DER)", func() string { return sign(t, jose.HS256, pubDER, kid, "at+jwt", payload) }, 0, "ES256"},
			{"HS256 keyed with the JWKS document", func() string { return sign(t, jose.HS256, jwks, kid, "at+jwt", payload) }, 0, "ES256"},
			{"ES384", func() string {
				k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
				return sign(t, jose.ES384, k, kid, "at+jwt", payload)
			}, 0, "ES256"},
			{"typ JWT", func() string { return sign(t, jose.ES256, ours, kid, "JWT", payload) }, 0, "typ"},
			{"no typ (an id token's shape)", func() string { return sign(t, jose.ES256, ours, kid, "", payload) }, 0, "typ"},
			{"wrong iss", func() string { return others(Config{Issuer: "https://evil.test"}) }, 0, "iss"},
			{"wrong aud", func() string { return others(Config{Audience: "https://other.test/fhir"}) }, 0, "aud"},
			{"iat in the future", func() string {
				return sign(t, jose.ES256, ours, kid, "at+jwt", edit(func(p map[string]any) { p["iat"] = now + 60; p["exp"] = now + 120 }))
			}, 0, "future"},
			{"nbf in the future", func() string {
				return sign(t, jose.ES256, ours, kid, "at+jwt", edit(func(p map[string]any) { p["nbf"] = now + 60 }))
			}, 0, "nbf"},
			{"lifetime above the cap", func() string {
				return sign(t, jose.ES256, ours, kid, "at+jwt", edit(func(p map[string]any) { p["exp"] = now + int64(MaxTTL/time.Second) + 60 }))
			}, 0, "lifetime"},
			{"no jti", func() string {
				return sign(t, jose.ES256, ours, kid, "at+jwt", edit(func(p map[string]any) { delete(p, "jti") }))
			}, 0, "jti"},
			{"operator marker beside a person", func() string {
				return sign(t, jose.ES256, ours, kid, "at+jwt", edit(func(p map[string]any) { p["operator"] = true }))
			}, 0, "operator"},
			{"bad scope", func() string {
				return sign(t, jose.ES256, ours, kid, "at+jwt", edit(func(p map[string]any) { p["scope"] = "user/Observation.xyz" }))
			}, 0, "scope"},
			{"JSON serialization", func() string {
				return `{"payload":"` + split[1] + `","protected":"` + split[0] + `","signature":"` + split[2] + `"}`
			}, 0, "ES256"},
			{"too long", func() string { return good + strings.Repeat("A", maxTokenLen) }, 0, "longer"},
			{"garbage", func() string { return "not.a.token" }, 0, "ES256"},
		}
		start := clk.Now()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				raw := tc.raw()
				clk.Advance(tc.advance)
				defer clk.Advance(-tc.advance)
				got, err := s.Verify(ctx, raw)
				if tc.want == "" {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if got.FHIRUser != "Practitioner/123" {
						t.Errorf("claims %+v", got)
					}
					return
				}
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				var p *Problem
				if !outcome.Is(err, outcome.Unauthorized) || !errors.As(err, &p) || p.Code != CodeInvalidToken {
					t.Fatalf("error %v: want Unauthorized with invalid_token", err)
				}
				if !strings.Contains(p.Description, tc.want) {
					t.Errorf("description %q: want it to mention %q", p.Description, tc.want)
				}
			})
		}
		if !clk.Now().Equal(start) {
			t.Fatal("clock not restored")
		}
	})
}

// TestJWKS checks the key set document with go-jose alone: public keys
// only, ES256 signature keys named by their thumbprints, and an issued
// token verifies with the key its kid names.
func TestJWKS(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		s := newService(t, st, newClock(DefaultRotateEvery, time.Minute), Config{})
		raw, _, err := s.Issue(ctx, practitioner(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := s.JWKS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(doc), `"d"`) {
			t.Fatalf("JWKS holds a private key: %s", doc)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(doc, &set); err != nil {
			t.Fatal(err)
		}
		if len(set.Keys) != 2 {
			t.Errorf("JWKS has %d keys, want the current and the next slot's", len(set.Keys))
		}
		for _, k := range set.Keys {
			if !k.IsPublic() || k.Algorithm != "ES256" || k.Use != "sig" {
				t.Errorf("key %s: public %v alg %s use %s", k.KeyID, k.IsPublic(), k.Algorithm, k.Use)
			}
			if tp, _ := thumbprint(k); tp != k.KeyID {
				t.Errorf("kid %s is not the thumbprint %s", k.KeyID, tp)
			}
		}
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		keys := set.Key(tok.Headers[0].KeyID)
		if len(keys) != 1 {
			t.Fatalf("JWKS lacks the token's kid %s", tok.Headers[0].KeyID)
		}
		var c jwt.Claims
		if err := tok.Claims(keys[0], &c); err != nil {
			t.Fatalf("token does not verify with the published key: %v", err)
		}
	})
}
