package rest_test

import (
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
// its token: a result about a citizen whose record the lab has linked is
// deposited into the citizen's record (AA), re-sent creates nothing new,
// a bad message is answered AR and stores nothing, a result about someone
// who never joined eHealth is refused AE with the reason and stores
// nothing; without a token, 401.
func TestHL7v2OverHTTP(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{})
			s.do("PUT", "/fhir/Patient/p1", `{"resourceType":"Patient","id":"p1","identifier":[{"system":"http://www.immd.gov.hk/hkid","value":"A123456(3)"}]}`).must(t, http.StatusCreated)
			join(t, s, "p1")
			lab := "Bearer " + s.issue(token.Claims{Subject: "lis", ClientID: "lis", Org: "Organization/lab", Scope: scope.MustParse("system/Patient.crus system/DiagnosticReport.crus system/Observation.crus")})
			// The lab's own record of the citizen, linked to the master.
			s.do("POST", "/fhir/Patient", `{"resourceType":"Patient","identifier":[{"system":"http://www.immd.gov.hk/hkid","value":"A123456(3)"}],
 "link":[{"other":{"reference":"Patient/p1"},"type":"refer"}]}`, "Authorization", lab).must(t, http.StatusCreated)
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
				t.Fatalf("a result about a linked citizen: %d %q", status, ack)
			}
			got := results()
			if len(got) != 1 {
				t.Fatalf("after one message the record holds %v", got)
			}
			v, err := s.svc.Read(t.Context(), resource.Caller{}, "Observation", strings.TrimPrefix(got[0], "Observation/"))
			if err != nil || v.PatientKey != "p1" {
				t.Errorf("the result is filed under %q (%v), want the citizen's record p1", v.PatientKey, err)
			}
			if _, ack := send(oru("M2", "A123456(3)", "5.4"), lab); !strings.Contains(ack, "MSA|AA|M2") || len(results()) != 1 {
				t.Errorf("sending it again: %q, results %v", ack, results())
			}
			if _, ack := send("MSH|^~\\&|LIS|KLAB|EHR|EHEALTH|20241101103000||ORU^R01|M3|P|2.5.1\rOBX|1|NM|x||abc\r", lab); !strings.Contains(ack, "MSA|AR|M3") && !strings.Contains(ack, "MSA|AE|M3") {
				t.Errorf("a bad message: %q", ack)
			}
			if _, ack := send(oru("M4", "D288754(2)", "7.0"), lab); !strings.Contains(ack, "MSA|AE|M4") || !strings.Contains(ack, "has not joined") {
				t.Errorf("a result about someone who never joined: %q", ack)
			}
			if got := results(); len(got) != 1 {
				t.Errorf("refused messages left results: %v", got)
			}
			// A registered citizen the lab has no record of yet: the
			// message's patient is found in the master patient index (the
			// document, birth date and name agree), the lab's new record is
			// linked, and the result lands in the citizen's record.
			reg := s.do("POST", "/fhir/Patient/$register", `{"resourceType":"Parameters","parameter":[{"name":"patient","resource":{"resourceType":"Patient",
 "identifier":[{"system":"http://www.immd.gov.hk/hkid","value":"E364912(5)"}],"name":[{"family":"Chan","given":["Tai Man"]}],"birthDate":"1970-01-01","gender":"male","telecom":[{"system":"phone","value":"91234567"}]}}]}`).must(t, http.StatusOK)
			master := ""
			for _, p := range reg.body["parameter"].([]any) {
				if m := p.(map[string]any); m["name"] == "patient" {
					master, _ = m["resource"].(map[string]any)["id"].(string)
				}
			}
			if _, ack := send(oru("M7", "E364912(5)", "6.6"), lab); !strings.Contains(ack, "MSA|AA|M7") {
				t.Fatalf("a result about a registered citizen the lab had no record of: %q", ack)
			}
			keys := map[string]int{}
			for _, id := range results() {
				v, err := s.svc.Read(t.Context(), resource.Caller{}, "Observation", strings.TrimPrefix(id, "Observation/"))
				if err != nil {
					t.Fatal(err)
				}
				keys[v.PatientKey]++
			}
			if master == "" || keys[master] != 1 || keys["p1"] != 1 {
				t.Errorf("results filed under %v, want one under p1 and one under the registered citizen %q", keys, master)
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
