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
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
)

// sharingConsent is a sharing consent of patient to org; status and an
// optional provision period end vary.
func sharingConsent(id, patient, org, status, end string) string {
	period := ""
	if end != "" {
		period = fmt.Sprintf(`,"period":{"start":"2020-01-01","end":%q}`, end)
	}
	return fmt.Sprintf(`{"resourceType":"Consent","id":%q,"status":%q,
 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
 "category":[{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/consent-category","code":"sharing"},{"system":"http://loinc.org","code":"59284-0"}]}],
 "patient":{"reference":"Patient/%s"},"dateTime":"2024-01-01T00:00:00Z",
 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
 "provision":{"type":"permit"%s,"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/%s"}}]}}`,
		id, status, patient, period, org)
}

// careEncounter is an encounter of patient at org.
func careEncounter(id, patient, org, status string) string {
	return fmt.Sprintf(`{"resourceType":"Encounter","id":%q,"status":%q,"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
 "subject":{"reference":"Patient/%s"},"serviceProvider":{"reference":"Organization/%s"},"period":{"start":"2024-01-01T09:00:00Z"}}`, id, status, patient, org)
}

// TestConsent: a professional sees a citizen only with a sharing consent
// to their provider and a care relationship with it, on every path, and
// loses it on the next request when either ends; nothing shows what is
// hidden — no resource, no count, no include.
func TestConsent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		s.do("PUT", "/fhir/Organization/clinic", `{"resourceType":"Organization","id":"clinic","name":"Clinic A"}`).must(t, http.StatusCreated)
		dr := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/clinic",
			Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})
		system := "Bearer " + s.issue(token.Claims{Subject: "emr", ClientID: "emr", Org: "Organization/clinic", Scope: scope.MustParse("system/*.rs")})

		sees := func(step string, want bool) {
			t.Helper()
			status := http.StatusNotFound
			if want {
				status = http.StatusOK
			}
			r := s.do("GET", "/fhir/Patient/p1", nil, "Authorization", dr)
			if r.status != status {
				t.Errorf("%s: Patient/p1 = %d, want %d: %s", step, r.status, status, r.raw)
			}
			r = s.do("GET", "/fhir/Observation?code=8480-6&_total=accurate", nil, "Authorization", dr).must(t, http.StatusOK)
			wantObs := []string(nil)
			if want {
				wantObs = []string{"Observation/o1", "Observation/o2", "Observation/o3"}
			}
			got := ids(r, "match")
			slices.Sort(got)
			if !slices.Equal(got, wantObs) || fmt.Sprint(r.body["total"]) != fmt.Sprint(len(wantObs)) {
				t.Errorf("%s: Observation?code = %v (total %v), want %v", step, got, r.body["total"], wantObs)
			}
			r = s.do("GET", "/fhir/Organization?_id=qmh&_revinclude=Patient:organization", nil, "Authorization", dr).must(t, http.StatusOK)
			inc := ids(r, "include")
			if want != slices.Contains(inc, "Patient/p1") || slices.Contains(inc, "Patient/p2") {
				t.Errorf("%s: _revinclude gave %v", step, inc)
			}
		}
		sees("nothing yet", false)
		s.do("PUT", "/fhir/Consent/c1", sharingConsent("c1", "p1", "clinic", "active", "")).must(t, http.StatusCreated)
		sees("consent without a care relationship", false)
		s.do("PUT", "/fhir/Encounter/e1", careEncounter("e1", "p1", "clinic", "in-progress")).must(t, http.StatusCreated)
		sees("consent and care relationship", true)
		s.do("GET", "/fhir/Patient/p2", nil, "Authorization", dr).must(t, http.StatusNotFound)
		s.do("GET", "/fhir/Patient/p1", nil, "Authorization", system).must(t, http.StatusNotFound)
		s.do("GET", "/fhir/Organization/qmh", nil, "Authorization", system).must(t, http.StatusOK)
		// A lab's system deposits a result: the lab's systems see it, the
		// clinic's system does not; the clinic's professional does, by
		// consent and care.
		join(t, s, "p1")
		lab := "Bearer " + s.issue(token.Claims{Subject: "lis", ClientID: "lis", Org: "Organization/lab", Scope: scope.MustParse("system/Observation.cruds")})
		result := `{"resourceType":"Observation","id":"lab-1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},"subject":{"reference":"Patient/p1"}}`
		s.do("PUT", "/fhir/Observation/lab-1", result, "Authorization", lab).must(t, http.StatusNotFound) // update-as-create is the operator's
		labID := s.do("POST", "/fhir/Observation", result, "Authorization", lab).must(t, http.StatusCreated).body["id"].(string)
		result = strings.ReplaceAll(result, "lab-1", labID)
		s.do("GET", "/fhir/Observation/"+labID, nil, "Authorization", lab).must(t, http.StatusOK)
		s.do("GET", "/fhir/Observation/"+labID, nil, "Authorization", system).must(t, http.StatusNotFound)
		s.do("GET", "/fhir/Observation/"+labID, nil, "Authorization", dr).must(t, http.StatusOK)
		r := s.do("GET", "/fhir/Observation?code=2345-7", nil, "Authorization", lab).must(t, http.StatusOK)
		if got := ids(r, "match"); !slices.Equal(got, []string{"Observation/" + labID}) {
			t.Errorf("the lab's search of its deposits = %v", got)
		}
		s.do("PUT", "/fhir/Observation/o1", strings.Replace(result, labID, "o1", 1), "Authorization", lab).must(t, http.StatusNotFound) // not its deposit

		s.do("PUT", "/fhir/Consent/c1", sharingConsent("c1", "p1", "clinic", "inactive", "")).must(t, http.StatusOK)
		sees("consent revoked", false)
		s.do("PUT", "/fhir/Consent/c1", sharingConsent("c1", "p1", "clinic", "active", "2021-01-01")).must(t, http.StatusOK)
		sees("consent expired", false)
		s.do("PUT", "/fhir/Consent/c1", sharingConsent("c1", "p1", "clinic", "active", "")).must(t, http.StatusOK)
		sees("consent given again", true)
		s.do("PUT", "/fhir/Encounter/e1", careEncounter("e1", "p1", "clinic", "cancelled")).must(t, http.StatusOK)
		sees("encounter cancelled", false)
		s.do("PUT", "/fhir/Encounter/e1", careEncounter("e1", "p1", "clinic", "finished")).must(t, http.StatusOK)
		sees("encounter finished recently", true)
		s.do("DELETE", "/fhir/Consent/c1", nil).must(t, http.StatusNoContent)
		sees("consent deleted", false)
		// Another provider's consent and relationship do not count.
		s.do("PUT", "/fhir/Consent/c2", sharingConsent("c2", "p1", "qmh", "active", "")).must(t, http.StatusCreated)
		sees("another provider's consent", false)
	})
}

