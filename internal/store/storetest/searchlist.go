package storetest

import (
	"testing"

	"github.com/ehealthplus/ehealth/internal/store"
)

// testSearchList runs _list: the items of a List's current version,
// under the access predicate on both the List and its items.
func testSearchList(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	ref := func(r string) string { return `{"reference":"` + r + `"}` }
	item := func(r string) field { return w.f("List", "item", "Reference", ref(r)) }
	w.put("List", "l1", "", item("Patient/p1"), item("Patient/p7"), item("Observation/o1"))
	w.put("List", "l2", "", item("Patient/p2"))
	w.put("List", "l2", "", item("Patient/p3")) // the current version counts
	w.put("List", "l3", "p8", item("Patient/p4"))
	w.put("List", "l4", "", item("Patient/p5"))
	w.remove("List", "l4")
	for _, tc := range []struct {
		typ, query string
		access     store.Access
		want       string
	}{
		{"Patient", "_list=l1", store.AccessAll, "Patient/p1 p7"},
		{"Observation", "_list=l1", store.AccessAll, "Observation/o1"},
		{"Patient", "_list=l2", store.AccessAll, "Patient/p3"},
		{"Patient", "_list=l1,l2", store.AccessAll, "Patient/p1 p3 p7"},
		{"Patient", "_list=List/l1&gender=male", store.AccessAll, "Patient/p1"},
		{"Patient", "_list=l4", store.AccessAll, ""},     // deleted List
		{"Patient", "_list=nolist", store.AccessAll, ""}, // unknown List
		{"Patient", "_list=l1", half, "Patient/p1"},      // p7 hidden
		{"Patient", "_list=l3", half, ""},                // the List is hidden (p8)
		{"Patient", "_list=l3", store.AccessAll, "Patient/p4"},
	} {
		got := sortedRefs(w.all(store.SearchQuery{Plan: w.plan(tc.typ, tc.query), Access: tc.access}))
		if got != expand(tc.want) {
			t.Errorf("%s?%s under %+v = %s, want %s", tc.typ, tc.query, tc.access, got, expand(tc.want))
		}
	}
	q := storeQuery(w.plan("Patient", "_list=l1"))
	q.Patient = "p1"
	if got := sortedRefs(w.all(q)); got != "Patient/p1" {
		t.Errorf("_list=l1 in p1's compartment = %s", got)
	}
}
