package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/store"
)

func testSearchIncludes(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	versions := func(keys ...string) []store.Version {
		var out []store.Version
		for _, k := range keys {
			out = append(out, *w.vs[k])
		}
		return out
	}
	bp := versions("Observation/o1", "Observation/o3", "Observation/o4", "Observation/o6")
	allObs := w.all(storeQuery(w.plan("Observation", "")))
	for _, tc := range []struct {
		name    string
		typ, q  string
		rev     bool
		from    []store.Version
		access  store.Access
		limit   int
		want    string
		howMany int // when limit cuts: the number expected instead of want
	}{
		{"include", "Observation", "_include=Observation:subject", false, bp, store.AccessAll, 100, "Patient/p1 p2 p3 p6", 0},
		{"include hidden target", "Observation", "_include=Observation:subject", false, bp, half, 100, "Patient/p1 p2 p3", 0},
		{"include limit", "Observation", "_include=Observation:subject", false, bp, store.AccessAll, 2, "", 2},
		{"include target type", "Observation", "_include=Observation:performer:Patient", false, allObs, store.AccessAll, 100, "Patient/p2 p9", 0},
		{"include target type hidden", "Observation", "_include=Observation:performer:Patient", false, allObs, half, 100, "Patient/p2", 0},
		{"include wildcard", "Observation", "_include=Observation:*", false, versions("Observation/o1"), store.AccessAll, 100, "Patient/p1 Practitioner/dr1", 0},
		{"include star", "Observation", "_include=*", false, versions("Observation/o3", "Patient/p1"), store.AccessAll, 100,
			"Organization/org1 Patient/p2 Practitioner/dr1 dr2", 0},
		{"include nobody", "Observation", "_include=Observation:subject", false, bp, nobody, 100, "", 0},
		{"revinclude", "Patient", "_revinclude=Observation:subject", true, versions("Patient/p1", "Patient/p2"), store.AccessAll, 100, "Observation/o1 o2 o3 o8", 0},
		{"revinclude hidden source", "Patient", "_revinclude=Observation:performer", true, versions("Patient/p2"), store.AccessAll, 100, "Observation/o7", 0},
		{"revinclude hidden source half", "Patient", "_revinclude=Observation:performer", true, versions("Patient/p2"), half, 100, "", 0},
		{"revinclude wildcard", "Patient", "_revinclude=Observation:*", true, versions("Patient/p2"), store.AccessAll, 100, "Observation/o3 o7", 0},
		{"revinclude wildcard half", "Patient", "_revinclude=Observation:*", true, versions("Patient/p2"), half, 100, "Observation/o3", 0},
		{"revinclude target type", "Practitioner", "_revinclude=Patient:general-practitioner:Practitioner", true,
			versions("Practitioner/dr2"), half, 100, "Patient/p2 p5", 0},
		{"revinclude nested report", "Observation", "_revinclude=DiagnosticReport:result", true, bp, store.AccessAll, 100, "DiagnosticReport/rep1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := w.plan(tc.typ, tc.q)
			inc := q.Include
			if tc.rev {
				inc = q.RevInclude
			}
			if len(inc) != 1 {
				t.Fatalf("%s: %d includes", tc.q, len(inc))
			}
			got, err := w.sr.Include(t.Context(), tc.from, inc[0], tc.rev, tc.access, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if tc.howMany > 0 {
				if len(got) != tc.howMany {
					t.Errorf("%d included, want %d", len(got), tc.howMany)
				}
				return
			}
			if g := sortedRefs(got); g != expand(tc.want) {
				t.Errorf("included %s, want %s", g, expand(tc.want))
			}
			for _, v := range got {
				if cur := w.vs[v.Type+"/"+v.ID]; v.VersionID != cur.VersionID || string(v.Body) != string(cur.Body) {
					t.Errorf("included %s/%s version %d, want the current %d", v.Type, v.ID, v.VersionID, cur.VersionID)
				}
			}
		})
	}
}

