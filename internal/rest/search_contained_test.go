package rest_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// seedPrescriptions writes two prescriptions holding contained
// Medications: mr1 (p1) an A tablet and a B capsule, mr2 (p2) an A
// capsule; and a Medication of its own, med1, an A tablet.
func seedPrescriptions(t *testing.T, s *server) {
	t.Helper()
	med := func(id, code, form string) string {
		return fmt.Sprintf(`{"resourceType":"Medication","id":%q,"code":{"coding":[{"system":"urn:med","code":%q}]},
		 "form":{"coding":[{"system":"urn:form","code":%q}]}}`, id, code, form)
	}
	s.do("PUT", "/fhir/Medication/med1", med("med1", "A", "tablet")).must(t, http.StatusCreated)
	for _, p := range []struct{ id, patient, contained, refs string }{
		{"mr1", "p1", med("m1", "A", "tablet") + "," + med("m2", "B", "capsule"), `"supportingInformation":[{"reference":"#m2"}],`},
		{"mr2", "p2", med("m1", "A", "capsule"), ""},
	} {
		s.do("PUT", "/fhir/Patient/"+p.patient, fmt.Sprintf(`{"resourceType":"Patient","id":%q}`, p.patient)).must(t, http.StatusCreated)
		body := fmt.Sprintf(`{"resourceType":"MedicationRequest","id":%q,"status":"active","intent":"order",%s
		 "subject":{"reference":"Patient/%s"},"medicationReference":{"reference":"#m1"},"contained":[%s]}`, p.id, p.refs, p.patient, p.contained)
		s.do("PUT", "/fhir/MedicationRequest/"+p.id, body).must(t, http.StatusCreated)
	}
}

// entry is one searchset entry as the test reads it.
type entry struct{ fullURL, resource, mode string }

func entries(t *testing.T, r response) []entry {
	t.Helper()
	var out []entry
	list, _ := r.body["entry"].([]any)
	for _, e := range list {
		m := e.(map[string]any)
		res := m["resource"].(map[string]any)
		id, _ := res["id"].(string)
		out = append(out, entry{m["fullUrl"].(string), res["resourceType"].(string) + "/" + id, m["search"].(map[string]any)["mode"].(string)})
	}
	return out
}

// TestSearchContained shows the searchset Bundle of a search into contained
// resources (https://hl7.org/fhir/R4/search.html#contained): containers
// by default, the contained resources themselves with a fullUrl of the
// container's and "#id" under _containedType=contained.
func TestSearchContained(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedPrescriptions(t, s)
		base := s.srv.URL + "/fhir/"
		for _, tc := range []struct {
			query string
			want  []entry
		}{
			{"Medication?code=A", []entry{{base + "Medication/med1", "Medication/med1", "match"}}},
			{"Medication?code=A&_contained=true", []entry{
				{base + "MedicationRequest/mr1", "MedicationRequest/mr1", "match"},
				{base + "MedicationRequest/mr2", "MedicationRequest/mr2", "match"}}},
			// Both clauses on one contained Medication: mr1's A is a tablet.
			{"Medication?code=A&form=capsule&_contained=true&_containedType=contained", []entry{
				{base + "MedicationRequest/mr2#m1", "Medication/m1", "match"}}},
			{"Medication?form=capsule&_contained=both&_containedType=contained", []entry{
				{base + "MedicationRequest/mr1#m2", "Medication/m2", "match"},
				{base + "MedicationRequest/mr2#m1", "Medication/m1", "match"}}},
			{"Medication?code=A&_contained=both&_containedType=contained", []entry{
				{base + "Medication/med1", "Medication/med1", "match"},
				{base + "MedicationRequest/mr1#m1", "Medication/m1", "match"},
				{base + "MedicationRequest/mr2#m1", "Medication/m1", "match"}}},
		} {
			r := s.do("GET", "/fhir/"+tc.query, nil).must(t, http.StatusOK)
			if got := entries(t, r); !slices.Equal(got, tc.want) {
				t.Errorf("%s:\n got %v\nwant %v", tc.query, got, tc.want)
			}
			if fmt.Sprint(r.body["total"]) != fmt.Sprint(len(tc.want)) {
				t.Errorf("%s: total %v, want %d", tc.query, r.body["total"], len(tc.want))
			}
		}

		// The contained resource is returned as it is held, _elements applied.
		r := s.do("GET", "/fhir/Medication?_id=m2&_contained=true&_containedType=contained&_elements=form", nil).must(t, http.StatusOK)
		list := r.body["entry"].([]any)
		res := list[0].(map[string]any)["resource"].(map[string]any)
		if res["form"] == nil || res["code"] != nil || res["id"] != "m2" {
			t.Errorf("_elements=form on a contained match: %v", res)
		}

		// Pages of one, followed by their next links.
		r = s.do("GET", "/fhir/Medication?_contained=both&_containedType=contained&_count=1", nil).must(t, http.StatusOK)
		var all []string
		for pages := 0; pages < 10; pages++ {
			for _, e := range entries(t, r) {
				all = append(all, strings.TrimPrefix(e.fullURL, base))
			}
			next := link(r, "next")
			if next == "" {
				break
			}
			r = s.do("GET", strings.TrimPrefix(next, s.srv.URL), nil).must(t, http.StatusOK)
		}
		if want := []string{"Medication/med1", "MedicationRequest/mr1#m1", "MedicationRequest/mr1#m2", "MedicationRequest/mr2#m1"}; !slices.Equal(all, want) {
			t.Errorf("paged: %v, want %v", all, want)
		}

		// What contained search cannot answer is a 400 that says why.
		for _, q := range []string{
			"Medication?_contained=true&_sort=code",
			"Medication?_contained=both&_include=Medication:manufacturer",
			"Medication?_contained=true&_containedType=everything",
		} {
			r := s.do("GET", "/fhir/"+q, nil).must(t, http.StatusBadRequest)
			if r.body["resourceType"] != "OperationOutcome" || !strings.Contains(string(r.raw), "_contained") {
				t.Errorf("%s: %s", q, r.raw)
			}
		}
	})
}