// TestLinkedRecordCompartment: a provider's local Patient record linked to
// the master ("refer") files what is deposited against it in the master's
// compartment, so the citizen sees it; a merged record ("replaced-by")
// likewise.
func TestLinkedRecordCompartment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		s.do("PUT", "/fhir/Patient/m1", `{"resourceType":"Patient","id":"m1","name":[{"family":"Chan"}]}`).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Patient/l1", `{"resourceType":"Patient","id":"l1","name":[{"family":"Chan"}],"link":[{"other":{"reference":"Patient/m1"},"type":"refer"}]}`).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Patient/old", `{"resourceType":"Patient","id":"old","active":false,"link":[{"other":{"reference":"Patient/l1"},"type":"replaced-by"}]}`).must(t, http.StatusCreated)
		obs := func(id, patient string) string {
			return fmt.Sprintf(`{"resourceType":"Observation","id":%q,"status":"final","code":{"text":"bp"},"subject":{"reference":"Patient/%s"}}`, id, patient)
		}
		s.do("PUT", "/fhir/Observation/x1", obs("x1", "l1")).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Observation/x2", obs("x2", "old")).must(t, http.StatusCreated)
		// Deposited against a local record before it was linked: linking
		// moves it to the master's compartment.
		s.do("PUT", "/fhir/Patient/l0", `{"resourceType":"Patient","id":"l0","name":[{"family":"Chan"}]}`).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Observation/x0", obs("x0", "l0")).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Patient/l0", `{"resourceType":"Patient","id":"l0","name":[{"family":"Chan"}],"link":[{"other":{"reference":"Patient/m1"},"type":"refer"}]}`).must(t, http.StatusOK)
		for _, ref := range []string{"Observation/x0", "Observation/x1", "Observation/x2", "Patient/l0", "Patient/l1", "Patient/old"} {
			typ, id, _ := strings.Cut(ref, "/")
			v, err := s.svc.Read(t.Context(), resource.Caller{}, typ, id)
			if err != nil || v.PatientKey != "m1" {
				t.Errorf("%s is filed under %q (%v), want the master m1", ref, v.PatientKey, err)
			}
		}
		citizen := "Bearer " + s.issue(token.Claims{Subject: "m1", ClientID: "app", FHIRUser: "Patient/m1", Scope: scope.MustParse("patient/*.rs")})
		s.do("GET", "/fhir/Observation/x1", nil, "Authorization", citizen).must(t, http.StatusOK)
		r := s.do("GET", "/fhir/Patient/m1/Observation?_sort=_id", nil, "Authorization", citizen).must(t, http.StatusOK)
		if got := ids(r, "match"); !slices.Equal(got, []string{"Observation/x0", "Observation/x1", "Observation/x2"}) {
			t.Errorf("the master's compartment holds %v", got)
		}
		for _, q := range []string{"/fhir/Observation?patient=l1", "/fhir/Observation?subject=Patient/old", "/fhir/Observation?code:text=bp&patient=l0"} {
			r := s.do("GET", q, nil, "Authorization", citizen).must(t, http.StatusOK)
			if got := ids(r, "match"); len(got) == 0 {
				t.Errorf("%s found nothing", q)
			}
		}
	})
}

