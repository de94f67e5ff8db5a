package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

var historyTests = []test{
	{"History", testHistory},
	{"HistoryStreamsManyPages", testHistoryManyPages},
	{"HistoryStopEarlyReleasesConnections", testHistoryStopEarly},
	{"HistoryCanceledContext", testHistoryCanceled},
	{"HistoryAccess", testHistoryAccess},
}

// collect drains a History stream, failing the test on error.
func collect(t *testing.T, s store.Store, q store.HistoryQuery) []store.Version {
	t.Helper()
	var out []store.Version
	for v, err := range s.History(t.Context(), q) {
		if err != nil {
			t.Fatalf("history %+v: %v", q, err)
		}
		out = append(out, v)
	}
	return out
}

func assertHistoryLen(t *testing.T, s store.Store, q store.HistoryQuery, want int) {
	t.Helper()
	if got := collect(t, s, q); len(got) != want {
		t.Errorf("history %+v has %d versions, want %d", q, len(got), want)
	}
	if n, err := s.CountHistory(t.Context(), q); err != nil || n != int64(want) {
		t.Errorf("count history %+v = %d, %v; want %d", q, n, err, want)
	}
}

// hour is the fixture's clock: version i of the fixture is written at hour(i).
func hour(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) }

// historyFixture writes seven versions in this order (label @ time):
//
//	a1@1 b1@2 x1@3 a2@4 a3(deleted)@5 x2@6 y1@7
//
// where a, b are Patients and x, y Observations. It returns them by label.
func historyFixture(t *testing.T, s store.Store) map[string]*store.Version {
	t.Helper()
	steps := []struct {
		label, typ, id string
		vid            int64
		deleted        bool
	}{
		{"a1", "Patient", "a", 1, false},
		{"b1", "Patient", "b", 1, false},
		{"x1", "Observation", "x", 1, false},
		{"a2", "Patient", "a", 2, false},
		{"a3", "Patient", "a", 3, true},
		{"x2", "Observation", "x", 2, false},
		{"y1", "Observation", "y", 1, false},
	}
	out := map[string]*store.Version{}
	for i, st := range steps {
		v := newVersion(st.typ, st.id, st.vid, hour(i+1))
		if st.deleted {
			v = deleteMarker(st.typ, st.id, st.vid, hour(i+1))
		}
		put(t, s, v, st.vid-1)
		out[st.label] = v
	}
	return out
}

