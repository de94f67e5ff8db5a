package rest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/audit/journal"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
)

// forEachViewBackend runs fn against a server on every backend whose
// professionals see their role's view of views.
func forEachViewBackend(t *testing.T, views *resource.Views, fn func(t *testing.T, s *server)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			t.Cleanup(func() { st.Close() })
			p := platformtest.OpenShared(t, st)
			tokens := newTokens(t, st)
			roles := resource.NewRoleViews(p.Service, views, 0)
			auditor, err := audit.New(st, audit.Config{Source: audit.Source{Base: testBase, Name: "test"}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { auditor.Close(context.Background()) })
			api := rest.New(p.Service, rest.Config{Tokens: tokens, Access: p.AccessFor, View: roles.View, Audit: auditor,
				Journal: journal.New(st, p.Service, p.Registry)}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			hs := httptest.NewServer(api.Handler())
			t.Cleanup(hs.Close)
			s := &server{t: t, svc: p.Service, srv: hs, tokens: tokens, keys: st}
			s.bearer = s.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
			fn(t, s)
		})
	}
}

// seedRecord writes p1's record at the clinic, where it is under care with
// a sharing consent: the clinic's professionals see p1 by consent, and
// what of the record by their role. It has a prescription, a dispense, an allergy, a condition, a deleted
// condition, blood-pressure Observations, the care Encounter, a Medication
// and Practitioner (in no compartment), and the roles the tests act in.
func seedRecord(t *testing.T, s *server) {
	t.Helper()
	seedClinic(t, s)
	put := func(ref, body string) {
		t.Helper()
		s.do("PUT", "/fhir/"+ref, body).must(t, http.StatusCreated)
	}
	put("Organization/clinic", `{"resourceType":"Organization","id":"clinic","name":"Clinic A"}`)
	put("Consent/c1", sharingConsent("c1", "p1", "clinic", "active", ""))
	put("Encounter/e1", careEncounter("e1", "p1", "clinic", "in-progress"))
	put("Practitioner/dr", `{"resourceType":"Practitioner","id":"dr","name":[{"family":"Lee"}]}`)
	put("Medication/med1", `{"resourceType":"Medication","id":"med1","code":{"coding":[{"system":"urn:drug","code":"amlodipine"}]}}`)
	put("MedicationRequest/mr1", `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order",
 "medicationReference":{"reference":"Medication/med1"},"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},
 "requester":{"reference":"Practitioner/dr"}}`)
	put("MedicationDispense/md1", `{"resourceType":"MedicationDispense","id":"md1","status":"completed",
 "medicationReference":{"reference":"Medication/med1"},"subject":{"reference":"Patient/p1"},"authorizingPrescription":[{"reference":"MedicationRequest/mr1"}]}`)
	put("AllergyIntolerance/a1", `{"resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"Patient/p1"},"code":{"text":"penicillin"},
 "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]}}`)
	put("Condition/cond1", `{"resourceType":"Condition","id":"cond1","subject":{"reference":"Patient/p1"},"code":{"text":"hypertension"}}`)
	put("Condition/gone", `{"resourceType":"Condition","id":"gone","subject":{"reference":"Patient/p1"},"code":{"text":"entered in error"}}`)
	s.do("DELETE", "/fhir/Condition/gone", nil).must(t, http.StatusNoContent)
	role := func(id, system, code string) {
		t.Helper()
		put("PractitionerRole/"+id, fmt.Sprintf(`{"resourceType":"PractitionerRole","id":%q,"active":true,
 "practitioner":{"reference":"Practitioner/dr"},"organization":{"reference":"Organization/clinic"},
 "code":[{"coding":[{"system":%q,"code":%q}]}]}`, id, system, code))
	}
	role("pharm", resource.RoleSystem, "pharmacist")
	role("pharm-sct", "http://snomed.info/sct", "46255001")
	role("lab", resource.RoleSystem, "medical-laboratory-technologist")
	role("doctor", "http://snomed.info/sct", "158965000")
	role("clerk", resource.RoleSystem, "healthcare-professional") // configured nowhere
}

// professional is a token of the clinic's professional acting in role
// ("" for a token with no role), allowed to read, search and write.
func professional(s *server, role string) string {
	c := token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/clinic",
		Purpose: "TREAT", Scope: scope.MustParse("user/*.cruds")}
	if role != "" {
		c.Role = "PractitionerRole/" + role
	}
	return "Bearer " + s.issue(c)
}

