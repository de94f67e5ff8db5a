package rest_test

import (
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
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
)

// keyedAccess is the access predicate of the restricted-record tests, by
// the token's fhirUser (or provider, for a system): a fixed predicate per
// caller, so the tests exercise the store's keys, not the consent rules.
func keyedAccess(w resource.Who) store.Access {
	p1R := store.RestrictedKey("p1")
	switch w.FHIRUser {
	case "Patient/p1", "Patient/p2":
		return store.Access{Patients: []string{strings.TrimPrefix(w.FHIRUser, "Patient/")}, NonPatient: true}
	case "Practitioner/open":
		return store.Access{Patients: []string{"p1", p1R}, NonPatient: true}
	case "Practitioner/x":
		return store.Access{Patients: []string{"p1"}, Grants: [][]string{{"restricted/Practitioner/x"}}, NonPatient: true}
	case "RelatedPerson/sdm":
		return store.Access{Patients: []string{"p1", p1R, "p2", store.RestrictedKey("p2")}, NonPatient: true}
	case "":
		return store.Access{Writers: []string{w.Org}, NonPatient: true}
	}
	return store.Access{}
}

// keyedServer is a server whose callers' predicates are keyedAccess.
func keyedServer(t *testing.T, st store.Store) *server {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	p := platformtest.OpenShared(t, st)
	tokens := newTokens(t, st)
	api := rest.New(p.Service, rest.Config{MaxBodyBytes: 1 << 20, Operations: p.Terminology, Tokens: tokens, Access: keyedAccess},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(api.Handler())
	t.Cleanup(hs.Close)
	s := &server{t: t, svc: p.Service, srv: hs, tokens: tokens, keys: st}
	s.bearer = s.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
	return s
}

// observation is an Observation of patient with a LOINC code and optional
// security labels ("system|code").
func labelledObservation(id, patient, code string, labels ...string) string {
	var sec []string
	for _, l := range labels {
		sys, c, _ := strings.Cut(l, "|")
		sec = append(sec, fmt.Sprintf(`{"system":%q,"code":%q}`, sys, c))
	}
	meta := ""
	if len(sec) > 0 {
		meta = `"meta":{"security":[` + strings.Join(sec, ",") + `]},`
	}
	return fmt.Sprintf(`{"resourceType":"Observation","id":%q,%s"status":"final","code":{"coding":[{"system":"http://loinc.org","code":%q}]},
 "subject":{"reference":"Patient/%s"},"performer":[{"reference":"Practitioner/dr"}]}`, id, meta, code, patient)
}

const restrictedR = resource.ConfidentialitySystem + "|R"

// keyOf is the patient key the current version of typ/id is filed under.
func keyOf(t *testing.T, s *server, typ, id string) string {
	t.Helper()
	v, err := s.svc.Read(t.Context(), resource.Caller{}, typ, id)
	if err != nil {
		t.Fatalf("read %s/%s: %v", typ, id, err)
	}
	return v.PatientKey
}

// TestRestrictedRecords: an Observation labelled restricted is filed under
// RestrictedKey(p1), so a caller whose predicate shows p1 only finds no
// trace of it — read, search, totals, compartment, includes, chains,
// _has, $everything — while one listing the restricted key, or holding a
// grant recorded under it, sees it on every path; changing the label
// moves it.
func TestRestrictedRecords(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			s := keyedServer(t, st)
			s.do("PUT", "/fhir/Practitioner/dr", `{"resourceType":"Practitioner","id":"dr","name":[{"family":"Wong"}]}`).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Patient/p1", `{"resourceType":"Patient","id":"p1","meta":{"security":[{"system":"`+resource.ConfidentialitySystem+`","code":"R"}]},"name":[{"family":"Chan"}]}`).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Observation/o1", labelledObservation("o1", "p1", "8480-6")).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Observation/r1", labelledObservation("r1", "p1", "8480-6", restrictedR)).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Observation/r2", labelledObservation("r2", "p1", "29463-7", resource.ActCodeSystem+"|PSY")).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/DiagnosticReport/rep", `{"resourceType":"DiagnosticReport","id":"rep","status":"final","code":{"text":"bp"},
 "subject":{"reference":"Patient/p1"},"result":[{"reference":"Observation/r1"}]}`).must(t, http.StatusCreated)
			for ref, want := range map[string]string{"Patient/p1": "p1", "Observation/o1": "p1", "Observation/r1": store.RestrictedKey("p1"),
				"Observation/r2": store.RestrictedKey("p1"), "DiagnosticReport/rep": "p1"} {
				typ, id, _ := strings.Cut(ref, "/")
				if got := keyOf(t, s, typ, id); got != want {
					t.Errorf("%s is filed under %q, want %q", ref, got, want)
				}
			}
			err := st.Write(t.Context(), func(tx store.Tx) error {
				return tx.PutGrant(t.Context(), store.Grant{Grantee: "restricted/Practitioner/x", PatientKey: store.RestrictedKey("p1"),
					Source: "Task/open", From: time.Now().Add(-time.Minute)})
			})
			if err != nil {
				t.Fatal(err)
			}
			bearer := func(c token.Claims) string { return "Bearer " + s.issue(c) }
			citizen := bearer(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("user/*.rs")})
			open := bearer(token.Claims{Subject: "open", ClientID: "emr", FHIRUser: "Practitioner/open", Scope: scope.MustParse("user/*.rs")})
			granted := bearer(token.Claims{Subject: "x", ClientID: "emr", FHIRUser: "Practitioner/x", Scope: scope.MustParse("user/*.rs")})
			sdm := bearer(token.Claims{Subject: "sdm", ClientID: "app", FHIRUser: "RelatedPerson/sdm", Patient: "p1", Scope: scope.MustParse("patient/*.rs")})

			hidden := s.do("GET", "/fhir/Observation/nothing-here", nil, "Authorization", citizen).must(t, http.StatusNotFound)
			checkRestrictedPaths(t, s, "p1 only", citizen, false, hidden)
			for name, auth := range map[string]string{"restricted key listed": open, "restricted grant": granted, "patient scope": sdm} {
				checkRestrictedPaths(t, s, name, auth, true, hidden)
			}

			// Removing the label files it with the rest of p1's record;
			// adding it again takes it back.
			s.do("PUT", "/fhir/Observation/r1", labelledObservation("r1", "p1", "8480-6")).must(t, http.StatusOK)
			if got := keyOf(t, s, "Observation", "r1"); got != "p1" {
				t.Errorf("unlabelled r1 is filed under %q, want p1", got)
			}
			s.do("GET", "/fhir/Observation/r1", nil, "Authorization", citizen).must(t, http.StatusOK)
			r := s.do("GET", "/fhir/Observation?patient=p1&code=8480-6", nil, "Authorization", citizen).must(t, http.StatusOK)
			if got := sorted(ids(r, "match")); !slices.Equal(got, []string{"Observation/o1", "Observation/r1"}) {
				t.Errorf("after unlabelling, the citizen finds %v", got)
			}
			s.do("PUT", "/fhir/Observation/r1", labelledObservation("r1", "p1", "8480-6", restrictedR)).must(t, http.StatusOK)
			if got := keyOf(t, s, "Observation", "r1"); got != store.RestrictedKey("p1") {
				t.Errorf("relabelled r1 is filed under %q, want %q", got, store.RestrictedKey("p1"))
			}
			checkRestrictedPaths(t, s, "relabelled, p1 only", citizen, false, hidden)
		})
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

// deposit creates body (its id dropped) with POST as auth, as a token
// creates, and returns the id the server gave it.
func deposit(t *testing.T, s *server, auth, body string) string {
	t.Helper()
	res := obj(t, body)
	delete(res, "id")
	r := s.do("POST", "/fhir/"+res["resourceType"].(string), res, "Authorization", auth).must(t, http.StatusCreated)
	return r.body["id"].(string)
}

// checkRestrictedPaths checks every read path shows p1's restricted
// Observations (r1 labelled R, r2 labelled PSY) to auth exactly when sees;
// a hidden one answers as hidden, the answer for one that never existed.
func checkRestrictedPaths(t *testing.T, s *server, step, auth string, sees bool, hidden response) {
	t.Helper()
	pick := func(all, visible []string) []string {
		if sees {
			return all
		}
		return visible
	}
	r := s.do("GET", "/fhir/Observation/r1", nil, "Authorization", auth)
	if sees {
		r.must(t, http.StatusOK)
	} else if r.status != hidden.status || strings.ReplaceAll(string(r.raw), "r1", "nothing-here") != string(hidden.raw) {
		t.Errorf("%s: read of the restricted record = %d %s, want as for a missing one: %d %s", step, r.status, r.raw, hidden.status, hidden.raw)
	}
	for _, tc := range []struct {
		path string
		mode string
		want []string
	}{
		{"/fhir/Observation?patient=p1", "match", pick([]string{"Observation/o1", "Observation/r1", "Observation/r2"}, []string{"Observation/o1"})},
		{"/fhir/Observation?code=8480-6", "match", pick([]string{"Observation/o1", "Observation/r1"}, []string{"Observation/o1"})},
		{"/fhir/Observation?subject=Patient/p1&code=29463-7", "match", pick([]string{"Observation/r2"}, nil)},
		{"/fhir/Patient/p1/Observation", "match", pick([]string{"Observation/o1", "Observation/r1", "Observation/r2"}, []string{"Observation/o1"})},
		{"/fhir/Patient?_id=p1&_revinclude=Observation:subject", "include", pick([]string{"Observation/o1", "Observation/r1", "Observation/r2"}, []string{"Observation/o1"})},
		{"/fhir/DiagnosticReport?_include=DiagnosticReport:result", "include", pick([]string{"Observation/r1"}, nil)},
		{"/fhir/DiagnosticReport?result:Observation.code=8480-6", "match", pick([]string{"DiagnosticReport/rep"}, nil)},
		{"/fhir/Patient?_has:Observation:subject:code=29463-7", "match", pick([]string{"Patient/p1"}, nil)},
		{"/fhir/Practitioner?_has:Observation:performer:code=29463-7", "match", pick([]string{"Practitioner/dr"}, nil)},
		{"/fhir/Patient/p1/$everything", "match", pick([]string{"DiagnosticReport/rep", "Observation/o1", "Observation/r1", "Observation/r2", "Patient/p1"},
			[]string{"DiagnosticReport/rep", "Observation/o1", "Patient/p1"})},
	} {
		r := s.do("GET", tc.path, nil, "Authorization", auth).must(t, http.StatusOK)
		if got := sorted(ids(r, tc.mode)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %s (%s) = %v, want %v", step, tc.path, tc.mode, got, tc.want)
		}
		if tc.mode != "match" || strings.Contains(tc.path, "$") {
			continue
		}
		sep := "?"
		if strings.Contains(tc.path, "?") {
			sep = "&"
		}
		r = s.do("GET", tc.path+sep+"_summary=count", nil, "Authorization", auth).must(t, http.StatusOK)
		if fmt.Sprint(r.body["total"]) != fmt.Sprint(len(tc.want)) {
			t.Errorf("%s: %s total %v, want %d", step, tc.path, r.body["total"], len(tc.want))
		}
	}
}

// restrictionConsent restricts p1's records of the given LOINC code.
const restrictionConsent = `{"resourceType":"Consent","id":"restrict-1","status":"active",
 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
 "category":[{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/consent-category","code":"restriction"}]}],
 "patient":{"reference":"Patient/p1"},"dateTime":"2024-01-01T00:00:00Z",
 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
 "provision":{"type":"deny","code":[{"coding":[{"system":"http://loinc.org","code":"29463-7"}]}]}}`

// TestRestrictionConsent: a citizen's active restriction of a category
// labels and files as restricted what is deposited in it afterwards, in
// the deposit's own transaction; other records and other patients'
// are untouched, and an inactive restriction restricts nothing.
func TestRestrictionConsent(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := keyedServer(t, b.Open(t))
			for _, p := range []string{"p1", "p2"} {
				s.do("PUT", "/fhir/Patient/"+p, `{"resourceType":"Patient","id":"`+p+`"}`).must(t, http.StatusCreated)
			}
			join(t, s, "p1", "p2")
			s.do("PUT", "/fhir/Consent/restrict-1", restrictionConsent).must(t, http.StatusCreated)
			lab := "Bearer " + s.issue(token.Claims{Subject: "lis", ClientID: "lis", Org: "Organization/lab", Scope: scope.MustParse("system/*.cruds")})
			w1 := deposit(t, s, lab, labelledObservation("w1", "p1", "29463-7"))
			w2 := deposit(t, s, lab, labelledObservation("w2", "p1", "29463-7"))
			bp := deposit(t, s, lab, labelledObservation("bp", "p1", "8480-6"))
			w3 := deposit(t, s, lab, labelledObservation("w3", "p2", "29463-7"))
			for id, want := range map[string]string{w1: store.RestrictedKey("p1"), w2: store.RestrictedKey("p1"), bp: "p1", w3: "p2"} {
				if got := keyOf(t, s, "Observation", id); got != want {
					t.Errorf("Observation/%s is filed under %q, want %q", id, got, want)
				}
			}
			// The label is in the stored resource and its index.
			r := s.do("GET", "/fhir/Observation/"+w1, nil).must(t, http.StatusOK)
			if !strings.Contains(string(r.raw), `"code":"R"`) {
				t.Errorf("w1 was not labelled: %s", r.raw)
			}
			r = s.do("GET", "/fhir/Observation?_security="+restrictedR, nil).must(t, http.StatusOK)
			if got := sorted(ids(r, "match")); !slices.Equal(got, sorted([]string{"Observation/" + w1, "Observation/" + w2})) {
				t.Errorf("_security=R finds %v", got)
			}
			// An update that drops the label gets it back while the
			// restriction holds.
			s.do("PUT", "/fhir/Observation/"+w1, labelledObservation(w1, "p1", "29463-7"), "Authorization", lab).must(t, http.StatusOK)
			if got := keyOf(t, s, "Observation", w1); got != store.RestrictedKey("p1") {
				t.Errorf("w1 updated without its label is filed under %q", got)
			}
			citizen := "Bearer " + s.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("user/*.rs")})
			s.do("GET", "/fhir/Observation/"+w1, nil, "Authorization", citizen).must(t, http.StatusNotFound)
			s.do("GET", "/fhir/Observation/"+bp, nil, "Authorization", citizen).must(t, http.StatusOK)

			// Withdrawn, the restriction no longer labels new deposits.
			s.do("PUT", "/fhir/Consent/restrict-1", strings.Replace(restrictionConsent, `"status":"active"`, `"status":"inactive"`, 1)).must(t, http.StatusOK)
			w4 := deposit(t, s, lab, labelledObservation("w4", "p1", "29463-7"))
			if got := keyOf(t, s, "Observation", w4); got != "p1" {
				t.Errorf("deposited after the restriction ended, w4 is filed under %q", got)
			}
		})
	}
}

// TestRestrictionInOneTransaction: a restriction written in a transaction
// Bundle applies to the deposits after it in the same transaction (the
// restrictions the transaction read before are read again).
func TestRestrictionInOneTransaction(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := keyedServer(t, b.Open(t))
			s.do("PUT", "/fhir/Patient/p1", `{"resourceType":"Patient","id":"p1"}`).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Observation/before", labelledObservation("before", "p1", "29463-7")).must(t, http.StatusCreated)
			bundle := `{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":` + labelledObservation("first", "p1", "29463-7") + `,"request":{"method":"PUT","url":"Observation/first"}},
 {"resource":` + restrictionConsent + `,"request":{"method":"PUT","url":"Consent/restrict-1"}},
 {"resource":` + labelledObservation("in-tx", "p1", "29463-7") + `,"request":{"method":"PUT","url":"Observation/in-tx"}}]}`
			s.do("POST", "/fhir", bundle).must(t, http.StatusOK)
			if got := keyOf(t, s, "Observation", "in-tx"); got != store.RestrictedKey("p1") {
				t.Errorf("deposited with the restriction, in-tx is filed under %q", got)
			}
			if got := keyOf(t, s, "Observation", "first"); got != "p1" {
				t.Errorf("deposited before the restriction in its transaction, first is filed under %q", got)
			}
			if got := keyOf(t, s, "Observation", "before"); got != "p1" {
				t.Errorf("deposited before the restriction, before is filed under %q (relabelling is the consent operation's)", got)
			}
		})
	}
}

// TestRestrictedRekey: linking a local record to the master moves its
// restricted records to the master's restricted key.
func TestRestrictedRekey(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := keyedServer(t, b.Open(t))
			s.do("PUT", "/fhir/Patient/m1", `{"resourceType":"Patient","id":"m1"}`).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Patient/l0", `{"resourceType":"Patient","id":"l0"}`).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Observation/x0", labelledObservation("x0", "l0", "8480-6", restrictedR)).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Observation/y0", labelledObservation("y0", "l0", "8480-6")).must(t, http.StatusCreated)
			if got := keyOf(t, s, "Observation", "x0"); got != store.RestrictedKey("l0") {
				t.Fatalf("x0 is filed under %q", got)
			}
			s.do("PUT", "/fhir/Patient/l0", `{"resourceType":"Patient","id":"l0","link":[{"other":{"reference":"Patient/m1"},"type":"refer"}]}`).must(t, http.StatusOK)
			for id, want := range map[string]string{"x0": store.RestrictedKey("m1"), "y0": "m1"} {
				if got := keyOf(t, s, "Observation", id); got != want {
					t.Errorf("after the link, Observation/%s is filed under %q, want %q", id, got, want)
				}
			}
			// Deposits against the linked record land under the master's keys.
			s.do("PUT", "/fhir/Observation/x1", labelledObservation("x1", "l0", "8480-6", restrictedR)).must(t, http.StatusCreated)
			if got := keyOf(t, s, "Observation", "x1"); got != store.RestrictedKey("m1") {
				t.Errorf("x1 deposited against the linked record is filed under %q", got)
			}
			r := s.do("GET", "/fhir/Observation?patient=l0&_summary=count", nil).must(t, http.StatusOK)
			if fmt.Sprint(r.body["total"]) != "3" {
				t.Errorf("the operator counts %v of l0's (the master's) Observations, want 3", r.body["total"])
			}
		})
	}
}

// TestPrivateRecords: a Binary is as visible as its securityContext; one
// with none, and a resource about two patients, only to its writer and
// the operator.
func TestPrivateRecords(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := keyedServer(t, b.Open(t))
			for _, p := range []string{"p1", "p2"} {
				s.do("PUT", "/fhir/Patient/"+p, `{"resourceType":"Patient","id":"`+p+`"}`).must(t, http.StatusCreated)
			}
			join(t, s, "p1", "p2")
			s.do("PUT", "/fhir/Observation/o1", labelledObservation("o1", "p1", "8480-6")).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Observation/r1", labelledObservation("r1", "p1", "8480-6", restrictedR)).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Organization/org", `{"resourceType":"Organization","id":"org","name":"Org"}`).must(t, http.StatusCreated)
			lab := "Bearer " + s.issue(token.Claims{Subject: "lis", ClientID: "lis", Org: "Organization/lab", Scope: scope.MustParse("system/*.cruds")})
			other := "Bearer " + s.issue(token.Claims{Subject: "his", ClientID: "his", Org: "Organization/other", Scope: scope.MustParse("system/*.cruds")})
			binary := func(id, context string) string {
				sc := ""
				if context != "" {
					sc = `,"securityContext":{"reference":"` + context + `"}`
				}
				return `{"resourceType":"Binary","id":"` + id + `","contentType":"text/plain","data":"aGVsbG8="` + sc + `}`
			}
			refs := map[string]string{} // the test's names of the lab's deposits → their references
			for name, context := range map[string]string{"b-patient": "Patient/p1", "b-obs": "Observation/o1", "b-restricted": "Observation/r1",
				"b-none": "", "b-org": "Organization/org", "b-missing": "Observation/nope"} {
				refs[name] = "Binary/" + deposit(t, s, lab, binary(name, context))
			}
			refs["ap"] = "Appointment/" + deposit(t, s, lab, `{"resourceType":"Appointment","status":"booked","start":"2024-05-01T09:00:00Z","end":"2024-05-01T09:30:00Z","participant":[
 {"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Patient/p2"},"status":"accepted"}]}`)
			refs["ap1"] = "Appointment/" + deposit(t, s, lab, `{"resourceType":"Appointment","status":"booked","start":"2024-05-01T09:00:00Z","end":"2024-05-01T09:30:00Z","participant":[
 {"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`)
			for name, want := range map[string]string{"b-patient": "p1", "b-obs": "p1", "b-restricted": store.RestrictedKey("p1"),
				"b-none": store.PrivateKey(""), "b-org": store.PrivateKey(""), "b-missing": store.PrivateKey(""),
				"ap": store.PrivateKey("p1"), "ap1": "p1"} {
				typ, id, _ := strings.Cut(refs[name], "/")
				if got := keyOf(t, s, typ, id); got != want {
					t.Errorf("%s (%s) is filed under %q, want %q", name, refs[name], got, want)
				}
			}
			citizen := func(p string) string {
				return "Bearer " + s.issue(token.Claims{Subject: p, ClientID: "app", FHIRUser: "Patient/" + p, Scope: scope.MustParse("user/*.rs")})
			}
			open := "Bearer " + s.issue(token.Claims{Subject: "open", ClientID: "emr", FHIRUser: "Practitioner/open", Scope: scope.MustParse("user/*.rs")})
			for _, tc := range []struct {
				who, auth string
				sees      []string
			}{
				{"p1", citizen("p1"), []string{"b-patient", "b-obs", "ap1"}},
				{"p2", citizen("p2"), nil},
				{"p1 with restricted", open, []string{"b-patient", "b-obs", "b-restricted", "ap1"}},
				{"the writer", lab, []string{"b-patient", "b-obs", "b-restricted", "b-none", "b-org", "b-missing", "ap", "ap1"}},
				{"another provider", other, nil},
				{"the operator", "Bearer " + s.bearer, []string{"b-patient", "b-obs", "b-restricted", "b-none", "b-org", "b-missing", "ap", "ap1"}},
			} {
				for _, name := range []string{"b-patient", "b-obs", "b-restricted", "b-none", "b-org", "b-missing", "ap", "ap1"} {
					want := http.StatusNotFound
					if slices.Contains(tc.sees, name) {
						want = http.StatusOK
					}
					if r := s.do("GET", "/fhir/"+refs[name], nil, "Authorization", tc.auth); r.status != want {
						t.Errorf("%s reads %s (%s): %d, want %d", tc.who, name, refs[name], r.status, want)
					}
				}
				r := s.do("GET", "/fhir/Appointment?actor=Patient/p2", nil, "Authorization", tc.auth).must(t, http.StatusOK)
				want := []string(nil)
				if slices.Contains(tc.sees, "ap") {
					want = []string{refs["ap"]}
				}
				if got := ids(r, "match"); !slices.Equal(got, want) {
					t.Errorf("%s: Appointment?actor=Patient/p2 = %v, want %v", tc.who, got, want)
				}
			}
			// The operator finds the two-patient appointment in its first
			// patient's compartment; a search naming the first patient finds
			// a two-patient Observation for its writer and the operator only.
			r := s.do("GET", "/fhir/Patient/p1/Appointment", nil).must(t, http.StatusOK)
			if got := sorted(ids(r, "match")); !slices.Equal(got, sorted([]string{refs["ap"], refs["ap1"]})) {
				t.Errorf("Patient/p1/Appointment = %v", got)
			}
			two := strings.Replace(labelledObservation("two", "p1", "8480-6"), `"performer":[{"reference":"Practitioner/dr"}]`, `"performer":[{"reference":"Patient/p2"}]`, 1)
			refs["two"] = "Observation/" + deposit(t, s, lab, two)
			if got := keyOf(t, s, "Observation", strings.TrimPrefix(refs["two"], "Observation/")); got != store.PrivateKey("p1") {
				t.Errorf("Observation/two is filed under %q, want %q", got, store.PrivateKey("p1"))
			}
			for who, tc := range map[string]struct {
				auth string
				want []string
			}{
				"the writer":   {lab, []string{refs["two"]}},
				"the operator": {"Bearer " + s.bearer, sorted([]string{"Observation/o1", "Observation/r1", refs["two"]})},
				"p1":           {citizen("p1"), []string{"Observation/o1"}},
				"p2":           {citizen("p2"), nil},
			} {
				r := s.do("GET", "/fhir/Observation?patient=p1", nil, "Authorization", tc.auth).must(t, http.StatusOK)
				if got := sorted(ids(r, "match")); !slices.Equal(got, tc.want) {
					t.Errorf("%s: Observation?patient=p1 = %v, want %v", who, got, tc.want)
				}
			}
		})
	}
}
