package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// prescription holds two Medications (A/tablet, B/capsule) and an
// Organization; its own medication is #m1.
const prescription = `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order",
 "subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"#m1"},
 "contained":[
  {"resourceType":"Medication","id":"m1","code":{"coding":[{"system":"urn:med","code":"A"}]},"form":{"coding":[{"code":"tablet"}]},
   "manufacturer":{"reference":"#o"}},
  {"resourceType":"Medication","id":"m2","code":{"coding":[{"system":"urn:med","code":"B"}]},"form":{"coding":[{"code":"capsule"}]}},
  {"resourceType":"Organization","id":"o","name":"Acme"}]}`

func decodeResource(t *testing.T, src string) map[string]any {
	t.Helper()
	var res map[string]any
	d := json.NewDecoder(stringsReader(src))
	d.UseNumber()
	if err := d.Decode(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestIndexContained(t *testing.T) {
	ix := NewIndexer(NewRegistry(), Extractor{})
	entries, skipped, err := ix.Index(context.Background(), decodeResource(t, prescription), "p1")
	if err != nil || len(skipped) > 0 {
		t.Fatalf("Index: %v %v", err, skipped)
	}
	got := map[string]bool{}
	for _, e := range entries {
		if e.ResourceID != "mr1" || e.PatientKey != "p1" {
			t.Errorf("entry %+v: want the container's id and patient key", e)
		}
		key := fmt.Sprintf("%d %s %s", e.Contained, e.ResourceType, e.Code)
		switch r := e.Row.(type) {
		case TokenRow:
			key += " " + r.Code
		case StringRow:
			key += " " + r.Norm
		case ReferenceRow:
			key += " " + r.URL
		default:
			continue
		}
		got[key] = true
	}
	for _, want := range []string{
		"0 MedicationRequest status active", "0 MedicationRequest medication #m1",
		"1 Medication _id m1", "1 Medication code A", "1 Medication form tablet", "1 Medication manufacturer #o",
		"2 Medication _id m2", "2 Medication code B", "2 Medication form capsule",
		"3 Organization _id o", "3 Organization name acme",
	} {
		if !got[want] {
			t.Errorf("no entry %q", want)
		}
	}
	for k := range got {
		if strings.HasPrefix(k, "0 MedicationRequest code ") || strings.HasPrefix(k, "0 Medication ") || strings.HasPrefix(k, "1 MedicationRequest ") {
			t.Errorf("entry %q mixes the container's rows with a contained resource's", k)
		}
	}
	// A reindex of some codes touches those codes only, contained
	// resources included, and adds no _id rows.
	entries, _, err = ix.IndexParams(context.Background(), decodeResource(t, prescription), "p1", []string{"form", "status"})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, e := range entries {
		codes = append(codes, fmt.Sprintf("%d:%s", e.Contained, e.Code))
	}
	if want := []string{"0:status", "1:form", "2:form"}; !slices.Equal(codes, want) {
		t.Errorf("IndexParams(form, status) = %v, want %v", codes, want)
	}
}

func TestParseContained(t *testing.T) {
	for _, tc := range []struct {
		typ, query string
		top, cont  bool
		returns    bool
	}{
		{"Medication", "code=A", true, false, false},
		{"Medication", "code=A&_contained=false&_containedType=contained", true, false, false},
		{"Medication", "code=A&_contained=true", false, true, false},
		{"Medication", "code=A&_contained=both&_containedType=contained", true, true, true},
		{"Medication", "code:missing=true&code:not=B&_id=m1&manufacturer.name=acme&_contained=TRUE&_containedType=Contained", false, true, true},
	} {
		q := mustParse(t, tc.typ, tc.query)
		if q.SearchesTopLevel() != tc.top || q.SearchesContained() != tc.cont || q.ReturnsContained() != tc.returns {
			t.Errorf("%s?%s: top %v contained %v returns contained %v", tc.typ, tc.query, q.SearchesTopLevel(), q.SearchesContained(), q.ReturnsContained())
		}
	}
	for _, tc := range []struct{ typ, query, at string }{
		{"Medication", "_contained=maybe", "_contained"},
		{"Medication", "_containedType=both", "_containedType"},
		{"Medication", "code=A&_contained=true&_sort=code", "_sort"},
		{"Medication", "_contained=both&_sort=_lastUpdated", "_sort"},
		{"MedicationRequest", "_contained=true&_include=MedicationRequest:subject", "_include"},
		{"Patient", "_contained=both&_revinclude=Observation:subject", "_revinclude"},
		{"Patient", "_contained=true&_has:Observation:subject:code=x", "_has"},
		{"Observation", "_contained=true&code-value-quantity=x$5", "code-value-quantity"},
		{"Observation", "_contained=true&_lastUpdated=gt2020", "_lastUpdated"},
		{"Observation", "_contained=both&_text=x", "_text"},
		{"Observation", "_contained=true&_list=l1", "_list"},
	} {
		_, _, err := parse(t, tc.typ, tc.query, false)
		var oe *outcome.Error
		if !outcome.Is(err, outcome.Invalid) || !errors.As(err, &oe) || len(oe.Issues) == 0 || oe.Issues[0].Expression != tc.at {
			t.Errorf("%s?%s: error %v, want invalid at %s", tc.typ, tc.query, err, tc.at)
		}
	}
}

// TestMatchesContained holds the reference semantics: every clause on one
// resource, the type and _contained deciding which held resources count.
func TestMatchesContained(t *testing.T) {
	ix := NewIndexer(NewRegistry(), Extractor{})
	entries, _, err := ix.Index(context.Background(), decodeResource(t, prescription), "p1")
	if err != nil {
		t.Fatal(err)
	}
	held := HeldIn("MedicationRequest", entries)
	if len(held) != 4 || held[0].Contained != 0 || held[0].Type != "MedicationRequest" || held[3].Type != "Organization" {
		t.Fatalf("HeldIn = %+v", held)
	}
	for _, tc := range []struct {
		typ, query string
		want       []int
	}{
		{"Medication", "code=A&_contained=true", []int{1}},
		{"Medication", "code=A&form=capsule&_contained=true", nil},
		{"Medication", "code=A,B&form=capsule&_contained=both", []int{2}},
		{"Medication", "_id=m2&_contained=true", []int{2}},
		{"Medication", "code:not=A&_contained=true", []int{2}},
		{"Medication", "manufacturer:missing=true&_contained=true", []int{2}},
		{"Medication", "code=A", nil},
		{"Organization", "name=acme&_contained=both", []int{3}},
		{"MedicationRequest", "status=active&_contained=both", []int{0}},
		{"MedicationRequest", "status=active&_contained=true", nil},
		{"MedicationRequest", "code=A", nil},
	} {
		q := mustParse(t, tc.typ, tc.query)
		var got []int
		for _, h := range held {
			if q.Matches(h) {
				got = append(got, h.Contained)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s?%s matches %v, want %v", tc.typ, tc.query, got, tc.want)
		}
	}
}
