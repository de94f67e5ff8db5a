package bulkdata

import (
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name    string
		level   Level
		query   string
		types   []string
		filters map[string]int
		bad     string // the expression of the error, "" when valid
	}{
		{name: "nothing", level: System},
		{name: "types", level: System, query: "_type=Observation,Patient&_type=Observation", types: []string{"Observation", "Patient"}},
		{name: "ndjson", level: System, query: "_outputFormat=application/fhir%2Bndjson"},
		{name: "short ndjson", level: System, query: "_outputFormat=ndjson"},
		{name: "csv", level: System, query: "_outputFormat=text/csv", bad: "_outputFormat"},
		{name: "unknown type", level: System, query: "_type=Observations", bad: "_type"},
		{name: "since", level: System, query: "_since=2026-01-01T00:00:00%2B08:00"},
		{name: "since a date only", level: System, query: "_since=2026-01-01", bad: "_since"},
		{name: "filters", level: Patient, query: "_typeFilter=" + url.QueryEscape("Observation?code=1%2C2,Condition?clinical-status=active"), filters: map[string]int{"Observation": 1, "Condition": 1}},
		{name: "filter without query", level: System, query: "_typeFilter=Observation", bad: "_typeFilter"},
		{name: "filter of a type left out", level: System, query: "_type=Patient&_typeFilter=" + url.QueryEscape("Observation?code=1"), bad: "_typeFilter"},
		{name: "patient level, not a record type", level: Patient, query: "_type=Organization", bad: "_type"},
		{name: "group level, record type", level: Group, query: "_type=Observation", types: []string{"Observation"}},
		{name: "unsupported parameter", level: System, query: "includeAssociatedData=LatestProvenanceResources", bad: "includeAssociatedData"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			req, err := ParseRequest(tt.level, "g", q)
			if tt.bad != "" {
				var oe *outcome.Error
				if !outcome.Is(err, outcome.Invalid) || !asOutcome(err, &oe) || len(oe.Issues) == 0 || oe.Issues[0].Expression != tt.bad {
					t.Fatalf("err = %v, want invalid at %s", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(req.Types, tt.types) {
				t.Errorf("types = %v, want %v", req.Types, tt.types)
			}
			for typ, n := range tt.filters {
				if len(req.TypeFilters[typ]) != n {
					t.Errorf("filters of %s = %v", typ, req.TypeFilters[typ])
				}
			}
			if tt.name == "filters" && req.TypeFilters["Observation"][0].Get("code") != "1,2" {
				t.Errorf("an escaped comma inside a filter: %v", req.TypeFilters["Observation"])
			}
		})
	}
}

// FuzzParseRequest: no kick-off query panics the parser, and whatever it
// accepts names only R4 resource types.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"", "_type=Patient", "_typeFilter=Observation%3Fcode%3D1", "_since=2026-01-01T00:00:00Z", "_outputFormat=ndjson&_type=A,B", "_typeFilter=%3F,%3F%3F"} {
		f.Add(s, 0)
	}
	levels := []Level{System, Patient, Group}
	f.Fuzz(func(t *testing.T, query string, level int) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		req, err := ParseRequest(levels[(level%3+3)%3], "g", q)
		if err != nil {
			if !outcome.Is(err, outcome.Invalid) {
				t.Fatalf("a bad query is not Invalid: %v", err)
			}
			return
		}
		for _, typ := range req.Types {
			if typ == "" {
				t.Fatal("an empty type accepted")
			}
		}
	})
}

// asOutcome is errors.As for an *outcome.Error.
func asOutcome(err error, oe **outcome.Error) bool { return errors.As(err, oe) }
