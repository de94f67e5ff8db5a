package rest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/audit/journal"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
)

// identityEnv is a server as serve wires it for the registries' data: the
// registry's operations, role-based views from the registered roles, the
// audit journal (written and served), over one backend.
type identityEnv struct {
	*server
	p     *platform.Platform
	audit *auditEnv // the journal's entries (head, since)
}

// forEachIdentityBackend runs fn on an identityEnv on every backend.
func forEachIdentityBackend(t *testing.T, fn func(t *testing.T, e *identityEnv)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			t.Cleanup(func() { st.Close() })
			p := platformtest.OpenShared(t, st)
			tokens := newTokens(t, st)
			auditor, err := audit.New(st, audit.Config{Source: audit.Source{Base: testBase, Name: "test"}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { auditor.Close(context.Background()) })
			api := rest.New(p.Service, rest.Config{Tokens: tokens, Access: p.AccessFor, View: p.Roles.View, Audit: auditor,
				Operations: rest.OperationSet{p.Terminology, p.Registry}, Journal: journal.New(st, p.Service, p.Registry)},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			hs := httptest.NewServer(api.Handler())
			t.Cleanup(hs.Close)
			s := &server{t: t, svc: p.Service, srv: hs, tokens: tokens, keys: st}
			s.bearer = s.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
			fn(t, &identityEnv{server: s, p: p, audit: &auditEnv{t: t, st: st, auditor: auditor}})
		})
	}
}

// registrar is who the tests' registry calls act as: the operator's
// command line.
var registrar = resource.Caller{Writer: "ehealth-admin"}

// provider registers a provider of kind and returns "Organization/ID".
func (e *identityEnv) provider(name, kind string) string {
	e.t.Helper()
	id, err := e.p.Registry.AddProvider(e.t.Context(), registrar, name, kind)
	if err != nil {
		e.t.Fatal(err)
	}
	return "Organization/" + id
}

// professional registers a professional at org with a profession ("" for
// none) and returns the Practitioner's and the PractitionerRole's ids.
func (e *identityEnv) professional(org, council, number, profession string) (prac, role string) {
	e.t.Helper()
	prac, role, err := e.p.Registry.AddProfessional(e.t.Context(), registrar, registry.Professional{
		Name: "CHAN " + number, Council: council, Registration: number, Org: org, Profession: profession})
	if err != nil {
		e.t.Fatal(err)
	}
	return prac, role
}

// citizen registers an adult citizen with $register and returns the
// master Patient's id.
func (e *identityEnv) citizen(hkid string) string {
	e.t.Helper()
	body := fmt.Sprintf(`{"resourceType":"Parameters","parameter":[{"name":"patient","resource":{"resourceType":"Patient",
 "identifier":[{"system":"http://www.immd.gov.hk/hkid","value":%q}],"name":[{"use":"official","family":"CHAN","given":["Tai Man"]}],
 "birthDate":"1970-01-01","gender":"male","telecom":[{"system":"sms","value":"+852 9123 4567"}]}}]}`, hkid)
	r := e.do("POST", "/fhir/Patient/$register", body).must(e.t, http.StatusOK)
	for _, p := range r.body["parameter"].([]any) {
		if m := p.(map[string]any); m["name"] == "patient" {
			return m["resource"].(map[string]any)["id"].(string)
		}
	}
	e.t.Fatalf("$register returned no patient: %s", r.raw)
	return ""
}

