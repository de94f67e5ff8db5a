package rest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// hkDrugs is a local code system with Traditional Chinese designations and
// a hierarchy, as a provider or operator would store it.
const hkDrugs = `{"resourceType":"CodeSystem","id":"hk-drugs","url":"http://ehealth.example.hk/CodeSystem/drugs","version":"1",
 "status":"active","content":"complete","hierarchyMeaning":"is-a",
 "concept":[{"code":"ANALGESIC","display":"Analgesic","designation":[{"language":"zh-HK","value":"止痛藥"}],
   "concept":[{"code":"PARA500","display":"Paracetamol 500 mg tablet","designation":[{"language":"zh-HK","value":"撲熱息痛 500 毫克 藥片"}]}]}]}`

const hkDrugsVS = `{"resourceType":"ValueSet","id":"hk-analgesics","url":"http://ehealth.example.hk/ValueSet/analgesics","status":"active",
 "compose":{"include":[{"system":"http://ehealth.example.hk/CodeSystem/drugs","filter":[{"property":"concept","op":"is-a","value":"ANALGESIC"}]}]}}`

// parameter finds a named output parameter's value.
func parameter(body map[string]any, name string) any {
	list, _ := body["parameter"].([]any)
	for _, p := range list {
		m := p.(map[string]any)
		if m["name"] == name {
			for k, v := range m {
				if strings.HasPrefix(k, "value") {
					return v
				}
			}
		}
	}
	return nil
}

func TestTerminologyOperations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		// Built-in R4 tables.
		r := s.do("GET", "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=female", nil).must(t, http.StatusOK)
		if parameter(r.body, "display") != "Female" {
			t.Errorf("$lookup female: %s", r.raw)
		}
		r = s.do("GET", "/fhir/ValueSet/$validate-code?url=http://hl7.org/fhir/ValueSet/administrative-gender&code=woman&system=http://hl7.org/fhir/administrative-gender", nil).must(t, http.StatusOK)
		if parameter(r.body, "result") != false {
			t.Errorf("$validate-code woman: %s", r.raw)
		}
		s.do("GET", "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=nope", nil).must(t, http.StatusNotFound)
		s.do("GET", "/fhir/Patient/$lookup", nil).must(t, http.StatusNotFound)

		// A stored local code system joins the service when it is written ...
		s.do("PUT", "/fhir/CodeSystem/hk-drugs", hkDrugs).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/ValueSet/hk-analgesics", hkDrugsVS).must(t, http.StatusCreated)
		q := url.Values{"system": {"http://ehealth.example.hk/CodeSystem/drugs"}, "code": {"PARA500"}, "displayLanguage": {"zh-HK"}}
		r = s.do("GET", "/fhir/CodeSystem/$lookup?"+q.Encode(), nil).must(t, http.StatusOK)
		if parameter(r.body, "display") != "撲熱息痛 500 毫克 藥片" {
			t.Errorf("bilingual $lookup: %s", r.raw)
		}
		r = s.do("GET", "/fhir/ValueSet/hk-analgesics/$expand", nil).must(t, http.StatusOK)
		if n := len(r.body["expansion"].(map[string]any)["contains"].([]any)); n != 2 {
			t.Errorf("instance $expand: %d codes, want 2: %s", n, r.raw)
		}
		sub := `{"resourceType":"Parameters","parameter":[{"name":"system","valueUri":"http://ehealth.example.hk/CodeSystem/drugs"},
 {"name":"codeA","valueCode":"ANALGESIC"},{"name":"codeB","valueCode":"PARA500"}]}`
		r = s.do("POST", "/fhir/CodeSystem/$subsumes", sub).must(t, http.StatusOK)
		if parameter(r.body, "outcome") != "subsumes" {
			t.Errorf("$subsumes: %s", r.raw)
		}
		// ... follows its updates ...
		changed := strings.Replace(hkDrugs, `"Paracetamol 500 mg tablet"`, `"Paracetamol 500mg tab"`, 1)
		s.do("PUT", "/fhir/CodeSystem/hk-drugs", changed).must(t, http.StatusOK)
		r = s.do("GET", "/fhir/CodeSystem/$lookup?system=http://ehealth.example.hk/CodeSystem/drugs&code=PARA500", nil).must(t, http.StatusOK)
		if parameter(r.body, "display") != "Paracetamol 500mg tab" {
			t.Errorf("after update: %s", r.raw)
		}
		// ... and leaves with its delete.
		s.do("DELETE", "/fhir/CodeSystem/hk-drugs", nil).must(t, http.StatusNoContent)
		s.do("GET", "/fhir/CodeSystem/$lookup?system=http://ehealth.example.hk/CodeSystem/drugs&code=PARA500", nil).must(t, http.StatusNotFound)

		meta := s.do("GET", "/fhir/metadata", nil).must(t, http.StatusOK)
		if !strings.Contains(string(meta.raw), `"name":"expand"`) {
			t.Errorf("CapabilityStatement does not list $expand")
		}
	})
}

func TestTerminologyLoadedAtStartup(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			first := newServer(t, st, 1<<20)
			first.do("PUT", "/fhir/CodeSystem/hk-drugs", hkDrugs).must(t, http.StatusCreated)
			// A second server over the same database knows the code system at once.
			again := serverOn(t, st, 1<<20)
			r := again.do("GET", "/fhir/CodeSystem/$lookup?system=http://ehealth.example.hk/CodeSystem/drugs&code=ANALGESIC", nil).must(t, http.StatusOK)
			if parameter(r.body, "display") != "Analgesic" {
				t.Errorf("after restart: %s", r.raw)
			}
		})
	}
}
