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
	// Explaining reads nothing, so it never fails on an empty result, and
	// it can be repeated.
	for range 3 {
		q := storeQuery(w.plan("Observation", "code=nothing"))
		if _, err := w.sr.Explain(t.Context(), q); err != nil {
			t.Errorf("explain with no match: %v", err)
		}
	}
}