// minor registers a child with a parent as substitute decision maker and
// returns the master Patient's and the SDM's RelatedPerson's ids.
func (e *identityEnv) minor(hkid string) (patient, sdm string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"resourceType":"Parameters","parameter":[{"name":"patient","resource":{"resourceType":"Patient",
 "identifier":[{"system":"http://www.immd.gov.hk/hkid","value":%q}],"name":[{"use":"official","family":"CHAN","given":["Siu Ming"]}],
 "birthDate":"2018-05-01","gender":"male"}},
 {"name":"substitute-decision-maker","resource":{"resourceType":"RelatedPerson",
 "relationship":[{"coding":[{"system":%q,"code":"parent"}]}],"name":[{"family":"CHAN","given":["Mei Ling"]}],
 "telecom":[{"system":"phone","value":"+852 9876 5432"}],"identifier":[{"system":"http://www.immd.gov.hk/hkid","value":"D288754(2)"}]}}]}`,
		hkid, registry.SDMRoleSystem)
	r := e.do("POST", "/fhir/Patient/$register", body).must(e.t, http.StatusOK)
	for _, p := range r.body["parameter"].([]any) {
		switch m := p.(map[string]any); m["name"] {
		case "patient":
			patient = m["resource"].(map[string]any)["id"].(string)
		case "substitute-decision-maker":
			sdm = strings.TrimPrefix(m["valueReference"].(map[string]any)["reference"].(string), "RelatedPerson/")
		}
	}
	if patient == "" || sdm == "" {
		e.t.Fatalf("$register of a minor: %s", r.raw)
	}
	return patient, sdm
}

// underCare gives org a sharing consent and a care encounter with patient,
// as the operator: org's professionals see the patient.
func (e *identityEnv) underCare(patient, org string) {
	e.t.Helper()
	orgID := strings.TrimPrefix(org, "Organization/")
	e.do("PUT", "/fhir/Consent/share-"+patient, sharingConsent("share-"+patient, patient, orgID, "active", "")).must(e.t, http.StatusCreated)
	e.do("PUT", "/fhir/Encounter/care-"+patient, careEncounter("care-"+patient, patient, orgID, "in-progress")).must(e.t, http.StatusCreated)
}

// as is a token of a professional acting in role at org, allowed every
// interaction on every type.
func (e *identityEnv) as(prac, role, org string) string {
	e.t.Helper()
	return "Bearer " + e.issue(token.Claims{Subject: prac, ClientID: "emr", FHIRUser: "Practitioner/" + prac, Org: org,
		Role: "PractitionerRole/" + role, Purpose: "TREAT", Scope: scope.MustParse("user/*.cruds")})
}

// version is the current versionId of ref, read as the operator.
func (e *identityEnv) version(ref string) string {
	e.t.Helper()
	r := e.do("GET", "/fhir/"+ref, nil).must(e.t, http.StatusOK)
	return r.body["meta"].(map[string]any)["versionId"].(string)
}

// TestRegistryIdentityProtected: a token — a professional of a provider
// that sees the citizen, with every scope — cannot update, patch or delete
// a citizen's master Patient, a child's substitute decision maker, nor the
// providers' registry's Organization, Practitioner and PractitionerRole (403, a reason naming who owns them;
// nothing changes), nor create a Patient claiming to be a master record or
// an Organization claiming to be registered, plainly or in a transaction.
// The provider's own local Patient stays its to write. The operator may
// change them, and each such write is in the audit journal.
func TestRegistryIdentityProtected(t *testing.T) {
	forEachIdentityBackend(t, func(t *testing.T, e *identityEnv) {
		org := e.provider("Kowloon Clinic", "clinic")
		prac, role := e.professional(org, "mchk", "M1", "doctor")
		master := e.citizen("A123456(3)")
		e.underCare(master, org)
		child, sdm := e.minor("E364912(5)")
		e.underCare(child, org)
		dr := e.as(prac, role, org)
		as := []string{"Authorization", dr}
		patch := []string{"Authorization", dr, "Content-Type", "application/json-patch+json"}

		// The professional sees every one of them: a refusal below is about
		// who owns the record, not about what the token may see.
		targets := []string{"Patient/" + master, "Patient/" + child, "RelatedPerson/" + sdm, org, "Practitioner/" + prac, "PractitionerRole/" + role}
		for _, ref := range targets {
			e.do("GET", "/fhir/"+ref, nil, as...).must(t, http.StatusOK)
		}
		for _, ref := range targets {
			before := e.version(ref)
			cur := e.do("GET", "/fhir/"+ref, nil).must(t, http.StatusOK).body
			cur["active"] = false
			stripped := e.do("GET", "/fhir/"+ref, nil).must(t, http.StatusOK).body
			delete(stripped, "meta") // an update that drops the tag changes the record all the same
			for _, w := range []struct {
				name, method string
				body         any
				headers      []string
			}{
				{"update", "PUT", cur, as},
				{"update without the tag", "PUT", stripped, as},
				{"patch", "PATCH", `[{"op":"replace","path":"/active","value":false}]`, patch},
				{"delete", "DELETE", nil, as},
			} {
				r := e.do(w.method, "/fhir/"+ref, w.body, w.headers...)
				if r.status != http.StatusForbidden || !strings.Contains(diagnostics(r), "only the platform's operations and the operator") {
					t.Errorf("%s of %s by a token = %d %q, want 403 naming who may", w.name, ref, r.status, diagnostics(r))
				}
			}
			if after := e.version(ref); after != before {
				t.Errorf("%s changed from version %s to %s under refused writes", ref, before, after)
			}
		}
		// In a batch too, entry by entry.
		r := e.do("POST", "/fhir", fmt.Sprintf(`{"resourceType":"Bundle","type":"batch","entry":[
 {"request":{"method":"DELETE","url":"Patient/%s"}},{"request":{"method":"DELETE","url":"%s"}}]}`, master, org), as...).must(t, http.StatusOK)
		if got := entryStatuses(r); !slices.Equal(got, []string{"403", "403"}) {
			t.Errorf("batch deletes of the master and the provider by a token = %v, want [403 403]", got)
		}

		// No token creates a record claiming the platform's tags.
		fakeMaster := fmt.Sprintf(`{"resourceType":"Patient","meta":{"tag":[{"system":%q,"code":%q}]},"name":[{"family":"FAKE"}]}`, registry.MPISystem, registry.TagMaster)
		fakeOrg := fmt.Sprintf(`{"resourceType":"Organization","meta":{"tag":[{"system":%q,"code":%q}]},"name":"Fake Clinic"}`, resource.RegistryOriginSystem, resource.RegistryOriginRegistry)
		for _, c := range []struct{ path, body string }{
			{"/fhir/Patient", fakeMaster},
			{"/fhir/Organization", fakeOrg},
			{"/fhir", `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Patient"},"resource":` + fakeMaster + `}]}`},
		} {
			r := e.do("POST", c.path, c.body, as...)
			if r.status != http.StatusForbidden || !strings.Contains(diagnostics(r), "a token may not") {
				t.Errorf("POST %s by a token claiming a platform tag = %d %q, want 403", c.path, r.status, diagnostics(r))
			}
		}
		if n := total(e.do("GET", "/fhir/Patient?family=FAKE&_summary=count", nil).must(t, http.StatusOK)); n != 0 {
			t.Errorf("%d fake master Patients stored", n)
		}
		// Nor adds the tag to a record of its own.
		local := e.do("POST", "/fhir/Patient", `{"resourceType":"Patient","name":[{"family":"LOCAL"}]}`, as...).must(t, http.StatusCreated)
		localID := local.body["id"].(string)
		local.body["gender"] = "female"
		e.do("PUT", "/fhir/Patient/"+localID, local.body, as...).must(t, http.StatusOK) // the provider's own record is its to write
		local.body["meta"] = map[string]any{"tag": []any{map[string]any{"system": registry.MPISystem, "code": registry.TagMaster}}}
		e.do("PUT", "/fhir/Patient/"+localID, local.body, as...).must(t, http.StatusForbidden)
		e.do("PATCH", "/fhir/Patient/"+localID, `[{"op":"replace","path":"/gender","value":"male"}]`, patch...).must(t, http.StatusOK)
		e.do("DELETE", "/fhir/Patient/"+localID, nil, as...).must(t, http.StatusNoContent)

		// The operator may, and each write is in the journal.
		for _, w := range []struct{ method, ref, action string }{
			{"PUT", "Patient/" + master, "U"},
			{"PUT", org, "U"},
			{"DELETE", "PractitionerRole/" + role, "D"},
		} {
			before := e.audit.head()
			var body any
			if w.method == "PUT" {
				cur := e.do("GET", "/fhir/"+w.ref, nil).must(t, http.StatusOK).body
				cur["active"] = true
				cur["language"] = "en"
				body = cur
			}
			r := e.do(w.method, "/fhir/"+w.ref, body)
			if r.status != http.StatusOK && r.status != http.StatusNoContent {
				t.Errorf("%s %s by the operator = %d: %s", w.method, w.ref, r.status, r.raw)
				continue
			}
			var found bool
			for _, en := range e.audit.since(before, "") {
				found = found || (en.action == w.action && strings.HasPrefix(en.what, w.ref+"/_history/"))
			}
			if !found {
				t.Errorf("the operator's %s of %s is not in the journal: %v", w.method, w.ref, summary(e.audit.since(before, "")))
			}
		}
	})
}