// recordTypes are the types of p1's record each probe of a whole record
// may return, to compare views by.
var recordTypes = []string{"Patient", "MedicationRequest", "MedicationDispense", "AllergyIntolerance", "Condition", "Observation", "Encounter", "Consent"}

// typesOf lists the record types among refs ("Type/id"), sorted, once each.
func typesOf(refs []string) []string {
	var out []string
	for _, r := range refs {
		typ, _, _ := strings.Cut(r, "/")
		if slices.Contains(recordTypes, typ) && !slices.Contains(out, typ) {
			out = append(out, typ)
		}
	}
	slices.Sort(out)
	return out
}

func sortedOf(s ...string) []string { slices.Sort(s); return s }

// TestRoleViewReads: a professional reads what their role's view holds; a
// record of a type outside it answers exactly as one that does not exist
// (404, the same text) on read, vread, history, a deleted one, a batch GET
// and an update; types in no compartment and the Patient are in every
// view; a doctor, a role configured nowhere and a token with no role see
// everything.
func TestRoleViewReads(t *testing.T) {
	forEachViewBackend(t, resource.DefaultViews(), func(t *testing.T, s *server) {
		seedRecord(t, s)
		shown := map[string]map[string]int{ // role → path → status
			"pharm": {
				"MedicationRequest/mr1": 200, "MedicationDispense/md1": 200, "AllergyIntolerance/a1": 200, "Condition/cond1": 200,
				"Observation/o1": 404, "Observation/o1/_history/1": 404, "Observation/o1/_history": 404, "Encounter/e1": 404,
				"Condition/gone": 410,
			},
			"pharm-sct": {"MedicationRequest/mr1": 200, "Observation/o1": 404, "Encounter/e1": 404},
			"lab": {
				"Observation/o1": 200, "Observation/o1/_history/1": 200,
				"MedicationRequest/mr1": 404, "MedicationRequest/mr1/_history/1": 404, "MedicationRequest/mr1/_history": 404,
				"Condition/cond1": 404, "Condition/gone": 404, "Condition/gone/_history/1": 404, "AllergyIntolerance/a1": 404,
			},
			"doctor": {"Observation/o1": 200, "Encounter/e1": 200, "MedicationRequest/mr1": 200, "Condition/gone": 410, "Condition/cond1": 200},
			"clerk":  {"Observation/o1": 200, "Encounter/e1": 200, "MedicationRequest/mr1": 200, "Condition/cond1": 200},
			"":       {"Observation/o1": 200, "Encounter/e1": 200, "MedicationRequest/mr1": 200, "Condition/cond1": 200},
		}
		for _, role := range []string{"pharm", "pharm-sct", "lab", "doctor", "clerk", ""} {
			bearer := professional(s, role)
			// In every view: the Patient, and what is in no compartment.
			for _, path := range []string{"Patient/p1", "Medication/med1", "Practitioner/dr", "Organization/clinic", "PractitionerRole/pharm"} {
				s.do("GET", "/fhir/"+path, nil, "Authorization", bearer).must(t, http.StatusOK)
			}
			for path, want := range shown[role] {
				r := s.do("GET", "/fhir/"+path, nil, "Authorization", bearer)
				if r.status != want {
					t.Errorf("role %q: GET %s = %d, want %d: %s", role, path, r.status, want, r.raw)
					continue
				}
				if want != http.StatusNotFound {
					continue
				}
				// Word for word what a resource that does not exist answers.
				typ, rest, _ := strings.Cut(path, "/")
				id, tail, _ := strings.Cut(rest, "/")
				other := "/fhir/" + typ + "/nosuch"
				if tail != "" {
					other += "/" + tail
				}
				missing := s.do("GET", other, nil, "Authorization", bearer)
				if missing.status != 404 || diagnostics(r) != strings.ReplaceAll(diagnostics(missing), "nosuch", id) {
					t.Errorf("role %q: GET %s answers %q, a missing one %d %q", role, path, diagnostics(r), missing.status, diagnostics(missing))
				}
			}
		}
		// A batch GET and an update of what the view hides answer 404 too.
		pharm := professional(s, "pharm")
		r := s.do("POST", "/fhir", `{"resourceType":"Bundle","type":"batch","entry":[
 {"request":{"method":"GET","url":"Observation/o1"}},{"request":{"method":"GET","url":"MedicationRequest/mr1"}}]}`, "Authorization", pharm).must(t, http.StatusOK)
		var statuses []string
		for _, e := range r.body["entry"].([]any) {
			statuses = append(statuses, e.(map[string]any)["response"].(map[string]any)["status"].(string)[:3])
		}
		if !slices.Equal(statuses, []string{"404", "200"}) {
			t.Errorf("batch GETs by the pharmacist = %v, want [404 200]", statuses)
		}
		enc := careEncounter("e1", "p1", "clinic", "finished")
		s.do("PUT", "/fhir/Encounter/e1", enc, "Authorization", pharm).must(t, http.StatusNotFound)
		s.do("DELETE", "/fhir/Observation/o1", nil, "Authorization", pharm).must(t, http.StatusNotFound)
		s.do("GET", "/fhir/Encounter/e1", nil).must(t, http.StatusOK) // unchanged: still in-progress
		if got := s.do("GET", "/fhir/Encounter/e1", nil).body["status"]; got != "in-progress" {
			t.Errorf("the pharmacist's update of a hidden Encounter changed it to %v", got)
		}
		// The audit journal's AuditEvents (the clinic's accesses to p1) are
		// outside the pharmacist's view: none found, one read as missing.
		doctor := professional(s, "doctor")
		r = s.do("GET", "/fhir/AuditEvent?patient=p1", nil, "Authorization", doctor).must(t, http.StatusOK)
		events := ids(r, "match")
		if len(events) == 0 {
			t.Fatal("the doctor finds no AuditEvents of the clinic's accesses to p1")
		}
		if got := ids(s.do("GET", "/fhir/AuditEvent?patient=p1", nil, "Authorization", pharm).must(t, http.StatusOK), "match"); len(got) != 0 {
			t.Errorf("the pharmacist finds AuditEvents %v", got)
		}
		s.do("GET", "/fhir/"+events[0], nil, "Authorization", doctor).must(t, http.StatusOK)
		s.do("GET", "/fhir/"+events[0], nil, "Authorization", pharm).must(t, http.StatusNotFound)
		// A token naming a role the platform does not hold is refused.
		ghost := professional(s, "ghost")
		s.do("GET", "/fhir/Patient/p1", nil, "Authorization", ghost).must(t, http.StatusForbidden)
	})
}

