package resource

import (
	"testing"

	"github.com/ehealthplus/ehealth/internal/search"
)

func TestBroadSearch(t *testing.T) {
	reg := search.NewRegistry()
	cases := []struct {
		typ, query, patient string
		broad               bool
	}{
		{"Observation", "code=8480-6", "", true},
		{"Observation", "code=8480-6", "p1", false}, // confined to one patient
		{"Observation", "", "", true},
		{"Observation", "", "p1", false},
		{"Patient", "identifier=http://ehealth.hk/id/hkid|A1234563", "", false},
		{"Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123", "", false},
		{"Patient", "identifier:missing=true", "", true},
		{"Patient", "identifier=a,b&_id=p1", "", false},
		{"Patient", "identifier=a&name=chan", "", true}, // a name: not a lookup
		{"Patient", "_id=p1", "", false},
		{"StructureDefinition", "url=http://example.org/sd", "", false},
		{"Observation", "subject.identifier=x", "", true}, // a chain
		{"Patient", "_has:Observation:patient:code=x", "", true},
		{"Condition", "code=x&_summary=count", "", true},
	}
	for _, c := range cases {
		q, _, err := search.Parse(c.typ, mustQuery(t, c.query), reg, true)
		if err != nil {
			t.Fatalf("%s?%s: %v", c.typ, c.query, err)
		}
		if got := broadSearch(q, c.patient); got != c.broad {
			t.Errorf("%s?%s (patient %q): broad %v, want %v", c.typ, c.query, c.patient, got, c.broad)
		}
	}
}
