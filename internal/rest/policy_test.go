package rest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/resource"
)

const externalEvent = `{"resourceType":"AuditEvent","type":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"110110"},
 "recorded":"2024-05-01T10:00:00Z","outcome":"0","agent":[{"requestor":true,"who":{"display":"ATNA-SOURCE-XYZ user"}}],
 "source":{"site":"ATNA-SOURCE-XYZ","observer":{"display":"a lab system"}}}`

const serverProvenance = `{"resourceType":"Provenance","id":"prov-s","target":[{"reference":"Organization/qmh"}],"recorded":"2024-05-01T10:00:00Z",
 "meta":{"tag":[{"system":"https://ehealth.hk/fhir/CodeSystem/provenance-origin","code":"server"}]},
 "agent":[{"who":{"display":"the platform"}}]}`

const ownProvenance = `{"resourceType":"Provenance","id":"prov-own","target":[{"reference":"Organization/qmh"}],"recorded":"2024-05-01T10:00:00Z",
 "agent":[{"who":{"display":"the clinic"}}]}`

// TestPolicyBearingResources: an AuditEvent sent by another system is
// stored tagged external, never enters the journal, and is evidence no
// token changes or deletes (the operator may, audited); a Provenance the
// platform wrote is changed or deleted only by the operator, and no token
// creates one claiming that origin.
func TestPolicyBearingResources(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			e := newAuditEnv(t, b)
			s := e.serve(e.auditor, nil)
			s.do("PUT", "/fhir/Organization/qmh", `{"resourceType":"Organization","id":"qmh","name":"QMH"}`).must(t, http.StatusCreated)
			lis := "Bearer " + s.issue(token.Claims{Subject: "lis", ClientID: "lis", Org: "Organization/qmh", Scope: scope.MustParse("system/*.cruds")})
			as := []string{"Authorization", lis}

			before := e.head()
			r := s.do("POST", "/fhir/AuditEvent", externalEvent, as...).must(t, http.StatusCreated)
			id, _ := r.body["id"].(string)
			if !resource.HasTag(r.body, resource.AuditOriginSystem, resource.AuditOriginExternal) {
				t.Errorf("a stored AuditEvent is not tagged external: %s", r.raw)
			}
			got := e.since(before, "")
			if len(got) != 1 || got[0].action != "C" || got[0].what != "AuditEvent/"+id+"/_history/1" || strings.Contains(got[0].body, "ATNA-SOURCE-XYZ") {
				t.Errorf("the journal after an external AuditEvent: %v", summary(got))
			}
			found := s.do("GET", "/fhir/AuditEvent?_tag="+url.QueryEscape(resource.AuditOriginSystem+"|external"), nil).must(t, http.StatusOK)
			if ids(found, "match")[0] != "AuditEvent/"+id {
				t.Errorf("the external AuditEvent is not found by its tag: %s", found.raw)
			}
			changed := strings.Replace(externalEvent, `"outcome":"0"`, `"outcome":"8"`, 1)
			changed = strings.Replace(changed, `{"resourceType":"AuditEvent",`, `{"resourceType":"AuditEvent","id":"`+id+`",`, 1)
			s.do("PUT", "/fhir/AuditEvent/"+id, changed, as...).must(t, http.StatusForbidden)
			s.do("PATCH", "/fhir/AuditEvent/"+id, `[{"op":"replace","path":"/outcome","value":"8"}]`,
				"Authorization", lis, "Content-Type", "application/json-patch+json").must(t, http.StatusForbidden)
			s.do("DELETE", "/fhir/AuditEvent/"+id, nil, as...).must(t, http.StatusForbidden)
			if v := s.do("GET", "/fhir/AuditEvent/"+id, nil).must(t, http.StatusOK); v.body["outcome"] != "0" {
				t.Errorf("a refused change changed the AuditEvent: %s", v.raw)
			}
			before = e.head()
			s.do("PUT", "/fhir/AuditEvent/"+id, strings.Replace(changed, `"meta"`, `"x"`, 1)).must(t, http.StatusOK) // the operator
			if got := e.since(before, "platform operator"); len(got) != 1 || got[0].action != "U" {
				t.Errorf("the operator's change of an AuditEvent is audited as %v", summary(got))
			}
			if v := s.do("GET", "/fhir/AuditEvent/"+id, nil).must(t, http.StatusOK); !resource.HasTag(v.body, resource.AuditOriginSystem, resource.AuditOriginExternal) {
				t.Errorf("the operator's update dropped the external tag: %s", v.raw)
			}

			s.do("POST", "/fhir/Provenance", serverProvenance, as...).must(t, http.StatusForbidden)
			s.do("PUT", "/fhir/Provenance/prov-s", serverProvenance, as...).must(t, http.StatusNotFound) // update-as-create is the operator's
			own := s.do("POST", "/fhir/Provenance", ownProvenance, as...).must(t, http.StatusCreated).body["id"].(string)
			ownProvenance := strings.Replace(ownProvenance, "prov-own", own, 1)
			s.do("PUT", "/fhir/Provenance/"+own, strings.Replace(serverProvenance, "prov-s", own, 1), as...).must(t, http.StatusForbidden)
			s.do("PUT", "/fhir/Provenance/"+own, strings.Replace(ownProvenance, "the clinic", "the clinic's lab", 1), as...).must(t, http.StatusOK)
			s.do("PUT", "/fhir/Provenance/prov-s", serverProvenance).must(t, http.StatusCreated) // the platform's operator
			s.do("PUT", "/fhir/Provenance/prov-s", strings.Replace(serverProvenance, "the platform", "someone", 1), as...).must(t, http.StatusForbidden)
			s.do("PATCH", "/fhir/Provenance/prov-s", `[{"op":"remove","path":"/meta/tag"}]`,
				"Authorization", lis, "Content-Type", "application/json-patch+json").must(t, http.StatusForbidden)
			s.do("DELETE", "/fhir/Provenance/prov-s", nil, as...).must(t, http.StatusForbidden)
			before = e.head()
			s.do("DELETE", "/fhir/Provenance/prov-s", nil).must(t, http.StatusNoContent)
			if got := e.since(before, "platform operator"); len(got) != 1 || got[0].action != "D" {
				t.Errorf("the operator's delete of a server Provenance is audited as %v", summary(got))
			}
		})
	}
}