func testSearchSort(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	for _, tc := range []struct{ typ, query, want string }{
		{"Patient", "_sort=birthdate", "p9 p3 p5 p1 p6 p2 p7 p8 p4 p10"},
		{"Patient", "_sort=-birthdate", "p10 p4 p8 p7 p2 p6 p5 p1 p3 p9"},
		{"Patient", "_sort=gender,-birthdate", "p4 p7 p2 p9 p8 p6 p1 p3 p10 p5"}, // p5 has no gender: last
		{"Patient", "_sort=-gender,birthdate", "p10 p3 p1 p6 p8 p9 p2 p7 p4 p5"}, // still last
		{"Patient", "_sort=name", "p1 p6 p2 p7 p3 p8 p9 p10 p5 p4"},
		{"Patient", "_sort=-name,_id", "p4 p9 p3 p7 p1 p6 p10 p2 p5 p8"}, // by the largest name
		{"Patient", "_sort=_id", "p1 p10 p2 p3 p4 p5 p6 p7 p8 p9"},
		{"Patient", "_sort=-_lastUpdated", "p10 p9 p8 p7 p6 p5 p4 p3 p2 p1"},
		{"Patient", "_sort=general-practitioner", "p1 p3 p6 p7 p2 p5 p8 p4 p9 p10"},
		{"Observation", "_sort=-date", "o2 o3 o4 o1 o5 o6 o7 o8 o9"},
		{"Observation", "_sort=date", "o6 o5 o1 o4 o3 o2 o7 o8 o9"},
		{"Observation", "_sort=value-quantity&value-quantity=ge80||mm[Hg]", "o2 o1 o6 o3 o4"},
		{"RiskAssessment", "_sort=-probability", "ra2 ra3 ra1"},
		{"RiskAssessment", "_sort=probability", "ra3 ra1 ra2"},
		{"", "_type=Patient,Practitioner&_sort=name&name=l", "Practitioner/dr2 Patient/p8 p5"},
	} {
		want := tc.want
		if !strings.Contains(want, "/") {
			want = tc.typ + "/" + want
		}
		wantRefs := strings.Join(strings.Fields(expandOrdered(want)), " ")
		for _, count := range []string{"", "&_count=1", "&_count=3"} {
			got := refs(w.all(storeQuery(w.plan(tc.typ, tc.query+count))))
			if got != wantRefs {
				t.Errorf("%s?%s%s\n got %s\nwant %s", tc.typ, tc.query, count, got, wantRefs)
			}
		}
	}
}

// expandOrdered is expand without sorting.
func expandOrdered(s string) string {
	var out []string
	typ := ""
	for _, f := range strings.Fields(s) {
		if t, id, ok := strings.Cut(f, "/"); ok {
			typ, f = t, id
		}
		out = append(out, typ+"/"+f)
	}
	return strings.Join(out, " ")
}

func testSearchPaging(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	// Unsorted: resource order, pages of 4.
	q := storeQuery(w.plan("Observation", "_count=4"))
	var pages []string
	for {
		page := w.run(q)
		if page.Total != 9 {
			t.Errorf("total = %d on a later page, want 9", page.Total)
		}
		pages = append(pages, refs(page.Versions))
		if page.Next == "" {
			break
		}
		if strings.Contains(page.Next, "o") && strings.Contains(page.Next, "Observation") {
			t.Errorf("cursor %q shows the data", page.Next)
		}
		q.After = page.Next
	}
	if got := strings.Join(pages, " | "); got != expandOrdered("Observation/o1 o2 o3 o4")+" | "+
		expandOrdered("Observation/o5 o6 o7 o8")+" | "+expandOrdered("Observation/o9") {
		t.Errorf("pages = %s", got)
	}

	// Back from the last page by the previous links: the same pages in
	// reverse, for several sorts, missing values (sorted last) included.
	for _, query := range []string{"_count=4", "_sort=birthdate&_count=3", "_sort=-birthdate,name&_count=2",
		"_sort=gender,-_id&_count=4", "_sort=gender&_count=3", "_sort=-_lastUpdated&_count=1"} {
		typ := "Observation"
		if strings.Contains(query, "birthdate") || strings.Contains(query, "gender") {
			typ = "Patient"
		}
		testPagingBack(t, w, typ, query)
	}

	// Sorted by name, with writes between pages: a cursor names a position
	// in the order, so what sorts before it is not seen and nothing repeats.
	q = storeQuery(w.plan("Patient", "_sort=name&_count=3"))
	first := w.run(q)
	if got := refs(first.Versions); got != expandOrdered("Patient/p1 p6 p2") {
		t.Fatalf("first page = %s", got)
	}
	name := func(family string) field {
		return w.f("Patient", "name", "HumanName", fmt.Sprintf(`{"family":%q}`, family))
	}
	w.put("Patient", "a0", "a0", name("Aaron")) // before the cursor
	w.put("Patient", "z0", "z0", name("Zed"))   // after it
	w.put("Patient", "p3", "p3", name("Yu"))    // moves from "fai" to "yu"
	w.put("Patient", "c0", "c0", name("Chen"))  // ties "chen" (p2, on page 1) and sorts after it by resource
	w.put("Patient", "p6", "p6", name("Zz"))    // already seen; moves after the cursor and shows again
	q.After = first.Next
	rest := refs(w.all(q))
	if want := expandOrdered("Patient/c0 p7 p8 p9 p10 p5 p4 p3 z0 p6"); rest != want {
		t.Errorf("after writes, the rest = %s\nwant %s", rest, want)
	}
	for _, bad := range []string{"Patient/a0", "Patient/p1 ", "Patient/p2 "} {
		if strings.Contains(rest+" ", bad) {
			t.Errorf("%s shows after the cursor", bad)
		}
	}
}

