package storetest

import (
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/store"
)

// testSearchExplain checks _explain's store half: the SQL keeps its
// placeholders (no value, so no PHI, is written out) and the plan of a
// patient-scoped search reads an index.
func testSearchExplain(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	for _, tc := range []struct{ typ, query string }{
		{"Observation", "code=8480-6"},
		{"Observation", "code=8480-6&_summary=count"},
		{"Observation", "date=ge2024-01-01&_sort=-date"},
	} {
		q := storeQuery(w.plan(tc.typ, tc.query))
		q.Patient = "p1"
		text, err := w.sr.Explain(t.Context(), q)
		if err != nil {
			t.Fatalf("explain %s?%s: %v", tc.typ, tc.query, err)
		}
		sql, plan, ok := strings.Cut(text, "\n\nPlan:\n")
		switch {
		case !ok || !strings.HasPrefix(sql, "SQL:\nSELECT"):
			t.Errorf("explain %s?%s: no SQL and plan sections:\n%s", tc.typ, tc.query, text)
		case strings.Contains(text, "8480-6") || strings.Contains(text, "'p1'"):
			t.Errorf("explain %s?%s writes out a value:\n%s", tc.typ, tc.query, sql)
		case !strings.Contains(strings.ToLower(plan), "index"):
			t.Errorf("explain %s?%s: the plan reads no index:\n%s", tc.typ, tc.query, text)
		}
	}
	// Many plain token values are one list condition (an index probe per
	// value), not an OR of a condition per value, which both databases
	// answer by reading every row of the parameter.
	for _, codes := range []string{"http://loinc.org|8480-6,http://loinc.org|8462-4,http://loinc.org|8867-4", "8480-6,8462-4,8867-4"} {
		q := storeQuery(w.plan("Observation", "code="+codes))
		text, err := w.sr.Explain(t.Context(), q)
		if err != nil {
			t.Fatalf("explain code=%s: %v", codes, err)
		}
		if sql, _, _ := strings.Cut(text, "\n\nPlan:\n"); strings.Contains(sql, " OR ") {
			t.Errorf("explain code=%s: one condition per value:\n%s", codes, sql)
		}
	}
	// Explaining reads nothing, so it never fails on an empty result, and
	// it can be repeated.
	for range 3 {
		q := storeQuery(w.plan("Observation", "code=nothing"))
		if _, err := w.sr.Explain(t.Context(), q); err != nil {
			t.Errorf("explain with no match: %v", err)
		}
	}
}