// TestDepositNeedsJoiningConsent: a provider's token deposits records only
// about citizens who joined (an active joining Consent on their master
// record, or a local record linked to one); a record about a patient who
// never registered, or about no known patient, is refused with nothing
// stored; the provider's own local Patient record is accepted, and the
// operator may still write.
func TestDepositNeedsJoiningConsent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		join(t, s, "p1")
		clinic := "Bearer " + s.issue(token.Claims{Subject: "his", ClientID: "his", Org: "Organization/qmh", Scope: scope.MustParse("system/*.cruds")})
		as := []string{"Authorization", clinic}
		s.do("POST", "/fhir/Observation", observation("d1", "p1"), as...).must(t, http.StatusCreated)
		for _, patient := range []string{"p3", "nobody"} {
			r := s.do("POST", "/fhir/Observation", observation("d-"+patient, patient), as...).must(t, http.StatusForbidden)
			if !strings.Contains(string(r.raw), "has not joined") {
				t.Errorf("refusal for %s: %s", patient, r.raw)
			}
			s.do("GET", "/fhir/Observation/d-"+patient, nil).must(t, http.StatusNotFound)
		}
		bundle := `{"resourceType":"Bundle","type":"transaction","entry":[
 {"request":{"method":"POST","url":"Observation"},"resource":` + observation("d2", "p1") + `},
 {"request":{"method":"POST","url":"Observation"},"resource":` + observation("d3", "p3") + `}]}`
		s.do("POST", "/fhir", bundle, as...).must(t, http.StatusForbidden)
		if r := s.do("GET", "/fhir/Observation?identifier=urn:test|id-d2&_summary=count", nil).must(t, http.StatusOK); fmt.Sprint(r.body["total"]) != "0" {
			t.Errorf("a refused transaction left its first entry: %s", r.raw)
		}
		// The clinic's own record of the patient, not yet linked: accepted;
		// records against it are not, until it is linked to a master.
		local1 := s.do("POST", "/fhir/Patient", `{"resourceType":"Patient","name":[{"family":"Wong"}]}`, as...).must(t, http.StatusCreated).body["id"].(string)
		s.do("POST", "/fhir/Observation", observation("d4", local1), as...).must(t, http.StatusForbidden)
		local2 := s.do("POST", "/fhir/Patient", `{"resourceType":"Patient","link":[{"other":{"reference":"Patient/p1"},"type":"refer"}]}`, as...).must(t, http.StatusCreated).body["id"].(string)
		s.do("POST", "/fhir/Observation", observation("d5", local2), as...).must(t, http.StatusCreated)
		// The operator corrects and imports.
		s.do("PUT", "/fhir/Observation/d6", observation("d6", "p3"), "Authorization", "Bearer "+s.bearer).must(t, http.StatusCreated)
	})
}