func testHistory(t *testing.T, s store.Store) {
	vs := historyFixture(t, s)
	seq := func(label string) int64 { return vs[label].Seq }
	cases := []struct {
		name  string
		q     store.HistoryQuery
		want  string // labels, newest first
		total int    // CountHistory: ignores Count and Before
	}{
		{"system", store.HistoryQuery{Access: store.AccessAll}, "y1 x2 a3 a2 x1 b1 a1", 7},
		{"type", store.HistoryQuery{Access: store.AccessAll, Type: "Patient"}, "a3 a2 b1 a1", 4},
		{"other type", store.HistoryQuery{Access: store.AccessAll, Type: "Observation"}, "y1 x2 x1", 3},
		{"unknown type", store.HistoryQuery{Access: store.AccessAll, Type: "Encounter"}, "", 0},
		{"instance", store.HistoryQuery{Access: store.AccessAll, Type: "Patient", ID: "a"}, "a3 a2 a1", 3},
		{"unknown instance", store.HistoryQuery{Access: store.AccessAll, Type: "Patient", ID: "x"}, "", 0},
		{"since", store.HistoryQuery{Access: store.AccessAll, Since: hour(4)}, "y1 x2 a3 a2", 4},
		{"since type", store.HistoryQuery{Access: store.AccessAll, Type: "Patient", Since: hour(5)}, "a3", 1},
		{"since after all", store.HistoryQuery{Access: store.AccessAll, Since: hour(8)}, "", 0},
		{"at instant", store.HistoryQuery{Access: store.AccessAll, AtFrom: hour(3), AtTo: hour(3).Add(time.Microsecond)}, "x1 b1 a1", 3},
		{"at between writes", store.HistoryQuery{Access: store.AccessAll, AtFrom: hour(2).Add(30 * time.Minute), AtTo: hour(3)}, "b1 a1", 2},
		{"at span", store.HistoryQuery{Access: store.AccessAll, AtFrom: hour(4), AtTo: hour(5)}, "a2 x1 b1", 3},
		{"at span incl. delete marker", store.HistoryQuery{Access: store.AccessAll, AtFrom: hour(6), AtTo: hour(8)}, "y1 x2 a3 b1", 4},
		{"at from only", store.HistoryQuery{Access: store.AccessAll, AtFrom: hour(6)}, "y1 x2 a3 b1", 4},
		{"at to only", store.HistoryQuery{Access: store.AccessAll, AtTo: hour(2)}, "a1", 1},
		{"at before everything", store.HistoryQuery{Access: store.AccessAll, AtTo: hour(1)}, "", 0},
		{"at instance", store.HistoryQuery{Access: store.AccessAll, Type: "Patient", ID: "a", AtFrom: hour(4), AtTo: hour(5)}, "a2", 1},
		{"at type", store.HistoryQuery{Access: store.AccessAll, Type: "Observation", AtFrom: hour(4), AtTo: hour(5)}, "x1", 1},
		{"at and since", store.HistoryQuery{Access: store.AccessAll, Since: hour(3), AtFrom: hour(4), AtTo: hour(5)}, "a2 x1", 2},
		{"count", store.HistoryQuery{Access: store.AccessAll, Count: 3}, "y1 x2 a3", 7},
		{"count above total", store.HistoryQuery{Access: store.AccessAll, Count: 100}, "y1 x2 a3 a2 x1 b1 a1", 7},
		{"before", store.HistoryQuery{Access: store.AccessAll, Before: seq("a3")}, "a2 x1 b1 a1", 7},
		{"before and count", store.HistoryQuery{Access: store.AccessAll, Before: seq("a3"), Count: 2}, "a2 x1", 7},
		{"before type", store.HistoryQuery{Access: store.AccessAll, Type: "Patient", Before: seq("a2")}, "b1 a1", 4},
		{"before instance", store.HistoryQuery{Access: store.AccessAll, Type: "Patient", ID: "a", Before: seq("a3")}, "a2 a1", 3},
		{"before the first", store.HistoryQuery{Access: store.AccessAll, Before: seq("a1")}, "", 7},
		{"before at count", store.HistoryQuery{Access: store.AccessAll, AtFrom: hour(6), AtTo: hour(8), Before: seq("x2"), Count: 1}, "a3", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := collect(t, s, tc.q)
			var labels []string
			for _, g := range got {
				labels = append(labels, labelOf(vs, g))
			}
			if strings.Join(labels, " ") != tc.want {
				t.Errorf("history = %q, want %q", strings.Join(labels, " "), tc.want)
			}
			for _, g := range got {
				if want, ok := vs[labelOf(vs, g)]; ok {
					assertVersion(t, g, *want)
				}
			}
			n, err := s.CountHistory(t.Context(), tc.q)
			if err != nil || n != int64(tc.total) {
				t.Errorf("count = %d, %v; want %d", n, err, tc.total)
			}
		})
	}
}

func labelOf(vs map[string]*store.Version, v store.Version) string {
	for label, w := range vs {
		if w.Type == v.Type && w.ID == v.ID && w.VersionID == v.VersionID {
			return label
		}
	}
	return fmt.Sprintf("%s/%s/%d?", v.Type, v.ID, v.VersionID)
}