func testSearchIndexFollowsVersions(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	name := func(family string) field {
		return w.f("Patient", "name", "HumanName", fmt.Sprintf(`{"family":%q}`, family))
	}
	find := func(query string) string {
		t.Helper()
		return sortedRefs(w.all(storeQuery(w.plan("Patient", query))))
	}
	w.put("Patient", "x", "x", name("Alpha"))
	if got := find("name=alpha"); got != "Patient/x" {
		t.Errorf("after create: %q", got)
	}
	v2 := w.put("Patient", "x", "x", name("Beta"))
	if got := find("name=alpha"); got != "" {
		t.Errorf("old rows still match: %q", got)
	}
	page := w.run(storeQuery(w.plan("Patient", "name=beta")))
	if len(page.Versions) != 1 || page.Versions[0].VersionID != v2.VersionID || page.Versions[0].Seq != v2.Seq {
		t.Errorf("after update: %+v, want version 2", page.Versions)
	}
	w.remove("Patient", "x")
	if got := find("name=beta"); got != "" {
		t.Errorf("deleted resource matches: %q", got)
	}
	if got := find("_id=x"); got != "" {
		t.Errorf("deleted resource matches _id: %q", got)
	}
	w.put("Patient", "x", "x", name("Gamma"))
	if got := find("name=gamma"); got != "Patient/x" {
		t.Errorf("after re-create: %q", got)
	}
	// A deleted chain target no longer makes anything match.
	w.remove("Patient", "p2")
	got := sortedRefs(w.all(storeQuery(w.plan("Observation", "subject:Patient.name=chen"))))
	if got != "" {
		t.Errorf("chain to a deleted resource: %q", got)
	}
	if got := find("_has:Observation:patient:code=8480-6"); got != expand("Patient/p1 p3 p6") {
		t.Errorf("_has after delete: %q", got)
	}
}

func testSearchBadCursor(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	sorted := w.run(storeQuery(w.plan("Patient", "_sort=name&_count=2")))
	for _, tc := range []struct{ query, after string }{
		{"_count=2", "not-a-cursor"},
		{"_count=2", sorted.Next[:len(sorted.Next)-2] + "AA"},
		{"_sort=birthdate&_count=2", sorted.Next}, // another sort
		{"_count=2", sorted.Next},
	} {
		q := storeQuery(w.plan("Patient", tc.query))
		q.After = tc.after
		_, err := w.sr.Search(t.Context(), q)
		assertInvalid(t, err)
	}
}

// testPagingBack walks a search forward by its next links and back by its
// previous links and checks both walks see the same pages.
func testPagingBack(t *testing.T, w *world, typ, query string) {
	t.Helper()
	q := storeQuery(w.plan(typ, query))
	var forward []string
	var last store.SearchPage
	for {
		page := w.run(q)
		if len(forward) == 0 && page.Previous != "" {
			t.Errorf("%s?%s: the first page has a previous link", typ, query)
		}
		forward = append(forward, refs(page.Versions))
		last = page
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if len(forward) < 2 {
		t.Fatalf("%s?%s: %d page(s); the test needs several", typ, query, len(forward))
	}
	backward := []string{forward[len(forward)-1]}
	for page := last; page.Previous != ""; {
		q.After = page.Previous
		page = w.run(q)
		if page.Next == "" {
			t.Errorf("%s?%s: a page reached back has no next link", typ, query)
		}
		backward = append(backward, refs(page.Versions))
		if len(backward) > len(forward) {
			break
		}
	}
	slices.Reverse(backward)
	if got, want := strings.Join(backward, " | "), strings.Join(forward, " | "); got != want {
		t.Errorf("%s?%s: back\n %s\nforward\n %s", typ, query, got, want)
	}
}
