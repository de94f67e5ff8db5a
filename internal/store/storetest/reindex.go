package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

var reindexTests = []test{
	{"ReplaceIndex", testReplaceIndex},
	{"ReplaceIndexNoOps", testReplaceIndexNoOps},
	{"CurrentStreamsInOrder", testCurrentStreams},
	{"CurrentDrivesReindex", testCurrentDrivesReindex},
}

// replaceIndex runs tx.ReplaceIndex in its own transaction.
func (w *world) replaceIndex(typ, id string, codes []string, fields ...field) error {
	w.t.Helper()
	var entries []search.Entry
	for _, f := range fields {
		for _, r := range f.rows {
			entries = append(entries, search.Entry{ResourceType: typ, ResourceID: id, Code: f.code, Row: r})
		}
	}
	ctx := w.t.Context()
	return w.s.Write(ctx, func(tx store.Tx) error { return tx.ReplaceIndex(ctx, typ, id, codes, entries) })
}

// testReplaceIndex replaces one parameter's rows of a resource (and a
// composite's parts) and expects searches to see exactly the new rows,
// with the other parameters' rows untouched and no new version.
func testReplaceIndex(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	o1 := w.vs["Observation/o1"]
	code := w.f("Observation", "code", "CodeableConcept", `{"coding":[{"system":"http://loinc.org","code":"9999-9"}]}`)
	if err := w.replaceIndex("Observation", "o1", []string{"code"}, code); err != nil {
		t.Fatal(err)
	}
	// o3's composite code-value-quantity rows go; its code and value rows stay.
	if err := w.replaceIndex("Observation", "o3", []string{"code-value-quantity", "performer"}); err != nil {
		t.Fatal(err)
	}
	runClinicCases(t, w, []fixtureSearchCase{
		{"Observation", "code=9999-9", "Observation/o1"},
		{"Observation", "code=8480-6", "Observation/o3 o4 o6"},
		{"Observation", "code:missing=true", ""},
		{"Observation", "subject=Patient/p1", "Observation/o1 o2 o8"},
		{"Observation", "value-quantity=120||mm[Hg]", "Observation/o1 o6"},                  // o6: 16 kPa
		{"Observation", "code-value-quantity=8480-6$gt115||mm[Hg]", "Observation/o1 o4 o6"}, // o1's composite kept its old code
		{"Observation", "value-quantity=130||mm[Hg]", "Observation/o3"},
		{"Observation", "performer=Practitioner/dr2", ""},
		{"Observation", "code-value-quantity:missing=true", "Observation/o3 o7 o8 o9"},
	})
	if v := mustRead(t, s, "Observation", "o1"); v.VersionID != o1.VersionID || v.Seq != o1.Seq {
		t.Errorf("ReplaceIndex wrote a version: now %s", describe(v))
	}
	// The patient key of the new rows is the resource's: a caller that sees
	// only p1 finds o1 by its new code, one that sees p2 does not.
	for _, tc := range []struct {
		patient string
		want    int64
	}{{"p1", 1}, {"p2", 0}} {
		q := storeQuery(w.plan("Observation", "code=9999-9"))
		q.Access = store.Access{Patients: []string{tc.patient}}
		if page := w.run(q); page.Total != tc.want {
			t.Errorf("code=9999-9 seen by %s: total %d, want %d", tc.patient, page.Total, tc.want)
		}
	}
}

// testReplaceIndexNoOps: a deleted resource and an unknown one are left
// alone; rows of unlisted codes are refused.
func testReplaceIndexNoOps(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	code := w.f("Observation", "code", "CodeableConcept", `{"coding":[{"system":"http://loinc.org","code":"9999-9"}]}`)
	w.remove("Observation", "o5")
	for _, id := range []string{"o5", "nope"} {
		if err := w.replaceIndex("Observation", id, []string{"code"}, code); err != nil {
			t.Errorf("ReplaceIndex %s: %v, want a no-op", id, err)
		}
	}
	err := w.replaceIndex("Observation", "o3", []string{"status"}, code)
	if !outcome.Is(err, outcome.Internal) {
		t.Errorf("ReplaceIndex with a row of an unlisted code = %v, want kind internal", err)
	}
	runClinicCases(t, w, []fixtureSearchCase{
		{"Observation", "code=9999-9", ""},
		{"Observation", "code=8480-6", "Observation/o1 o3 o4 o6"},
		{"Observation", "code:missing=true", ""}, // o5 is deleted, not indexed anew
	})
}

