package rest_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestInvalidResourcesRejected sends one invalid resource per validation
// rule and checks the status and that the OperationOutcome names the element.
func TestInvalidResourcesRejected(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		expr       string
	}{
		{"unknown element", `{"resourceType":"Patient","nickname":"Ah Chan"}`, 400, "Patient.nickname"},
		{"missing required", `{"resourceType":"Observation","code":{"text":"BP"}}`, 400, "Observation.status"},
		{"too many", `{"resourceType":"Patient","gender":["male","female"]}`, 400, "Patient.gender"},
		{"array for single", `{"resourceType":"Patient","birthDate":["1980-01-01"]}`, 400, "Patient.birthDate"},
		{"object for array", `{"resourceType":"Patient","name":{"family":"Chan"}}`, 400, "Patient.name"},
		{"wrong primitive type", `{"resourceType":"Patient","active":"yes"}`, 400, "Patient.active"},
		{"bad date", `{"resourceType":"Patient","birthDate":"1980-02-30x"}`, 400, "Patient.birthDate"},
		{"bad dateTime", `{"resourceType":"Patient","deceasedDateTime":"2020-01-01T25:00:00Z"}`, 400, "Patient.deceasedDateTime"},
		{"bad instant", `{"resourceType":"Patient","meta":{"lastUpdated":"2020-01-01"}}`, 400, "Patient.meta.lastUpdated"},
		{"bad decimal", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"12"}}`, 400, "Observation.valueQuantity.value"},
		{"bad uri", `{"resourceType":"Patient","identifier":[{"system":"has space","value":"1"}]}`, 400, "Patient.identifier[0].system"},
		{"bad choice type", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueFoo":"1"}`, 400, "Observation.valueFoo"},
		{"two choices", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"1","valueBoolean":true}`, 400, "Observation.value"},
		{"empty string", `{"resourceType":"Patient","name":[{"family":""}]}`, 400, "Patient.name[0].family"},
		{"empty array", `{"resourceType":"Patient","name":[]}`, 400, "Patient.name"},
		{"empty object", `{"resourceType":"Patient","name":[{}]}`, 400, "Patient.name[0]"},
		{"null", `{"resourceType":"Patient","gender":null}`, 400, "Patient.gender"},
		{"bad reference", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/has space"}}`, 400, "Observation.subject.reference"},
		{"contained with contained", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","contained":[{"resourceType":"Organization","id":"p"}]}]}`, 422, "Patient.contained[0].contained"},
		{"narrative script", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>"}}`, 422, "Patient.text.div"},
		{"narrative onclick", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">hi</p></div>"}}`, 422, "Patient.text.div"},
		{"bad id", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"a b"}]}`, 400, "Patient.contained[0].id"},
		{"required binding code", `{"resourceType":"Patient","gender":"woman"}`, 422, "Patient.gender"},
		{"required binding status", `{"resourceType":"Observation","status":"done","code":{"text":"x"}}`, 422, "Observation.status"},
		{"extension without url", `{"resourceType":"Patient","extension":[{"valueString":"x"}]}`, 400, "Patient.extension[0].url"},
	}
	forEachBackend(t, func(t *testing.T, s *server) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := s.do("POST", "/fhir/"+resourceTypeOf(t, c.body), c.body)
				if r.status != c.status {
					t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
				}
				if ex := r.expressions(); !slices.ContainsFunc(ex, func(e string) bool { return e == c.expr || len(e) > len(c.expr) && e[:len(c.expr)] == c.expr }) {
					t.Errorf("expressions %v do not name %s", ex, c.expr)
				}
				v := s.do("POST", "/fhir/"+resourceTypeOf(t, c.body)+"/$validate", c.body).must(t, http.StatusOK)
				if ex := v.expressions(); len(ex) == 0 {
					t.Errorf("$validate found nothing wrong: %s", v.raw)
				}
			})
		}
		ok := s.do("POST", "/fhir/Patient/$validate", patientJSON).must(t, http.StatusOK)
		for _, is := range ok.body["issue"].([]any) {
			if sev := is.(map[string]any)["severity"]; sev == "error" || sev == "fatal" {
				t.Errorf("$validate of a valid Patient reported %v", is)
			}
		}
	})
}

func resourceTypeOf(t *testing.T, body string) string {
	return obj(t, body)["resourceType"].(string)
}

// TestExtensibleBindingWarns checks a code outside an extensible binding's
// value set is stored, with a warning from $validate.
func TestExtensibleBindingWarns(t *testing.T) {
	body := `{"resourceType":"Patient","maritalStatus":{"coding":[{"system":"http://example.org/local-marital","code":"ZZ"}]}}`
	forEachBackend(t, func(t *testing.T, s *server) {
		s.do("POST", "/fhir/Patient", body).must(t, http.StatusCreated)
		r := s.do("POST", "/fhir/Patient/$validate", body).must(t, http.StatusOK)
		issues, _ := r.body["issue"].([]any)
		found := false
		for _, is := range issues {
			m := is.(map[string]any)
			if m["severity"] == "warning" && slices.Contains(r.expressions(), "Patient.maritalStatus") {
				found = true
			}
			if m["severity"] == "error" {
				t.Errorf("an extensible binding gave an error: %v", m)
			}
		}
		if !found {
			t.Errorf("no warning at Patient.maritalStatus: %s", r.raw)
		}
	})
}