// entryStatuses lists a batch-response's entry statuses (the 3 digits).
func entryStatuses(r response) []string {
	var out []string
	for _, en := range r.body["entry"].([]any) {
		out = append(out, en.(map[string]any)["response"].(map[string]any)["status"].(string)[:3])
	}
	return out
}

// total is a searchset's total.
func total(r response) int {
	n, _ := r.body["total"].(interface{ Int64() (int64, error) })
	if n == nil {
		return -1
	}
	v, _ := n.Int64()
	return int(v)
}

// TestJournalIDsRefused: no AuditEvent is written at an id of the audit
// journal ("j-…"), by anyone: a plain PUT, PATCH or DELETE answers 405 (the
// journal's route), a transaction with such an entry fails with the same
// 405 and text (after the entry's name), a batch's entry fails alone with it, and a server without
// the journal's route refuses in the service with the same answer;
// nothing is stored.
func TestJournalIDsRefused(t *testing.T) {
	if id := audit.EventID(7); !strings.HasPrefix(id, resource.JournalIDPrefix) || !audit.IsEventID(resource.JournalIDPrefix+"x") {
		t.Fatalf("resource.JournalIDPrefix %q is not the journal's (%s)", resource.JournalIDPrefix, id)
	}
	external := `{"resourceType":"AuditEvent","id":"j-7","type":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"110110"},
 "recorded":"2026-01-01T00:00:00Z","agent":[{"requestor":true,"who":{"display":"EMR"}}],"source":{"observer":{"display":"EMR"}}}`
	want := errorIssues(resource.JournalWriteRefused("j-7"))[0].Message
	refused := func(t *testing.T, what string, r response, prefix ...string) {
		t.Helper()
		if want := strings.Join(prefix, "") + want; r.status != http.StatusMethodNotAllowed || diagnostics(r) != want {
			t.Errorf("%s = %d %q, want 405 %q", what, r.status, diagnostics(r), want)
		}
	}
	check := func(t *testing.T, s *server) {
		refused(t, "PUT AuditEvent/j-7", s.do("PUT", "/fhir/AuditEvent/j-7", external))
		refused(t, "PATCH AuditEvent/j-7", s.do("PATCH", "/fhir/AuditEvent/j-7", `[{"op":"remove","path":"/agent"}]`, "Content-Type", "application/json-patch+json"))
		refused(t, "DELETE AuditEvent/j-7", s.do("DELETE", "/fhir/AuditEvent/j-7", nil))
		tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"PUT","url":"AuditEvent/j-7"},"resource":` + external + `}]}`
		refused(t, "a transaction's PUT AuditEvent/j-7", s.do("POST", "/fhir", tx), "entry 0 (PUT AuditEvent): ")
		batch := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"PUT","url":"AuditEvent/j-7"},"resource":` + external + `},
 {"request":{"method":"DELETE","url":"AuditEvent/j-8"}},{"request":{"method":"PUT","url":"AuditEvent/x-7"},"resource":` + strings.Replace(external, "j-7", "x-7", 1) + `}]}`
		r := s.do("POST", "/fhir", batch).must(t, http.StatusOK)
		if got := entryStatuses(r); !slices.Equal(got, []string{"405", "405", "201"}) {
			t.Errorf("batch of PUT j-7, DELETE j-8, PUT x-7 = %v, want [405 405 201]", got)
		}
		if _, err := s.svc.Read(t.Context(), resource.Caller{}, "AuditEvent", "j-7"); !outcome.Is(err, outcome.NotFound) {
			t.Errorf("AuditEvent/j-7 in the store: %v", err)
		}
	}
	forEachIdentityBackend(t, func(t *testing.T, e *identityEnv) { check(t, e.server) })
	t.Run("without the journal's route", func(t *testing.T) {
		forEachBackend(t, check)
	})
}