// failingAuditor cannot record.
type failingAuditor struct{}

func (failingAuditor) Record(context.Context, audit.Event) error {
	return errors.New("journal disk full")
}

func (failingAuditor) RecordTx(context.Context, store.AuditAppender, audit.Event) error {
	return errors.New("journal disk full")
}

// TestAuditedReads: each read and search by a professional is in the audit
// journal, with who, for which provider and for what purpose, before the
// answer is sent; when it cannot be recorded the request fails and serves
// nothing.
func TestAuditedReads(t *testing.T) {
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
			serve := func(a rest.Auditor) *server {
				api := rest.New(p.Service, rest.Config{Tokens: tokens, Access: p.AccessFor, Audit: a}, slog.New(slog.NewTextHandler(io.Discard, nil)))
				hs := httptest.NewServer(api.Handler())
				t.Cleanup(hs.Close)
				s := &server{t: t, svc: p.Service, srv: hs, tokens: tokens, keys: st}
				s.bearer = s.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
				return s
			}
			s := serve(auditor)
			seedClinic(t, s)
			s.do("PUT", "/fhir/Consent/c1", sharingConsent("c1", "p1", "qmh", "active", "")).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Encounter/e1", careEncounter("e1", "p1", "qmh", "in-progress")).must(t, http.StatusCreated)
			dr := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/qmh",
				Role: "PractitionerRole/dr-qmh", Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})
			s.do("GET", "/fhir/Patient/p1", nil, "Authorization", dr).must(t, http.StatusOK)
			s.do("GET", "/fhir/Observation?patient=p1&code=8480-6", nil, "Authorization", dr).must(t, http.StatusOK)
			entries, err := st.ReadAudit(t.Context(), store.AuditQuery{Patient: "p1"})
			if err != nil {
				t.Fatal(err)
			}
			var reads, searches int
			for _, e := range entries {
				body := string(e.Body)
				if !strings.Contains(body, "Practitioner/dr") {
					continue // the operator's seeding reads
				}
				for _, want := range []string{"TREAT", "Organization/qmh", "PractitionerRole/dr-qmh", "Patient/p1"} {
					if !strings.Contains(body, want) {
						t.Errorf("audit entry %d lacks %s: %s", e.Seq, want, body)
					}
				}
				switch {
				case strings.Contains(body, `"code":"read"`):
					reads++
				case strings.Contains(body, `"code":"search-type"`):
					searches++
				}
			}
			if reads != 1 || searches != 1 {
				t.Errorf("the journal holds %d reads and %d searches by the professional, want 1 and 1", reads, searches)
			}

			broken := serve(failingAuditor{})
			for _, q := range []string{"/fhir/Patient/p1", "/fhir/Observation?patient=p1"} {
				r := broken.do("GET", q, nil, "Authorization", dr)
				if r.status != http.StatusServiceUnavailable || strings.Contains(string(r.raw), "Chan") || strings.Contains(string(r.raw), "8480-6") {
					t.Errorf("GET %s with the journal failing = %d: %s", q, r.status, r.raw)
				}
			}
		})
	}
}
