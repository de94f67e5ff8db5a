package storetest

import (
	"testing"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// testSearchText runs _text and _content on the full-text index and checks
// each answer against search.Match, the reference semantics.
func testSearchText(t *testing.T, s store.Store) {
	w := newWorld(t, s)
	text := func(code, s string) field {
		return field{code, []search.Row{search.TextRow{Text: search.Normalize(s)}}}
	}
	w.put("Condition", "c1", "p1", text("_text", "Chest pain after exercise"), text("_content", "Chest pain after exercise active"))
	w.put("Condition", "c2", "p2", text("_text", "Type 2 diabetes mellitus, 2型糖尿病"), text("_content", "diabetes E11"))
	w.put("Condition", "c3", "p3", text("_text", "Painless swelling of the Ankle"), text("_content", "swelling resolved"))
	w.put("Condition", "c4", "p4", text("_content", "no narrative here"))
	w.put("Condition", "c5", "p5", text("_text", "chest pain"))
	w.remove("Condition", "c5")
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"_text=chest", "Condition/c1"},
		{"_text=CHEST%20PAIN", "Condition/c1"},
		{"_text=pain%20chest", "Condition/c1"},      // all words, any order
		{"_text=pain", "Condition/c1 c3"},           // prefix on the last word: painless
		{"_text=chest%20ankle", ""},                 // every word must occur
		{"_text=ain", ""},                           // words, not substrings
		{"_text=diab", "Condition/c2"},              // prefix
		{"_text=糖尿病", "Condition/c2"},               // CJK: substring of the normalised text
		{"_text=ankle,diabetes", "Condition/c2 c3"}, // OR of values
		{"_text=swelling&_text=ankle", "Condition/c3"},
		{"_content=active", "Condition/c1"},
		{"_content=narrative", "Condition/c4"},
		{"_content=e11", "Condition/c2"},
		{"_text=narrative", ""},
	} {
		plan := w.plan("Condition", tc.query)
		page := w.all(storeQuery(plan))
		got := sortedRefs(page)
		if got != expand(tc.want) {
			t.Errorf("Condition?%s = %s, want %s", tc.query, got, expand(tc.want))
		}
		if ref := w.expected("Condition", plan, store.AccessAll); ref != refs(page) {
			t.Errorf("Condition?%s: store %s, search.Match %s", tc.query, refs(page), ref)
		}
	}
	got := sortedRefs(w.all(store.SearchQuery{Plan: w.plan("Condition", "_text=pain"), Access: store.Access{Patients: []string{"p3"}}}))
	if got != expand("Condition/c3") {
		t.Errorf("_text=pain under p3's access = %s", got)
	}
}