// currentFixture writes Patients r000…r(n-1), deletes every 10th, and
// writes Observations with the same ids; it returns the live Patient ids.
func currentFixture(t *testing.T, s store.Store, n int) []string {
	t.Helper()
	ctx := t.Context()
	var live []string
	err := s.Write(ctx, func(tx store.Tx) error {
		for i := range n {
			id := fmt.Sprintf("r%03d", i)
			for _, typ := range []string{"Patient", "Observation"} {
				if err := tx.Put(ctx, newVersion(typ, id, 1, base), 0); err != nil {
					return err
				}
			}
			if i%10 == 3 {
				if err := tx.Put(ctx, deleteMarker("Patient", id, 2, base.Add(time.Second)), 1); err != nil {
					return err
				}
				continue
			}
			live = append(live, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return live
}

// collectCurrent drains a Current stream into ids, checking each version
// is the live current one.
func collectCurrent(t *testing.T, s store.Store, afterID string, limit int) []string {
	t.Helper()
	var ids []string
	for v, err := range s.Current(t.Context(), "Patient", afterID, limit) {
		if err != nil {
			t.Fatal(err)
		}
		if v.Type != "Patient" || v.Deleted || v.VersionID != 1 || len(v.Body) == 0 {
			t.Errorf("Current yielded %s", describe(v))
		}
		ids = append(ids, v.ID)
	}
	return ids
}

func testCurrentStreams(t *testing.T, s store.Store) {
	live := currentFixture(t, s, 250) // more than one internal page
	if got := collectCurrent(t, s, "", 0); !slices.Equal(got, live) {
		t.Fatalf("Current streamed %d ids %v…, want the %d live ones in order", len(got), head(got), len(live))
	}
	// Paging by afterID, in pages that end inside and on internal pages.
	for _, limit := range []int{1, 70, 100} {
		var got []string
		after := ""
		for range len(live) + 1 {
			page := collectCurrent(t, s, after, limit)
			if len(page) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page))
			}
			if len(page) == 0 {
				break
			}
			got, after = append(got, page...), page[len(page)-1]
		}
		if !slices.Equal(got, live) {
			t.Errorf("limit %d: paged %d ids %v…, want %d", limit, len(got), head(got), len(live))
		}
	}
	if got := collectCurrent(t, s, "r248", 0); !slices.Equal(got, []string{"r249"}) {
		t.Errorf("after r248: %v, want [r249]", got)
	}
	n := 0
	for range s.Current(t.Context(), "Patient", "", 0) {
		if n++; n == 5 {
			break
		}
	}
	if got := collectCurrent(t, s, "", 0); len(got) != len(live) {
		t.Errorf("after stopping a stream early, a new one streams %d, want %d", len(got), len(live))
	}
}

// testCurrentDrivesReindex is the reindex job: stream the current
// versions and, in the loop body, write each one's rows for a parameter.
func testCurrentDrivesReindex(t *testing.T, s store.Store) {
	live := currentFixture(t, s, 130)
	w := newWorld(t, s)
	ctx := t.Context()
	for v, err := range s.Current(ctx, "Patient", "", 0) {
		if err != nil {
			t.Fatal(err)
		}
		gender := w.f("Patient", "gender", "code", `"female"`)
		if err := w.replaceIndex(v.Type, v.ID, []string{"gender"}, gender); err != nil {
			t.Fatal(err)
		}
	}
	got := w.all(storeQuery(w.plan("Patient", "gender=female&_count=50")))
	if len(got) != len(live) {
		t.Errorf("gender=female finds %d, want %d", len(got), len(live))
	}
}

func head(ids []string) []string { return ids[:min(len(ids), 5)] }