// diagnostics is the first issue's diagnostics of an OperationOutcome.
func diagnostics(r response) string {
	issues, _ := r.body["issue"].([]any)
	if len(issues) == 0 {
		return ""
	}
	d, _ := issues[0].(map[string]any)["diagnostics"].(string)
	return d
}

// TestRoleViewSearches: a search of a type outside the view — direct, in a
// compartment, counted, through a chain or _has, a type or system history,
// or a conditional write —
// is refused with 403 and an OperationOutcome saying so; _include,
// _revinclude, $everything and Patient/x/* leave the hidden types out;
// searches of types in no compartment are unaffected.
func TestRoleViewSearches(t *testing.T) {
	forEachViewBackend(t, resource.DefaultViews(), func(t *testing.T, s *server) {
		seedRecord(t, s)
		pharm, lab, doctor := professional(s, "pharm"), professional(s, "lab"), professional(s, "doctor")
		for _, tc := range []struct {
			bearer, path string
			want         int
		}{
			// A _contained match may come back as a container of any type.
			{pharm, "/fhir/Medication?_contained=true&code=amlodipine", 403},
			{pharm, "/fhir/Observation?patient=p1", 403},
			{pharm, "/fhir/Observation?code=8480-6&_summary=count", 403},
			{pharm, "/fhir/Patient/p1/Observation", 403},
			{pharm, "/fhir?_type=MedicationRequest,Encounter&patient=p1", 403},
			{pharm, "/fhir/MedicationRequest?encounter.status=in-progress", 403},
			{pharm, "/fhir/Patient?_has:Observation:subject:code=8480-6", 403},
			{pharm, "/fhir/Observation/_history", 403},
			{pharm, "/fhir/_history", 403},
			{pharm, "/fhir/MedicationRequest/_history", 200},
			{pharm, "/fhir/MedicationRequest?patient=p1", 200},
			{pharm, "/fhir/Patient/p1/MedicationDispense", 200},
			{pharm, "/fhir/Medication?code=amlodipine", 200},
			{pharm, "/fhir/Patient?_has:MedicationRequest:subject:status=active", 200},
			{lab, "/fhir/MedicationRequest?patient=p1", 403},
			{lab, "/fhir/Condition?patient=p1", 403},
			{lab, "/fhir/Observation?patient=p1", 200},
			{doctor, "/fhir/Observation?patient=p1", 200},
			{doctor, "/fhir/Patient/p1/Encounter", 200},
		} {
			r := s.do("GET", tc.path, nil, "Authorization", tc.bearer)
			if r.status != tc.want {
				t.Errorf("GET %s = %d, want %d: %s", tc.path, r.status, tc.want, r.raw)
			}
			if tc.want == 403 && !strings.Contains(diagnostics(r), "what the role") && !strings.Contains(tc.path, "_contained") {
				t.Errorf("GET %s: the 403 does not say why: %s", tc.path, r.raw)
			}
		}
		// A conditional create searches its type: refused, whether or not
		// a match exists.
		obs := `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`
		for _, cond := range []string{"_id=o1", "_id=nosuch"} {
			s.do("POST", "/fhir/Observation", obs, "Authorization", pharm, "If-None-Exist", cond).must(t, http.StatusForbidden)
		}

		for _, tc := range []struct{ name, path string }{
			{"$everything", "/fhir/Patient/p1/$everything"},
			{"Patient/x/*", "/fhir/Patient/p1/*"},
			{"_revinclude=*", "/fhir/Patient?_id=p1&_revinclude=*"},
		} {
			for _, who := range []struct {
				name, bearer string
				want         []string
			}{
				{"pharmacist", pharm, sortedOf("Patient", "MedicationRequest", "MedicationDispense", "AllergyIntolerance", "Condition")},
				{"lab", lab, sortedOf("Patient", "Observation")},
				{"doctor", doctor, sortedOf(recordTypes...)},
			} {
				r := s.do("GET", tc.path, nil, "Authorization", who.bearer).must(t, http.StatusOK)
				got := typesOf(append(ids(r, "match"), ids(r, "include")...))
				if !slices.Equal(got, who.want) {
					t.Errorf("%s by the %s holds %v, want %v", tc.name, who.name, got, who.want)
				}
			}
		}
		// _include of a hidden type (mr1's encounter) and a revinclude of
		// one are left out; the doctor gets them.
		for _, tc := range []struct {
			path         string
			pharm, other string
		}{
			{"/fhir/MedicationRequest?_id=mr1&_include=MedicationRequest:encounter&_include=MedicationRequest:medication", "Medication/med1", "Encounter/e1"},
			{"/fhir/MedicationRequest?_id=mr1&_include=*", "Practitioner/dr", "Encounter/e1"},
			{"/fhir/Patient?_id=p1&_revinclude=Observation:subject&_revinclude=MedicationRequest:subject", "MedicationRequest/mr1", "Observation/o1"},
		} {
			inc := ids(s.do("GET", tc.path, nil, "Authorization", pharm).must(t, http.StatusOK), "include")
			if slices.Contains(inc, tc.other) || (tc.pharm != "" && !slices.Contains(inc, tc.pharm)) {
				t.Errorf("GET %s by the pharmacist includes %v", tc.path, inc)
			}
			inc = ids(s.do("GET", tc.path, nil, "Authorization", doctor).must(t, http.StatusOK), "include")
			if !slices.Contains(inc, tc.other) {
				t.Errorf("GET %s by the doctor includes %v, want %s among them", tc.path, inc, tc.other)
			}
		}
	})
}