// TestFirstAccessNotice: a provider's first audited read of a citizen's
// record writes one first-access notice to the citizen before the answer;
// later reads and searches by that provider write none; another provider's
// first read writes its own; a citizen reading their own record, none.
func TestFirstAccessNotice(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			e := newAuditEnv(t, b)
			s := e.serve(e.auditor, e.st)
			seedClinic(t, s)
			s.do("PUT", "/fhir/Organization/ruttonjee", `{"resourceType":"Organization","id":"ruttonjee","name":"Ruttonjee"}`).must(t, http.StatusCreated)
			for _, org := range []string{"qmh", "ruttonjee"} {
				for _, p := range []string{"p1", "p2"} {
					s.do("PUT", "/fhir/Consent/share-"+org+p, sharingConsent("share-"+org+p, p, org, "active", "")).must(t, http.StatusCreated)
					s.do("PUT", "/fhir/Encounter/visit-"+org+p, careEncounter("visit-"+org+p, p, org, "in-progress")).must(t, http.StatusCreated)
				}
			}
			professional := func(sub, org string) []string {
				return []string{"Authorization", "Bearer " + s.issue(token.Claims{Subject: sub, ClientID: "emr", FHIRUser: "Practitioner/" + sub,
					Org: "Organization/" + org, Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})}
			}
			dr, dr2, other := professional("dr", "qmh"), professional("dr2", "qmh"), professional("dr3", "ruttonjee")
			citizen := []string{"Authorization", "Bearer " + s.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("patient/*.rs")})}
			notices := func(patient string) int {
				t.Helper()
				q := "/fhir/Communication?_summary=count&subject=Patient/" + patient + "&category=" + url.QueryEscape(notify.KindSystem+"|"+notify.KindFirstAccess)
				r := s.do("GET", q, nil).must(t, http.StatusOK)
				n, err := strconv.Atoi(fmt.Sprint(r.body["total"]))
				if err != nil {
					t.Fatalf("count: %s", r.raw)
				}
				return n
			}
			steps := []struct {
				name   string
				as     []string
				path   string
				p1, p2 int // notices after the step
			}{
				{"the citizen reads their own record", citizen, "/fhir/Patient/p1", 0, 0},
				{"the provider's first read", dr, "/fhir/Patient/p1", 1, 0},
				{"a second read", dr, "/fhir/Observation?patient=p1", 1, 0},
				{"a colleague at the same provider", dr2, "/fhir/Patient/p1/_history", 1, 0},
				{"another provider", other, "/fhir/Patient/p1", 2, 0},
				{"a search reaching another citizen", dr, "/fhir/Observation?code=8480-6", 2, 1},
				{"again", dr, "/fhir/Patient/p2", 2, 1},
			}
			for _, st := range steps {
				s.do("GET", st.path, nil, st.as...).must(t, http.StatusOK)
				if p1, p2 := notices("p1"), notices("p2"); p1 != st.p1 || p2 != st.p2 {
					t.Errorf("%s: notices p1 %d, p2 %d; want %d, %d", st.name, p1, p2, st.p1, st.p2)
				}
			}
			// The notice names the provider as the citizen knows it.
			r := s.do("GET", "/fhir/Communication?subject=Patient/p1&category="+url.QueryEscape(notify.KindSystem+"|"+notify.KindFirstAccess), nil).must(t, http.StatusOK)
			for _, want := range []string{"Queen Mary Hospital opened your eHealth record for the first time.", "Ruttonjee opened"} {
				if !strings.Contains(string(r.raw), want) {
					t.Errorf("the first-access notices do not say %q: %s", want, r.raw)
				}
			}
		})
	}
}
