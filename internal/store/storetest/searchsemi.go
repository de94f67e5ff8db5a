package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/store"
)

// broadSetter is a store whose search engine can be told when a _has or
// chain clause is broad enough to probe per resource (sqlsearch.SetBroadAt).
type broadSetter interface{ SetBroadAt(n int) }

// testSearchSemiJoins runs _has and chains in both shapes the engine
// compiles them to — probed per resource from the searched type in the
// page's order (EXISTS), and selected whole (IN) — under full access and
// the half-hiding predicate, one match a page: the pages concatenate to
// the expected matches in one order for both shapes, with no duplicate,
// the previous links lead back through the same pages, and the total is
// exact or absent (never wrong) by default and exact when asked.
func testSearchSemiJoins(t *testing.T, s store.Store) {
	bs, ok := s.(broadSetter)
	if !ok {
		t.Skip("the store's search engine has one shape")
	}
	w := clinicWorld(t, s)
	for _, tc := range []struct {
		typ, query string
		all, half  string // expected matches, in order when sorted
		sorted     bool
	}{
		{"Patient", "_has:Observation:patient:code=8480-6", "Patient/p1 p2 p3 p6", "Patient/p1 p2 p3", false},
		{"Patient", "_has:Observation:patient:_has:DiagnosticReport:result:status=final", "Patient/p2", "Patient/p2", false},
		{"Patient", "_has:Observation:patient:subject:Patient.name=wong", "Patient/p3", "Patient/p3", false},
		{"Observation", "subject:Patient.name=CH&_has:DiagnosticReport:result:status=final", "Observation/o3", "Observation/o3", false},
		{"Patient", "_has:Observation:patient:code=8480-6&_sort=-_id", "Patient/p6 p3 p2 p1", "Patient/p3 p2 p1", true},
		{"Patient", "_has:Observation:patient:code=8480-6&gender=male&_sort=birthdate", "Patient/p1 p3 p6", "Patient/p1 p3", false},
		{"Observation", "subject:Patient.name=chan&code=8480-6", "Observation/o1 o4", "Observation/o1", false},
		{"Observation", "performer:Patient.name=ho", "Observation/o8", "", false},
		{"Patient", "_has:Observation:performer:code=zz-1", "Patient/p2", "", false},
		{"Practitioner", "_has:Patient:general-practitioner:_has:Observation:patient:code=29463-7", "Practitioner/dr1", "", false},
		{"Observation", "subject:Patient.general-practitioner:Practitioner.name=wong", "Observation/o1 o2 o4 o5 o6 o8", "Observation/o1 o2 o6 o8", false},
	} {
		for _, access := range []struct {
			name string
			a    store.Access
			want string
		}{{"all", store.AccessAll, tc.all}, {"half", half, tc.half}} {
			var orders []string
			for _, shape := range []struct {
				name    string
				broadAt int
				exists  bool
			}{{"probed", 1, true}, {"whole", 1 << 30, false}} {
				bs.SetBroadAt(shape.broadAt)
				name := tc.typ + "?" + tc.query + " " + access.name + " " + shape.name
				got := semiPages(t, w, name, tc.typ, tc.query, access.a)
				if tc.sorted {
					if got != expandOrdered(access.want) {
						t.Errorf("%s: got %s, want %s in order", name, got, expandOrdered(access.want))
					}
				} else if g := sortedFields(got); g != expand(access.want) {
					t.Errorf("%s: got %s, want %s", name, g, expand(access.want))
				}
				orders = append(orders, got)
				text, err := w.sr.Explain(t.Context(), store.SearchQuery{Plan: w.plan(tc.typ, tc.query+"&_count=1"), Access: access.a})
				if err != nil {
					t.Fatalf("%s: explain: %v", name, err)
				}
				sql, _, _ := strings.Cut(text, "\n\nPlan:\n")
				// An empty set is never broad: it is selected whole.
				exists := shape.exists && access.want != ""
				if strings.Contains(sql, "EXISTS (SELECT 1 FROM idx_reference") != exists &&
					strings.Contains(sql, "EXISTS (SELECT 1 FROM resource_current") != exists {
					t.Errorf("%s: probed per resource %v, want %v:\n%s", name, !exists, exists, sql)
				}
			}
			if orders[0] != orders[1] {
				t.Errorf("%s?%s %s: the shapes disagree: probed %s, whole %s", tc.typ, tc.query, access.name, orders[0], orders[1])
			}
		}
	}
	bs.SetBroadAt(0)
}

// semiPages follows the next links of query one match a page, checks the
// totals and the previous links, and returns the matches in page order.
func semiPages(t *testing.T, w *world, name, typ, query string, a store.Access) string {
	t.Helper()
	want := w.run(store.SearchQuery{Plan: w.plan(typ, query+"&_total=accurate&_count=100"), Access: a})
	var got []string
	var cursors []string // the cursor each page was read at
	q := store.SearchQuery{Plan: w.plan(typ, query+"&_count=1"), Access: a}
	for range 100 {
		page := w.run(q)
		if page.Total >= 0 && page.Total != want.Total {
			t.Errorf("%s: page %d total %d, accurate %d", name, len(cursors), page.Total, want.Total)
		}
		cursors = append(cursors, q.After)
		got = append(got, refs(page.Versions))
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	all := strings.Fields(strings.Join(got, " "))
	if n := len(slices.Compact(slices.Sorted(slices.Values(all)))); n != len(all) {
		t.Errorf("%s: duplicates across pages: %v", name, all)
	}
	if int64(len(all)) != want.Total || refs(want.Versions) != strings.Join(all, " ") {
		t.Errorf("%s: pages %v, one page %s (total %d)", name, all, refs(want.Versions), want.Total)
	}
	// Back from the last page: each previous link gives the page before.
	for i := len(cursors) - 1; i > 0; i-- {
		page := w.run(store.SearchQuery{Plan: w.plan(typ, query+"&_count=1"), Access: a, After: cursors[i]})
		if page.Previous == "" {
			t.Errorf("%s: page %d has no previous link", name, i)
			break
		}
		prev := w.run(store.SearchQuery{Plan: w.plan(typ, query+"&_count=1"), Access: a, After: page.Previous})
		if refs(prev.Versions) != got[i-1] {
			t.Errorf("%s: previous of page %d is %s, want %s", name, i, refs(prev.Versions), got[i-1])
		}
	}
	return strings.Join(all, " ")
}

// sortedFields sorts the space-separated refs of s.
func sortedFields(s string) string {
	f := strings.Fields(s)
	slices.Sort(f)
	return strings.Join(f, " ")
}
