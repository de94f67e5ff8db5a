package rest_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestValidateProfile checks $validate?profile= over HTTP: against one of
// the eHealth+ profiles at type and instance level (query or Parameters),
// an unknown profile refused, and the guide served at
// /fhir/StructureDefinition.
func TestValidateProfile(t *testing.T) {
	const lab = "https://ehealth.hk/fhir/StructureDefinition/lab-observation"
	obs := `{"resourceType":"Observation","status":"final",` +
		`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],` +
		`"code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"effectiveDateTime":"2024-01-01"}`
	forEachBackend(t, func(t *testing.T, s *server) {
		errorsAt := func(r response) []string {
			var out []string
			for _, is := range r.body["issue"].([]any) {
				m := is.(map[string]any)
				if m["severity"] == "error" {
					ex, _ := m["expression"].([]any)
					for _, e := range ex {
						out = append(out, e.(string))
					}
				}
			}
			return out
		}
		// base R4 only: the Observation is valid
		if errs := errorsAt(s.do("POST", "/fhir/Observation/$validate", obs).must(t, http.StatusOK)); len(errs) > 0 {
			t.Errorf("base validation found %v", errs)
		}
		// against the lab profile: no subject, no source identifier
		r := s.do("POST", "/fhir/Observation/$validate?profile="+url.QueryEscape(lab), obs).must(t, http.StatusOK)
		errs := errorsAt(r)
		for _, want := range []string{"Observation.subject", "Observation.identifier"} {
			if !slices.Contains(errs, want) {
				t.Errorf("no error at %s: %s", want, r.raw)
			}
		}
		if !strings.Contains(string(r.raw), lab) {
			t.Errorf("issues do not name the profile: %s", r.raw)
		}
		// the profile as a Parameters parameter
		params := `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":` + obs + `},{"name":"profile","valueCanonical":"` + lab + `"}]}`
		if errs := errorsAt(s.do("POST", "/fhir/Observation/$validate", params).must(t, http.StatusOK)); !slices.Contains(errs, "Observation.subject") {
			t.Errorf("Parameters profile: errors %v", errs)
		}
		// instance level: the stored resource, by GET
		created := s.do("POST", "/fhir/Observation", obs).must(t, http.StatusCreated)
		id := created.body["id"].(string)
		r = s.do("GET", "/fhir/Observation/"+id+"/$validate?profile="+url.QueryEscape(lab), nil).must(t, http.StatusOK)
		if !slices.Contains(errorsAt(r), "Observation.subject") {
			t.Errorf("instance $validate: %s", r.raw)
		}
		s.do("POST", "/fhir/Observation/"+id+"/$validate?profile="+url.QueryEscape(lab), obs).must(t, http.StatusOK)
		// unknown profile
		s.do("POST", "/fhir/Observation/$validate?profile="+url.QueryEscape("https://example.org/StructureDefinition/none"), obs).must(t, http.StatusNotFound)
		// the guide is served
		sd := s.do("GET", "/fhir/StructureDefinition/lab-observation", nil).must(t, http.StatusOK)
		if sd.body["url"] != lab || sd.body["snapshot"] == nil {
			t.Errorf("StructureDefinition/lab-observation: url %v, snapshot present %v", sd.body["url"], sd.body["snapshot"] != nil)
		}
		list := s.do("GET", "/fhir/StructureDefinition?url="+url.QueryEscape(lab), nil).must(t, http.StatusOK)
		if entries, _ := list.body["entry"].([]any); len(entries) != 1 {
			t.Errorf("search by url found %d", len(entries))
		}
		// a write declaring the profile is refused with its errors
		declared := strings.Replace(obs, `"status"`, `"meta":{"profile":["`+lab+`"]},"status"`, 1)
		r = s.do("POST", "/fhir/Observation", declared).must(t, http.StatusUnprocessableEntity)
		if !slices.Contains(r.expressions(), "Observation.subject") {
			t.Errorf("declared profile write: %s", r.raw)
		}
	})
}
