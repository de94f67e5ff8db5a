package ips_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/ips"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// testProblems is a local code system with Chinese designations, as the
// terminology service learns it from a stored CodeSystem.
const testProblems = "https://ehealth.hk/fhir/CodeSystem/test-problems"

// seedRecord writes p1's record (problems, a past illness, an allergy, a
// medicine, a vaccination, a lab result with its report, a restricted lab
// result, a vital sign, a procedure), p2 with nothing, p3 with a problem,
// the clinic's sharing consent and care for p1 only, and p1's parent as
// SDM.
func seedRecord(t *testing.T, s *server) {
	t.Helper()
	s.put(`{"resourceType":"CodeSystem","id":"test-problems","url":"` + testProblems + `","name":"TestProblems","status":"active","content":"complete",
 "concept":[{"code":"HT","display":"Essential hypertension","designation":[{"language":"zh-HK","value":"原發性高血壓"}]}]}`)
	s.put(`{"resourceType":"Organization","id":"clinic","name":"Clinic A"}`)
	for _, p := range []string{"p1", "p2", "p3"} {
		s.put(fmt.Sprintf(`{"resourceType":"Patient","id":%q,"name":[{"family":"Chan","given":["Tai Man"]},{"text":"陳大文"}],"gender":"male","birthDate":"1970-01-01"}`, p))
	}
	for _, r := range []string{
		`{"resourceType":"Condition","id":"c1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
 "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},
 "code":{"coding":[{"system":"` + testProblems + `","code":"HT","display":"Essential hypertension"},{"system":"http://snomed.info/sct","code":"59621000","display":"Essential hypertension"}]},
 "subject":{"reference":"Patient/p1"},"onsetDateTime":"2015-03-01"}`,
		`{"resourceType":"Condition","id":"c2","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"resolved"}]},
 "code":{"coding":[{"system":"http://snomed.info/sct","code":"195967001","display":"Asthma"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2000-01-01","abatementDateTime":"2005-01-01"}`,
		`{"resourceType":"AllergyIntolerance","id":"a1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},
 "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-verification","code":"confirmed"}]},"criticality":"high",
 "code":{"coding":[{"system":"http://snomed.info/sct","code":"764146007","display":"Penicillin"}]},"patient":{"reference":"Patient/p1"},
 "reaction":[{"manifestation":[{"coding":[{"system":"http://snomed.info/sct","code":"247472004","display":"Hives"}]}]}]}`,
		`{"resourceType":"MedicationStatement","id":"m1","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"109081006","display":"Metformin"}]},
 "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-01-01","dosage":[{"text":"500 mg twice daily"}]}`,
		`{"resourceType":"Immunization","id":"i1","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"141","display":"Influenza, seasonal, injectable"}]},
 "patient":{"reference":"Patient/p1"},"occurrenceDateTime":"2024-10-01"}`,
		labResult("o1", "p1", "4548-4", "Hemoglobin A1c", ""),
		labResult("r1", "p1", "75622-1", "HIV 1 and 2 tests", `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},`),
		`{"resourceType":"DiagnosticReport","id":"d1","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"LAB"}]}],
 "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-05-01",
 "result":[{"reference":"Observation/o1"}],"conclusion":"Diabetic range"}`,
		`{"resourceType":"Observation","id":"v1","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
 "code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-05-01T09:30:00+08:00",
 "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},"valueQuantity":{"value":135,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
  {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic blood pressure"}]},"valueQuantity":{"value":85,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`,
		`{"resourceType":"Procedure","id":"pr1","status":"completed","code":{"coding":[{"system":"http://snomed.info/sct","code":"80146002","display":"Appendectomy"}]},
 "subject":{"reference":"Patient/p1"},"performedDateTime":"2010-06-01"}`,
		`{"resourceType":"Condition","id":"c3","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
 "code":{"text":"Gout"},"subject":{"reference":"Patient/p3"}}`,
	} {
		s.put(r)
	}
	s.put(`{"resourceType":"Consent","id":"share-p1","status":"active",
 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
 "category":[{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/consent-category","code":"sharing"},{"system":"http://loinc.org","code":"59284-0"}]}],
 "patient":{"reference":"Patient/p1"},"dateTime":"2024-01-01T00:00:00Z",
 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
 "provision":{"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/clinic"}}]}}`)
	s.put(`{"resourceType":"Encounter","id":"e1","status":"in-progress","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
 "subject":{"reference":"Patient/p1"},"serviceProvider":{"reference":"Organization/clinic"},"period":{"start":"2024-01-01T09:00:00Z"}}`)
	s.put(`{"resourceType":"RelatedPerson","id":"parent","patient":{"reference":"Patient/p1"},"period":{"start":"2020-01-01","end":"2099-01-01"},
 "meta":{"tag":[{"system":"` + resource.RegistryOriginSystem + `","code":"` + resource.RegistryOriginRegistry + `"}]},
 "relationship":[{"coding":[{"system":"` + registry.SDMRoleSystem + `","code":"parent"}]}]}`)
}

