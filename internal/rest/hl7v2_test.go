package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// oru is an ORU^R01 with one glucose result about the holder of hkid
// (the lab's order number: F + hkid's digits).
func oru(control, hkid, value string) string {
	order := "F" + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, hkid)
	return strings.Join([]string{
		"MSH|^~\\&|LIS|KLAB|EHR|EHEALTH|20241101103000||ORU^R01|" + control + "|P|2.5.1",
		"PID|1||" + hkid + "^^^HKID||Chan^Tai Man||19700101|M",
		"OBR|1||" + order + "^KLAB|2345-7^Glucose^LN|||20241101090000|||||||||||||||20241101100000|||F",
		"OBX|1|NM|2345-7^Glucose^LN||" + value + "|mmol/L|3.9-6.1|N|||F",
	}, "\r") + "\r"
}

// TestHL7v2OverHTTP: a lab's system posts ORU^R01 messages to /hl7v2 with
// its token, deposited (package deposit): a result about a registered
// citizen is matched in the master patient index (document, birth date and
// name agree), the lab's record of them is linked and the result lands in
// the citizen's record (AA); re-sent it creates nothing new; a bad message
// is answered AR and stores nothing; a result about someone who never
// registered is refused AE with the reason and stores nothing; without a
// token, 401.
func TestHL7v2OverHTTP(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{})
			first := registerCitizen(t, s, "A123456(3)", "Chan", "Tai Man", "1970-01-01")
			lab := "Bearer " + s.issue(token.Claims{Subject: "lis", ClientID: "lis", Org: "Organization/lab", Scope: scope.MustParse("system/Patient.cru system/DiagnosticReport.cru system/Observation.cru")})
			send := func(msg, bearer string) (int, string) {
				t.Helper()
				r := s.do("POST", "/hl7v2", msg, "Authorization", bearer, "Content-Type", "application/hl7-v2")
				return r.status, string(r.raw)
			}
			results := func() []string {
				t.Helper()
				return ids(s.do("GET", "/fhir/Observation?code=http://loinc.org|2345-7", nil).must(t, http.StatusOK), "match")
			}
			if status, ack := send(oru("M1", "A123456(3)", "5.4"), lab); status != http.StatusOK || !strings.Contains(ack, "MSA|AA|M1") {
				t.Fatalf("a result about a registered citizen: %d %q", status, ack)
			}
			got := results()
			if len(got) != 1 {
				t.Fatalf("after one message the record holds %v", got)
			}
			v, err := s.svc.Read(t.Context(), resource.Caller{}, "Observation", strings.TrimPrefix(got[0], "Observation/"))
			if err != nil || v.PatientKey != first {
				t.Errorf("the result is filed under %q (%v), want the citizen's record %s", v.PatientKey, err, first)
			}
			if _, ack := send(oru("M2", "A123456(3)", "5.4"), lab); !strings.Contains(ack, "MSA|AA|M2") || len(results()) != 1 {
				t.Errorf("sending it again: %q, results %v", ack, results())
			}
			if v2, _ := s.svc.Read(t.Context(), resource.Caller{}, "Observation", v.ID); v2.VersionID != v.VersionID {
				t.Errorf("sending it again made version %d of the result", v2.VersionID)
			}
			if _, ack := send("MSH|^~\\&|LIS|KLAB|EHR|EHEALTH|20241101103000||ORU^R01|M3|P|2.5.1\rOBX|1|NM|x||abc\r", lab); !strings.Contains(ack, "MSA|AR|M3") && !strings.Contains(ack, "MSA|AE|M3") {
				t.Errorf("a bad message: %q", ack)
			}
			if _, ack := send(oru("M4", "D288754(2)", "7.0"), lab); !strings.Contains(ack, "MSA|AE|M4") || !strings.Contains(ack, "no registered citizen") {
				t.Errorf("a result about someone who never registered: %q", ack)
			}
			if got := results(); len(got) != 1 {
				t.Errorf("refused messages left results: %v", got)
			}
			// A corrected result (same filler order, another value) amends
			// the stored one: a new version and its Provenance.
			if _, ack := send(oru("M8", "A123456(3)", "5.9"), lab); !strings.Contains(ack, "MSA|AA|M8") {
				t.Fatalf("a corrected result: %q", ack)
			}
			if v3, _ := s.svc.Read(t.Context(), resource.Caller{}, "Observation", v.ID); v3.VersionID != v.VersionID+1 {
				t.Errorf("the corrected result is at version %d, want %d", v3.VersionID, v.VersionID+1)
			}
			prov := s.do("GET", "/fhir/Provenance?target=Observation/"+v.ID+"/_history/2", nil).must(t, http.StatusOK)
			if n := len(ids(prov, "match")); n != 1 {
				t.Errorf("the correction's Provenance: %d found\n%s", n, prov.raw)
			}
			second := registerCitizen(t, s, "E364912(5)", "Chan", "Tai Man", "1970-01-01")
			if _, ack := send(oru("M7", "E364912(5)", "6.6"), lab); !strings.Contains(ack, "MSA|AA|M7") {
				t.Fatalf("a result about another registered citizen: %q", ack)
			}
			keys := map[string]int{}
			for _, id := range results() {
				v, err := s.svc.Read(t.Context(), resource.Caller{}, "Observation", strings.TrimPrefix(id, "Observation/"))
				if err != nil {
					t.Fatal(err)
				}
				keys[v.PatientKey]++
			}
			if keys[first] != 1 || keys[second] != 1 {
				t.Errorf("results filed under %v, want one under %s and one under %s", keys, first, second)
			}
			if status, _ := send(oru("M5", "A123456(3)", "5.4"), ""); status != http.StatusUnauthorized {
				t.Errorf("without a token: %d", status)
			}
			if r := s.do("POST", "/hl7v2", oru("M6", "A123456(3)", "5.4"), "Authorization", lab, "Content-Type", "application/json"); r.status != http.StatusUnsupportedMediaType {
				t.Errorf("as JSON: %d", r.status)
			}
		})
	}
}

// registerCitizen registers a citizen through $register as the operator
// and returns their master Patient's id.
func registerCitizen(t *testing.T, s *server, hkid, family, given, birth string) string {
	t.Helper()
	reg := s.do("POST", "/fhir/Patient/$register", fmt.Sprintf(`{"resourceType":"Parameters","parameter":[{"name":"patient","resource":{"resourceType":"Patient",
 "identifier":[{"system":"http://www.immd.gov.hk/hkid","value":%q}],"name":[{"family":%q,"given":[%q]}],"birthDate":%q,"gender":"male","telecom":[{"system":"phone","value":"91234567"}]}}]}`,
		hkid, family, given, birth)).must(t, http.StatusOK)
	return registeredID(t, reg.body)
}

// registeredID is the master Patient's id in a $register answer.
func registeredID(t *testing.T, params map[string]any) string {
	t.Helper()
	for _, p := range params["parameter"].([]any) {
		if m := p.(map[string]any); m["name"] == "patient" {
			if id, _ := m["resource"].(map[string]any)["id"].(string); id != "" {
				return id
			}
		}
	}
	t.Fatalf("no patient in the $register answer: %v", params)
	return ""
}