// TestRoleViewFile: views loaded from a JSON file replace the built-in
// ones: here pharmacists see allergies only, and doctors, listed nowhere,
// see everything.
func TestRoleViewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "views.json")
	file := `{"roles":[{"name":"pharmacist","codes":["` + resource.RoleSystem + `|pharmacist"],"types":["AllergyIntolerance"]}]}`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	views, err := resource.LoadViews(path)
	if err != nil {
		t.Fatal(err)
	}
	forEachViewBackend(t, views, func(t *testing.T, s *server) {
		seedRecord(t, s)
		for _, tc := range []struct {
			role, path string
			want       int
		}{
			{"pharm", "AllergyIntolerance/a1", 200},
			{"pharm", "MedicationRequest/mr1", 404},
			{"pharm", "Condition/cond1", 404},
			{"pharm", "Patient/p1", 200},
			{"pharm-sct", "MedicationRequest/mr1", 200}, // the file names no SNOMED code
			{"doctor", "Observation/o1", 200},
			{"lab", "MedicationRequest/mr1", 200},
		} {
			if r := s.do("GET", "/fhir/"+tc.path, nil, "Authorization", professional(s, tc.role)); r.status != tc.want {
				t.Errorf("role %s: GET %s = %d, want %d", tc.role, tc.path, r.status, tc.want)
			}
		}
		s.do("GET", "/fhir/MedicationRequest?patient=p1", nil, "Authorization", professional(s, "pharm")).must(t, http.StatusForbidden)
	})
}