// errorIssues is the issues of an *outcome.Error.
func errorIssues(err error) []outcome.Issue {
	var oe *outcome.Error
	if !errors.As(err, &oe) {
		return nil
	}
	return oe.Issues
}

// TestRegisteredProfessionView: a professional the registry registers
// with a profession gets that profession's view of a record, end to end:
// the pharmacist's role (registered with profession pharmacist) reads the
// citizen's prescription but not their Observation (404, as missing) and
// may not search Observations (403), while a doctor at the same provider,
// and a professional registered with no profession, read both. The role's
// codes are the local professional-role code and the SNOMED CT occupation,
// beside the healthcare-professional role. An unknown profession is
// refused (400) at the profession parameter.
func TestRegisteredProfessionView(t *testing.T) {
	forEachIdentityBackend(t, func(t *testing.T, e *identityEnv) {
		org := e.provider("Kowloon Pharmacy", "pharmacy")
		pharmPrac, pharmRole := e.professional(org, "ppbhk", "P1", "pharmacist")
		drPrac, drRole := e.professional(org, "mchk", "M1", "doctor")
		plainPrac, plainRole := e.professional(org, "ppbhk", "P2", "")
		master := e.citizen("A123456(3)")
		e.underCare(master, org)
		e.do("PUT", "/fhir/Observation/bp", fmt.Sprintf(`{"resourceType":"Observation","id":"bp","status":"final",
 "code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/%s"}}`, master)).must(t, http.StatusCreated)
		e.do("PUT", "/fhir/MedicationRequest/rx", fmt.Sprintf(`{"resourceType":"MedicationRequest","id":"rx","status":"active","intent":"order",
 "medicationCodeableConcept":{"text":"amlodipine 5 mg"},"subject":{"reference":"Patient/%s"}}`, master)).must(t, http.StatusCreated)

		codes := e.do("GET", "/fhir/PractitionerRole/"+pharmRole, nil).must(t, http.StatusOK).body["code"]
		var got []string
		for _, cc := range codes.([]any) {
			for _, c := range cc.(map[string]any)["coding"].([]any) {
				m := c.(map[string]any)
				got = append(got, m["system"].(string)+"|"+m["code"].(string))
			}
		}
		wantCodes := []string{registry.ProfessionalRoleSystem + "|pharmacist", "http://snomed.info/sct|46255001", registry.ProfessionalRoleSystem + "|healthcare-professional"}
		if !slices.Equal(got, wantCodes) {
			t.Errorf("the pharmacist's role codes = %v, want %v", got, wantCodes)
		}

		for _, c := range []struct {
			who             string
			bearer          string
			obs, rx, search int
		}{
			{"pharmacist", e.as(pharmPrac, pharmRole, org), 404, 200, 403},
			{"doctor", e.as(drPrac, drRole, org), 200, 200, 200},
			{"no profession", e.as(plainPrac, plainRole, org), 200, 200, 200},
		} {
			as := []string{"Authorization", c.bearer}
			e.do("GET", "/fhir/Patient/"+master, nil, as...).must(t, http.StatusOK)
			if r := e.do("GET", "/fhir/Observation/bp", nil, as...); r.status != c.obs {
				t.Errorf("%s: GET Observation/bp = %d, want %d: %s", c.who, r.status, c.obs, r.raw)
			} else if c.obs == 404 && diagnostics(r) != "Observation/bp is not known" {
				t.Errorf("%s: the hidden Observation answers %q, not as a missing one", c.who, diagnostics(r))
			}
			if r := e.do("GET", "/fhir/MedicationRequest/rx", nil, as...); r.status != c.rx {
				t.Errorf("%s: GET MedicationRequest/rx = %d, want %d", c.who, r.status, c.rx)
			}
			if r := e.do("GET", "/fhir/Observation?patient="+master, nil, as...); r.status != c.search {
				t.Errorf("%s: GET Observation?patient= = %d, want %d", c.who, r.status, c.search)
			}
		}

		_, _, err := e.p.Registry.AddProfessional(t.Context(), registrar, registry.Professional{
			Name: "X", Council: "ppbhk", Registration: "P3", Org: org, Profession: "alchemist"})
		if !outcome.Is(err, outcome.Invalid) || !slices.ContainsFunc(errorIssues(err), func(i outcome.Issue) bool { return i.Expression == "profession" }) {
			t.Errorf("an unknown profession: %v, want 400 at profession", err)
		}
	})
}
