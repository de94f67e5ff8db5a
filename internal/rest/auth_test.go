package rest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/rest"
)

// TestAuthentication: every request but the public ones needs a valid
// bearer token; a refusal is a 401 OperationOutcome with a challenge.
func TestAuthentication(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		// A well-signed token from another issuer, and one for another
		// server (audience), on the same keys.
		foreign := func(issuer, audience string) string {
			other, err := token.New(s.keys, token.Config{Issuer: issuer, Audience: audience})
			if err != nil {
				t.Fatal(err)
			}
			raw, _, err := other.IssueOperator(t.Context(), token.Claims{Subject: "x", ClientID: "x", Scope: scope.MustParse("system/*.cruds")}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + raw
		}
		for _, tc := range []struct {
			name, method, path, auth string
			want                     int
		}{
			{"metadata is public", "GET", "/fhir/metadata", "", http.StatusOK},
			{"no token", "GET", "/fhir/Patient/p1", "", http.StatusUnauthorized},
			{"no token, search", "GET", "/fhir/Patient?name=chan", "", http.StatusUnauthorized},
			{"no token, write", "PUT", "/fhir/Patient/p9", "", http.StatusUnauthorized},
			{"not a JWT", "GET", "/fhir/Patient/p1", "Bearer abc.def.ghi", http.StatusUnauthorized},
			{"basic auth", "GET", "/fhir/Patient/p1", "Basic dXNlcjpwYXNz", http.StatusUnauthorized},
			{"another issuer", "GET", "/fhir/Patient/p1", foreign("http://elsewhere.test", testBase), http.StatusUnauthorized},
			{"another audience", "GET", "/fhir/Patient/p1", foreign(testBase, "http://elsewhere.test/fhir"), http.StatusUnauthorized},
			{"token in the query", "GET", "/fhir/Patient/p1?access_token=" + s.bearer, "", http.StatusBadRequest},
			{"operator", "GET", "/fhir/Patient/p1", "Bearer " + s.bearer, http.StatusOK},
		} {
			body := ""
			if tc.method == "PUT" {
				body = `{"resourceType":"Patient","id":"p9"}`
			}
			r := s.do(tc.method, tc.path, body, "Authorization", tc.auth)
			if r.status != tc.want {
				t.Errorf("%s: %d, want %d: %s", tc.name, r.status, tc.want, r.raw)
			}
			if tc.want == http.StatusUnauthorized {
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") || r.body["resourceType"] != "OperationOutcome" {
					t.Errorf("%s: challenge %q, body %s", tc.name, r.header.Get("WWW-Authenticate"), r.raw)
				}
			}
		}
		// The write refused above left nothing behind.
		s.do("GET", "/fhir/Patient/p9", nil).must(t, http.StatusNotFound)
	})
}