// labResult is a final laboratory Observation of patient, with meta
// (`"meta":{…},`) when given.
func labResult(id, patient, loinc, display, meta string) string {
	return fmt.Sprintf(`{"resourceType":"Observation","id":%q,%s"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
 "code":{"coding":[{"system":"http://loinc.org","code":%q,"display":%q}]},"subject":{"reference":"Patient/%s"},"effectiveDateTime":"2024-05-01",
 "performer":[{"reference":"Organization/clinic"}],"valueQuantity":{"value":6.5,"unit":"%%","system":"http://unitsofmeasure.org","code":"%%"}}`, id, meta, loinc, display, patient)
}

// restrictedAccess lets practitioner open p1's restricted records.
func restrictedAccess(s *server, practitioner string) {
	s.put(fmt.Sprintf(`{"resourceType":"Consent","id":"ra-%s","status":"active",
 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
 "category":[{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/consent-category","code":%q},{"system":"http://loinc.org","code":"59284-0"}]}],
 "patient":{"reference":"Patient/p1"},"dateTime":"2024-01-01T00:00:00Z",
 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
 "provision":{"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Practitioner/%s"}}]}}`,
		practitioner, consent.CategoryRestrictedAccess, practitioner))
}

// callers are the people who may ask for p1's summary, by name.
func callers(s *server) map[string]string {
	pro := func(id string) string {
		return "Bearer " + s.issue(token.Claims{Subject: id, ClientID: "emr", FHIRUser: "Practitioner/" + id, Org: "Organization/clinic",
			Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})
	}
	return map[string]string{
		"operator": "Bearer " + s.bearer,
		"citizen":  "Bearer " + s.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Patient: "p1", Scope: scope.MustParse("patient/*.rs")}),
		"sdm":      "Bearer " + s.issue(token.Claims{Subject: "parent", ClientID: "app", FHIRUser: "RelatedPerson/parent", Patient: "p1", Scope: scope.MustParse("patient/*.rs")}),
		"doctor":   pro("dr"),
		"labdr":    pro("labdr"),
		"narrow": "Bearer " + s.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Patient: "p1",
			Scope: scope.MustParse("patient/Patient.rs patient/Observation.rs")}),
	}
}