// manyVersions writes n versions of Patient/long in one transaction, with
// one Observation version between every tenth, and returns the patient's.
func manyVersions(t *testing.T, s store.Store, n int) []*store.Version {
	t.Helper()
	ctx := t.Context()
	var out []*store.Version
	err := s.Write(ctx, func(tx store.Tx) error {
		for i := 1; i <= n; i++ {
			v := newVersion("Patient", "long", int64(i), base.Add(time.Duration(i)*time.Second))
			if err := tx.Put(ctx, v, int64(i-1)); err != nil {
				return err
			}
			out = append(out, v)
			if i%10 == 0 {
				if err := tx.Put(ctx, newVersion("Observation", "o", int64(i/10), v.Updated), int64(i/10-1)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("write %d versions: %v", n, err)
	}
	return out
}

// testHistoryManyPages checks streams longer than any internal page size.
func testHistoryManyPages(t *testing.T, s store.Store) {
	const n = 530
	vs := manyVersions(t, s, n)
	inst := store.HistoryQuery{Access: store.AccessAll, Type: "Patient", ID: "long"}
	got := collect(t, s, inst)
	if len(got) != n {
		t.Fatalf("instance history has %d versions, want %d", len(got), n)
	}
	for i, g := range got {
		assertVersion(t, g, *vs[n-1-i])
	}
	all := collect(t, s, store.HistoryQuery{Access: store.AccessAll})
	if len(all) != n+n/10 {
		t.Errorf("system history has %d versions, want %d", len(all), n+n/10)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq >= all[i-1].Seq {
			t.Fatalf("system history not newest first at %d: seq %d after %d", i, all[i].Seq, all[i-1].Seq)
		}
	}
	if got := collect(t, s, store.HistoryQuery{Access: store.AccessAll, Type: "Patient", Count: 250}); len(got) != 250 || got[249].VersionID != n-249 {
		t.Errorf("count 250: %d versions", len(got))
	}
	// Paging with Before visits every version exactly once.
	var paged []store.Version
	for q := (store.HistoryQuery{Access: store.AccessAll, Type: "Patient", Count: 77}); ; {
		page := collect(t, s, q)
		paged = append(paged, page...)
		if len(page) < q.Count {
			break
		}
		q.Before = page[len(page)-1].Seq
	}
	if len(paged) != n || paged[0].VersionID != n || paged[n-1].VersionID != 1 {
		t.Errorf("paging: %d versions", len(paged))
	}
}

// testHistoryStopEarly breaks out of many streams; if any leaked its
// connection, the pool would run dry and the reads below would time out.
func testHistoryStopEarly(t *testing.T, s store.Store) {
	manyVersions(t, s, 300)
	// A leak shows as a timeout here rather than a hung test.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for i := range 64 {
		stopAfter := 1 + i%3*120 // first page, second page, third page
		seen := 0
		for _, err := range s.History(ctx, store.HistoryQuery{Access: store.AccessAll}) {
			if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
			if seen++; seen == stopAfter {
				break
			}
		}
		if seen != stopAfter {
			t.Fatalf("stream %d ended after %d versions, want to stop at %d", i, seen, stopAfter)
		}
	}
	if _, err := s.Read(ctx, "Patient", "long"); err != nil {
		t.Fatalf("read after early stops: %v", err)
	}
	if _, err := s.CountHistory(ctx, store.HistoryQuery{Access: store.AccessAll}); err != nil {
		t.Fatalf("count after early stops: %v", err)
	}
	if err := tryPut(ctx, s, newVersion("Patient", "after", 1, base), 0); err != nil {
		t.Fatalf("write after early stops: %v", err)
	}
}

func testHistoryCanceled(t *testing.T, s store.Store) {
	manyVersions(t, s, 10)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var errs int
	for _, err := range s.History(ctx, store.HistoryQuery{Access: store.AccessAll}) {
		if err == nil {
			t.Fatal("history with a canceled context yielded a version")
		}
		errs++
	}
	if errs != 1 {
		t.Errorf("history with a canceled context yielded %d errors, want 1", errs)
	}
	if _, err := s.CountHistory(ctx, store.HistoryQuery{Access: store.AccessAll}); err == nil {
		t.Error("count history with a canceled context succeeded")
	}
}
