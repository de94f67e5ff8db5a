package resource

import (
	"net/url"
	"testing"

	"github.com/ehealthplus/ehealth/internal/search"
)

func TestImpliedPatient(t *testing.T) {
	reg := search.NewRegistry()
	cases := []struct {
		typ, query, want string
	}{
		{"Observation", "patient=p1&code=8480-6", "p1"},
		{"Observation", "patient=Patient/p1", "p1"},
		{"Observation", "subject=Patient/p1", "p1"},
		{"Observation", "subject:Patient=p1", "p1"},
		{"Observation", "subject=p1", ""},           // could be a Group
		{"Observation", "patient=p1,p2", ""},        // two patients
		{"Observation", "performer=Patient/p1", ""}, // not the first compartment element
		{"Observation", "patient=http://other.org/fhir/Patient/p1", ""},
		{"Observation", "patient.name=chan", ""}, // a chain
		{"Condition", "patient=p9", "p9"},
		{"AllergyIntolerance", "patient=Patient/p3", "p3"},
		{"AllergyIntolerance", "patient=p3", ""}, // the parameter also targets Group
		{"Appointment", "actor=Patient/p2", ""},  // one of several participants
		{"Appointment", "patient=Patient/p2", ""},
		{"Patient", "_id=p1", ""},
		{"Organization", "name=x", ""},
	}
	for _, c := range cases {
		q, _, err := search.Parse(c.typ, mustQuery(t, c.query), reg, true)
		if err != nil {
			t.Fatalf("%s?%s: %v", c.typ, c.query, err)
		}
		if got := impliedPatient(q); got != c.want {
			t.Errorf("%s?%s: implied %q, want %q", c.typ, c.query, got, c.want)
		}
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