// sectionsOf maps each section's LOINC code to its entries' references,
// sorted, or to "empty:REASON".
func sectionsOf(t *testing.T, bundle map[string]any) map[string][]string {
	t.Helper()
	comp := composition(t, bundle)
	out := map[string][]string{}
	secs, _ := comp["section"].([]any)
	for _, sec := range secs {
		m := sec.(map[string]any)
		code := m["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
		if er, ok := m["emptyReason"].(map[string]any); ok {
			out[code] = []string{"empty:" + er["coding"].([]any)[0].(map[string]any)["code"].(string)}
			continue
		}
		var refs []string
		for _, e := range m["entry"].([]any) {
			refs = append(refs, e.(map[string]any)["reference"].(string))
		}
		slices.Sort(refs)
		out[code] = refs
	}
	return out
}

// composition is a document Bundle's first entry's resource.
func composition(t *testing.T, bundle map[string]any) map[string]any {
	t.Helper()
	entries, _ := bundle["entry"].([]any)
	if len(entries) == 0 {
		t.Fatalf("the document has no entries: %v", bundle)
	}
	comp, _ := entries[0].(map[string]any)["resource"].(map[string]any)
	if comp["resourceType"] != "Composition" {
		t.Fatalf("the first entry is a %v, not the Composition", comp["resourceType"])
	}
	return comp
}

// entryRefs lists the Bundle's entries as "Type/id".
func entryRefs(bundle map[string]any) []string {
	var out []string
	for _, e := range bundle["entry"].([]any) {
		r := e.(map[string]any)["resource"].(map[string]any)
		out = append(out, fmt.Sprintf("%s/%s", r["resourceType"], r["id"]))
	}
	return out
}

// full are p1's sections as someone who may read all of the record sees
// them (the restricted result aside).
var full = map[string][]string{
	"11450-4": {"Condition/c1"},
	"48765-2": {"AllergyIntolerance/a1"},
	"10160-0": {"MedicationStatement/m1"},
	"11369-6": {"Immunization/i1"},
	"30954-2": {"DiagnosticReport/d1"}, // o1 is its result
	"47519-4": {"Procedure/pr1"},
	"8716-3":  {"Observation/v1"},
	"11348-0": {"Condition/c2"},
}

// withRestricted is full with the restricted result.
func withRestricted() map[string][]string {
	out := map[string][]string{}
	for k, v := range full {
		out[k] = v
	}
	out["30954-2"] = []string{"DiagnosticReport/d1", "Observation/r1"}
	return out
}

// TestSummary: each caller's summary of p1 holds exactly the sections and
// entries they may read — the citizen, their SDM and the operator all of
// it, a professional with consent and care all but the restricted result
// until the citizen lets them open it, a token whose scopes reach only
// observations the required sections withheld — and a professional
// without consent finds no such patient.
func TestSummary(t *testing.T) {
	forEachBackend(t, ips.Config{}, func(t *testing.T, s *server) {
		seedRecord(t, s)
		restrictedAccess(s, "labdr")
		who := callers(s)
		narrow := map[string][]string{
			"11450-4": {"empty:withheld"}, "48765-2": {"empty:withheld"}, "10160-0": {"empty:withheld"},
			"30954-2": {"Observation/o1", "Observation/r1"}, "8716-3": {"Observation/v1"},
		}
		for _, c := range []struct {
			caller, patient string
			status          int
			sections        map[string][]string
			confidentiality string
		}{
			{"operator", "p1", http.StatusOK, withRestricted(), "R"},
			{"citizen", "p1", http.StatusOK, withRestricted(), "R"},
			{"sdm", "p1", http.StatusOK, withRestricted(), "R"},
			{"doctor", "p1", http.StatusOK, full, "N"},
			{"labdr", "p1", http.StatusOK, withRestricted(), "R"},
			{"narrow", "p1", http.StatusOK, narrow, "R"},
			{"doctor", "p3", http.StatusNotFound, nil, ""},
			{"citizen", "p3", http.StatusNotFound, nil, ""},
			{"doctor", "nobody", http.StatusNotFound, nil, ""},
		} {
			t.Run(c.caller+"/"+c.patient, func(t *testing.T) {
				r := s.do("GET", "/fhir/Patient/"+c.patient+"/$summary", nil, "Authorization", who[c.caller]).must(t, c.status)
				if c.status != http.StatusOK {
					if strings.Contains(string(r.raw), "Gout") {
						t.Errorf("a refused summary shows the record: %s", r.raw)
					}
					return
				}
				if got := sectionsOf(t, r.body); !equalSections(got, c.sections) {
					t.Errorf("sections %v, want %v", got, c.sections)
				}
				comp := composition(t, r.body)
				if comp["confidentiality"] != c.confidentiality {
					t.Errorf("confidentiality %v, want %s", comp["confidentiality"], c.confidentiality)
				}
				refs := entryRefs(r.body)
				if refs[1] != "Patient/p1" {
					t.Errorf("the second entry is %s, not the Patient", refs[1])
				}
				for _, sec := range c.sections {
					for _, ref := range sec {
						if !strings.HasPrefix(ref, "empty:") && !slices.Contains(refs, ref) {
							t.Errorf("%s is a section entry missing from the Bundle", ref)
						}
					}
				}
				if !slices.Contains(c.sections["30954-2"], "Observation/r1") && (slices.Contains(refs, "Observation/r1") || strings.Contains(string(r.raw), "HIV")) {
					t.Errorf("%s's summary shows the restricted record", c.caller)
				}
				if c.sections["30954-2"][0] == "DiagnosticReport/d1" && !slices.Contains(refs, "Observation/o1") {
					t.Errorf("the report's result is not in the document: %v", refs)
				}
				if slices.Contains(refs, "Condition/c3") || strings.Contains(string(r.raw), "Gout") {
					t.Errorf("another patient's record is in the summary")
				}
			})
		}
	})
}

// equalSections compares section maps.
func equalSections(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestSummaryEmpty: a record with nothing in it still has the three
// required sections, each with the emptyReason and a narrative saying
// there is no information, in either language, and nothing else.
func TestSummaryEmpty(t *testing.T) {
	forEachBackend(t, ips.Config{}, func(t *testing.T, s *server) {
		seedRecord(t, s)
		for _, c := range []struct{ query, header, lang, note string }{
			{"", "", "en", "No information available."},
			{"?_language=zh-Hant", "", "zh-Hant", "沒有資料。"},
			{"", "zh-HK,en;q=0.5", "zh-Hant", "沒有資料。"},
			{"?language=en", "zh-HK", "en", "No information available."},
		} {
			r := s.do("GET", "/fhir/Patient/p2/$summary"+c.query, nil, "Accept-Language", c.header).must(t, http.StatusOK)
			want := map[string][]string{"11450-4": {"empty:unavailable"}, "48765-2": {"empty:unavailable"}, "10160-0": {"empty:unavailable"}}
			if got := sectionsOf(t, r.body); !equalSections(got, want) {
				t.Errorf("%s %s: sections %v, want %v", c.query, c.header, got, want)
			}
			comp := composition(t, r.body)
			if comp["language"] != c.lang {
				t.Errorf("%s %s: language %v, want %s", c.query, c.header, comp["language"], c.lang)
			}
			for _, sec := range comp["section"].([]any) {
				div := sec.(map[string]any)["text"].(map[string]any)["div"].(string)
				if !strings.Contains(div, c.note) || !strings.Contains(div, `lang="`+c.lang+`"`) {
					t.Errorf("%s %s: narrative %s", c.query, c.header, div)
				}
			}
			if refs := entryRefs(r.body); len(refs) != 3 || refs[1] != "Patient/p2" || !strings.HasPrefix(refs[2], "Device/") {
				t.Errorf("entries %v, want the Composition, the Patient and the author", refs)
			}
		}
	})
}

// TestSummaryChinese: the Traditional Chinese summary words its sections,
// statuses and dates in Chinese and codes by the terminology service's
// Chinese designations, falling back to the English display.
func TestSummaryChinese(t *testing.T) {
	forEachBackend(t, ips.Config{}, func(t *testing.T, s *server) {
		seedRecord(t, s)
		r := s.do("GET", "/fhir/Patient/p1/$summary?_language=zh-Hant", nil).must(t, http.StatusOK)
		comp := composition(t, r.body)
		if comp["language"] != "zh-Hant" || r.body["language"] != "zh-Hant" || comp["title"] != "國際病人摘要" {
			t.Errorf("language %v / %v, title %v", comp["language"], r.body["language"], comp["title"])
		}
		divs := map[string]string{}
		for _, sec := range comp["section"].([]any) {
			m := sec.(map[string]any)
			divs[m["title"].(string)] = m["text"].(map[string]any)["div"].(string)
		}
		for title, want := range map[string][]string{
			"健康問題":   {"原發性高血壓", "現存", "2015年03月01日"},
			"過敏及不耐受": {"Penicillin", "高危急程度", "Hives"},
			"藥物摘要":   {"Metformin", "500 mg twice daily"},
			"生命表徵":   {"135 mmHg", "2024年05月01日 09:30"},
			"過往病史":   {"Asthma", "已痊癒"},
		} {
			for _, w := range want {
				if !strings.Contains(divs[title], w) {
					t.Errorf("section %s does not say %q: %s", title, w, divs[title])
				}
			}
		}
		if !strings.Contains(composition(t, r.body)["text"].(map[string]any)["div"].(string), "陳大文") {
			t.Errorf("the header does not name the patient in Chinese")
		}
	})
}

// TestSummaryAudit: the summary is in the journal as an operation about
// the patient before the answer, and one that opened a restricted record
// is recorded as a restricted access.
func TestSummaryAudit(t *testing.T) {
	forEachBackend(t, ips.Config{}, func(t *testing.T, s *server) {
		seedRecord(t, s)
		restrictedAccess(s, "labdr")
		who := callers(s)
		for _, c := range []struct {
			caller     string
			restricted bool
		}{{"doctor", false}, {"labdr", true}} {
			s.do("GET", "/fhir/Patient/p1/$summary", nil, "Authorization", who[c.caller]).must(t, http.StatusOK)
			entries, err := s.st.ReadAudit(t.Context(), store.AuditQuery{Patient: "p1"})
			if err != nil {
				t.Fatal(err)
			}
			query := base64.StdEncoding.EncodeToString([]byte("Patient/p1/$summary")) // BALP's query, base64
			practitioner := map[string]string{"doctor": "Practitioner/dr", "labdr": "Practitioner/labdr"}[c.caller]
			found := false
			for _, e := range entries {
				body := string(e.Body)
				if !strings.Contains(body, `"code":"operation"`) || !strings.Contains(body, query) || !strings.Contains(body, `"`+practitioner+`"`) {
					continue
				}
				found = true
				if got := strings.Contains(body, `"code":"R","display":"restricted"`); got != c.restricted {
					t.Errorf("%s's summary is audited restricted=%v, want %v: %s", c.caller, got, c.restricted, body)
				}
			}
			if !found {
				t.Errorf("%s's summary is not in p1's journal", c.caller)
			}
		}
	})
}

// TestSummaryByIdentifier: POST Patient/$summary finds the patient by an
// identifier in the body (never the URL) among those the caller may see.
func TestSummaryByIdentifier(t *testing.T) {
	forEachBackend(t, ips.Config{}, func(t *testing.T, s *server) {
		seedRecord(t, s)
		for _, p := range []string{"p1", "p3"} {
			r := s.do("GET", "/fhir/Patient/"+p, nil).must(t, http.StatusOK)
			r.body["identifier"] = []any{map[string]any{"system": "http://www.immd.gov.hk/hkid", "value": map[string]string{"p1": "A1234563", "p3": "E3649125"}[p]}}
			s.do("PUT", "/fhir/Patient/"+p, r.body).must(t, http.StatusOK)
		}
		who := callers(s)
		ask := func(hkid string) string {
			return `{"resourceType":"Parameters","parameter":[{"name":"identifier","valueString":"http://www.immd.gov.hk/hkid|` + hkid + `"}]}`
		}
		r := s.do("POST", "/fhir/Patient/$summary", ask("A1234563"), "Authorization", who["doctor"]).must(t, http.StatusOK)
		if got := sectionsOf(t, r.body); !equalSections(got, full) {
			t.Errorf("sections %v, want %v", got, full)
		}
		s.do("POST", "/fhir/Patient/$summary", ask("E3649125"), "Authorization", who["doctor"]).must(t, http.StatusNotFound)
		s.do("POST", "/fhir/Patient/$summary", `{"resourceType":"Parameters"}`, "Authorization", who["doctor"]).must(t, http.StatusBadRequest)
	})
}