// TestScopes: SMART scopes on every interaction — 403 for an interaction
// or type the token does not cover, and a resource outside the patient's
// compartment or a finer scope's filter answers as if it did not exist.
func TestScopes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		obs := func(id, patient, category string) string {
			return fmt.Sprintf(`{"resourceType":"Observation","id":%q,"status":"final",
 "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":%q}]}],
 "code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},"subject":{"reference":"Patient/%s"}}`, id, category, patient)
		}
		s.do("PUT", "/fhir/Observation/lab1", obs("lab1", "p1", "laboratory")).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Observation/vit1", obs("vit1", "p1", "vital-signs")).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Observation/lab2", obs("lab2", "p2", "laboratory")).must(t, http.StatusCreated)
		// The professional's provider holds consent and a care relationship for p1 and p2.
		for _, p := range []string{"p1", "p2"} {
			s.do("PUT", "/fhir/Consent/share-"+p, sharingConsent("share-"+p, p, "qmh", "active", "")).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Encounter/visit-"+p, careEncounter("visit-"+p, p, "qmh", "finished")).must(t, http.StatusCreated)
		}

		citizen := "Bearer " + s.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("patient/*.rs")})
		obsOnly := "Bearer " + s.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("patient/Observation.rs")})
		labs := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "lis", FHIRUser: "Practitioner/dr", Org: "Organization/qmh",
			Scope: scope.MustParse("user/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory")})
		writer := "Bearer " + s.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("patient/Observation.crus")})
		system := "Bearer " + s.issue(token.Claims{Subject: "his", ClientID: "his", Org: "Organization/qmh", Scope: scope.MustParse("system/Patient.rs")})
		everything := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/qmh", Scope: scope.MustParse("user/*.cruds")})

		for _, tc := range []struct {
			name, auth, method, path string
			want                     int
		}{
			{"own record", citizen, "GET", "/fhir/Patient/p1", 200},
			{"another citizen", citizen, "GET", "/fhir/Patient/p2", 404},
			{"own observation", citizen, "GET", "/fhir/Observation/o1", 200},
			{"another's observation", citizen, "GET", "/fhir/Observation/o5", 404},
			{"another's observation, old version", citizen, "GET", "/fhir/Observation/o5/_history/1", 404},
			{"another's history", citizen, "GET", "/fhir/Observation/o5/_history", 404},
			{"outside every compartment", citizen, "GET", "/fhir/Organization/qmh", 200},
			{"no create scope", citizen, "POST", "/fhir/Observation", 403},
			{"type not in scope", obsOnly, "GET", "/fhir/Patient/p1", 403},
			{"type not in scope, search", obsOnly, "GET", "/fhir/Patient?name=chan", 403},
			{"_has through a type not in scope", obsOnly, "GET", "/fhir/Observation?patient._has:Observation:patient:code=8480-6", 403},
			{"filter matches", labs, "GET", "/fhir/Observation/lab2", 200},
			{"filter excludes", labs, "GET", "/fhir/Observation/vit1", 404},
			{"system token, no delete", system, "DELETE", "/fhir/Patient/p1", 403},
			{"system token, no Observation", system, "GET", "/fhir/Observation/o1", 403},
			{"type history", citizen, "GET", "/fhir/Observation/_history", 200},
			{"type history under a filter", labs, "GET", "/fhir/Observation/_history", 403},
			{"system history without a scope on every type", obsOnly, "GET", "/fhir/_history", 403},
			{"compartment search of another", citizen, "GET", "/fhir/Patient/p2/Observation", 404},
			{"compartment search of nobody", citizen, "GET", "/fhir/Patient/nobody/Observation", 404},
			{"_contained with a narrow token", obsOnly, "GET", "/fhir/Observation?_contained=true&code=2345-7", 403},
			{"a Consent written by a token", everything, "PUT", "/fhir/Consent/mine", 403},
			{"a Consent deleted by a token", everything, "DELETE", "/fhir/Consent/share-p1", 403},
			{"a SearchParameter written by a token", everything, "PUT", "/fhir/SearchParameter/mine", 403},
		} {
			body := ""
			switch {
			case tc.method == "POST":
				body = obs("", "p1", "laboratory")
			case strings.Contains(tc.path, "/Consent/"):
				body = sharingConsent("mine", "p1", "qmh", "active", "")
			case strings.Contains(tc.path, "/SearchParameter/"):
				body = `{"resourceType":"SearchParameter","id":"mine","url":"http://example.org/sp","name":"x","status":"active","description":"x","code":"x","base":["Patient"],"type":"token","expression":"Patient.gender"}`
			}
			if r := s.do(tc.method, tc.path, body, "Authorization", tc.auth); r.status != tc.want {
				t.Errorf("%s: %s %s = %d, want %d: %s", tc.name, tc.method, tc.path, r.status, tc.want, r.raw)
			}
		}
		// A hidden resource and one that does not exist answer alike.
		hidden := s.do("GET", "/fhir/Patient/p2", nil, "Authorization", citizen)
		absent := s.do("GET", "/fhir/Patient/p2-nobody", nil, "Authorization", citizen)
		if strings.ReplaceAll(string(hidden.raw), "p2", "X") != strings.ReplaceAll(string(absent.raw), "p2-nobody", "X") {
			t.Errorf("a hidden resource answers differently from a missing one:\n%s\n%s", hidden.raw, absent.raw)
		}

		searches := []struct {
			name, auth, query string
			want              []string
		}{
			{"search stays in the compartment", citizen, "/fhir/Observation?code=8480-6", []string{"Observation/o1", "Observation/o2", "Observation/o3"}},
			{"search by another's id", citizen, "/fhir/Observation?subject=Patient/p2", nil},
			{"chain to another", citizen, "/fhir/Observation?subject:Patient.name=wong", nil},
			{"filter applies to search", labs, "/fhir/Observation?code=2345-7&_sort=_id", []string{"Observation/lab1", "Observation/lab2"}},
			{"includes stay in scope", obsOnly, "/fhir/Observation?code=29463-7&_include=Observation:subject", []string{"Observation/o4"}},
		}
		for _, tc := range searches {
			r := s.do("GET", tc.query, nil, "Authorization", tc.auth).must(t, http.StatusOK)
			got := append(ids(r, "match"), ids(r, "include")...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: %s = %v, want %v", tc.name, tc.query, got, tc.want)
			}
			if fmt.Sprint(r.body["total"]) != fmt.Sprint(len(ids(r, "match"))) {
				t.Errorf("%s: total %v for %d matches", tc.name, r.body["total"], len(ids(r, "match")))
			}
		}
		r := s.do("GET", "/fhir/Patient/p1/$everything", nil, "Authorization", citizen).must(t, http.StatusOK)
		for _, id := range append(ids(r, "match"), ids(r, "include")...) {
			if id == "Patient/p2" || id == "Patient/p3" || id == "Observation/o5" || id == "Observation/lab2" {
				t.Errorf("$everything of p1 returned %s", id)
			}
		}
		s.do("GET", "/fhir/Patient/p2/$everything", nil, "Authorization", citizen).must(t, http.StatusNotFound)

		// Type and system history stay in the patient's compartment (and
		// resources in none), totals included.
		// A professional launched for p1 sees p2 by consent and care, yet
		// patient/ scopes confine them to p1's compartment.
		launch := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/qmh",
			Patient: "p1", Scope: scope.MustParse("patient/*.rs")})
		for _, path := range []string{"/fhir/Observation/_history", "/fhir/_history?_count=100", "launch /fhir/Observation/_history", "launch /fhir/_history?_count=100"} {
			auth := citizen
			if p, ok := strings.CutPrefix(path, "launch "); ok {
				path, auth = p, launch
			}
			r := s.do("GET", path, nil, "Authorization", auth).must(t, http.StatusOK)
			entries, _ := r.body["entry"].([]any)
			for _, e := range entries {
				res, _ := e.(map[string]any)["resource"].(map[string]any)
				if subject, _ := res["subject"].(map[string]any); subject != nil && subject["reference"] != "Patient/p1" {
					t.Errorf("%s shows %s/%s about %v", path, res["resourceType"], res["id"], subject["reference"])
				}
				if res["resourceType"] == "Patient" && res["id"] != "p1" {
					t.Errorf("%s shows Patient/%s", path, res["id"])
				}
			}
			if len(entries) == 0 || fmt.Sprint(r.body["total"]) != fmt.Sprint(len(entries)) {
				t.Errorf("%s: %d entries, total %v", path, len(entries), r.body["total"])
			}
		}

		// Writes: patient/ scopes write only in the patient's record.
		join(t, s, "p1", "p2")
		// (A token creates with POST: update-as-create is the operator's.)
		w1 := s.do("POST", "/fhir/Observation", obs("w1", "p1", "laboratory"), "Authorization", writer).must(t, http.StatusCreated).body["id"].(string)
		s.do("POST", "/fhir/Observation", obs("w2", "p2", "laboratory"), "Authorization", writer).must(t, http.StatusForbidden)
		s.do("PUT", "/fhir/Observation/w2", obs("w2", "p1", "laboratory"), "Authorization", writer).must(t, http.StatusNotFound)
		s.do("PUT", "/fhir/Observation/lab2", obs("lab2", "p1", "laboratory"), "Authorization", writer).must(t, http.StatusNotFound)
		s.do("PUT", "/fhir/Observation/"+w1, obs(w1, "p2", "laboratory"), "Authorization", writer).must(t, http.StatusForbidden)
		s.do("PUT", "/fhir/Observation/"+w1, obs(w1, "p1", "vital-signs"), "Authorization", writer).must(t, http.StatusOK)
		s.do("GET", "/fhir/Observation/w2", nil).must(t, http.StatusNotFound)
		s.do("GET", "/fhir/Observation/lab2", nil).must(t, http.StatusOK)

		// A batch GET answers as the same read would.
		batch := `{"resourceType":"Bundle","type":"batch","entry":[
 {"request":{"method":"GET","url":"Patient/p1"}},{"request":{"method":"GET","url":"Patient/p2"}},
 {"request":{"method":"GET","url":"Observation/o5/_history/1"}}]}`
		r = s.do("POST", "/fhir", batch, "Authorization", citizen).must(t, http.StatusOK)
		var statuses []string
		for _, e := range r.body["entry"].([]any) {
			statuses = append(statuses, e.(map[string]any)["response"].(map[string]any)["status"].(string))
		}
		if len(statuses) != 3 || !strings.HasPrefix(statuses[0], "200") || !strings.HasPrefix(statuses[1], "404") || !strings.HasPrefix(statuses[2], "404") {
			t.Errorf("batch GET statuses %v, want 200, 404, 404", statuses)
		}
	})
}

// TestRevokedToken: with an Active check (the authorization server's),
// a verified token that was revoked is refused like an invalid one.
func TestRevokedToken(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			t.Cleanup(func() { st.Close() })
			p := platformtest.OpenShared(t, st)
			tokens := newTokens(t, st)
			revoked := map[string]bool{}
			active := func(_ context.Context, c token.Claims) (bool, error) { return !revoked[c.ID], nil }
			api := rest.New(p.Service, rest.Config{Operations: p.Terminology, Tokens: tokens, Active: active, Access: p.AccessFor}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			hs := httptest.NewServer(api.Handler())
			t.Cleanup(hs.Close)
			s := &server{t: t, svc: p.Service, srv: hs, tokens: tokens, keys: st}
			raw, claims, err := tokens.Issue(t.Context(), token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("patient/*.rs")}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			s.do("GET", "/fhir/Patient/p1", nil, "Authorization", "Bearer "+raw).must(t, http.StatusNotFound)
			revoked[claims.ID] = true
			r := s.do("GET", "/fhir/Patient/p1", nil, "Authorization", "Bearer "+raw).must(t, http.StatusUnauthorized)
			if !strings.Contains(string(r.raw), "revoked") {
				t.Errorf("the refusal does not say the token was revoked: %s", r.raw)
			}
		})
	}
}
