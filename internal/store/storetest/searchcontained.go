package storetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

var containedTests = []test{
	{"SearchContained", testSearchContained},
	{"SearchContainedPaging", testSearchContainedPaging},
	{"SearchContainedFollowsVersions", testSearchContainedFollowsVersions},
	{"SearchContainedAgreesWithMatch", testSearchContainedAgreesWithMatch},
}

// putJSON indexes a resource with the search package's Indexer, contained
// resources included, and writes it in compartment patient.
func (w *world) putJSON(ix *search.Indexer, patient, body string) *store.Version {
	w.t.Helper()
	var res map[string]any
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&res); err != nil {
		w.t.Fatalf("fixture %s: %v", body, err)
	}
	entries, skipped, err := ix.Index(w.t.Context(), res, patient)
	if err != nil || len(skipped) > 0 {
		w.t.Fatalf("index %s: %v %v", body, err, skipped)
	}
	return w.putEntries(res["resourceType"].(string), res["id"].(string), patient, entries, []byte(body))
}

// containedWorld writes prescriptions holding contained Medications (and
// one an Organization), a Medication and Organizations of their own, in
// creation order: org1, med1, mr1 (p1), mr2 (p2), mr3 (p3), mr4 (p1).
// mr1 holds two Medications whose code and form differ: A/tablet and
// B/capsule, so code=A&form=capsule finds neither.
func containedWorld(t testing.TB, s store.Store) *world {
	w := newWorld(t, s)
	ix := search.NewIndexer(w.reg, search.Extractor{})
	med := func(id, code, form, extra string) string {
		return fmt.Sprintf(`{"resourceType":"Medication","id":%q,"code":{"coding":[{"system":"urn:med","code":%q}]},
		 "form":{"coding":[{"system":"urn:form","code":%q}]}%s}`, id, code, form, extra)
	}
	mr := func(id, patient, contained string) string {
		return fmt.Sprintf(`{"resourceType":"MedicationRequest","id":%q,"status":"active","intent":"order",
		 "subject":{"reference":"Patient/%s"},"medicationReference":{"reference":"#m1"},"contained":[%s]}`, id, patient, contained)
	}
	w.putJSON(ix, "", `{"resourceType":"Organization","id":"org1","name":"Acme Pharma"}`)
	w.putJSON(ix, "", med("med1", "A", "tablet", ""))
	w.putJSON(ix, "p1", mr("mr1", "p1", med("m1", "A", "tablet", "")+","+med("m2", "B", "capsule", "")))
	w.putJSON(ix, "p2", mr("mr2", "p2", med("m1", "A", "capsule", `,"manufacturer":{"reference":"Organization/org1"}`)))
	w.putJSON(ix, "p3", mr("mr3", "p3", med("m1", "B", "tablet", "")+`,{"resourceType":"Organization","id":"o","name":"Acme Depot"}`))
	w.putJSON(ix, "p1", `{"resourceType":"MedicationRequest","id":"mr4","status":"stopped","intent":"order","subject":{"reference":"Patient/p1"},
	 "medicationCodeableConcept":{"coding":[{"system":"urn:med","code":"C"}]}}`)
	return w
}

// unitRefs names matches as "Type/id", and a contained resource returned
// as itself as "Type/id#k", in order.
func unitRefs(vs []store.Version) string {
	var out []string
	for _, v := range vs {
		r := v.Type + "/" + v.ID
		if v.Contained > 0 {
			r += fmt.Sprintf("#%d", v.Contained)
		}
		out = append(out, r)
	}
	return strings.Join(out, " ")
}

// testSearchContained: _contained and _containedType
// (https://hl7.org/fhir/R4/search.html#contained) on containers holding
// several contained resources, with every clause held to one contained
// resource, under the access predicate and in a compartment, counted and
// paged exactly; today's searches do not see contained rows.
func testSearchContained(t *testing.T, s store.Store) {
	w := containedWorld(t, s)
	mrs := store.Access{Patients: []string{"p1", "p2"}, NonPatient: true} // hides mr3
	for _, tc := range []struct {
		typ, query string
		access     store.Access
		want       string // in order
	}{
		{"Medication", "code=A", store.AccessAll, "Medication/med1"},
		{"Medication", "code=A&_contained=false", store.AccessAll, "Medication/med1"},
		{"Medication", "code=A&_contained=true", store.AccessAll, "MedicationRequest/mr1 MedicationRequest/mr2"},
		{"Medication", "code=A&_contained=both", store.AccessAll, "Medication/med1 MedicationRequest/mr1 MedicationRequest/mr2"},
		// One contained Medication must meet both clauses: mr1's A is a tablet.
		{"Medication", "code=A&form=capsule&_contained=true", store.AccessAll, "MedicationRequest/mr2"},
		{"Medication", "code=A&form=tablet&_contained=true&_containedType=contained", store.AccessAll, "MedicationRequest/mr1#1"},
		{"Medication", "code=B,A&form=capsule&_contained=true&_containedType=contained", store.AccessAll, "MedicationRequest/mr1#2 MedicationRequest/mr2#1"},
		{"Medication", "code=A&_contained=true&_containedType=contained", store.AccessAll, "MedicationRequest/mr1#1 MedicationRequest/mr2#1"},
		{"Medication", "form=tablet&_contained=both&_containedType=contained", store.AccessAll, "Medication/med1 MedicationRequest/mr1#1 MedicationRequest/mr3#1"},
		{"Medication", "_contained=true&_containedType=contained", store.AccessAll,
			"MedicationRequest/mr1#1 MedicationRequest/mr1#2 MedicationRequest/mr2#1 MedicationRequest/mr3#1"},
		{"Medication", "_contained=true", store.AccessAll, "MedicationRequest/mr1 MedicationRequest/mr2 MedicationRequest/mr3"},
		{"Medication", "_id=m2&_contained=true&_containedType=contained", store.AccessAll, "MedicationRequest/mr1#2"},
		{"Medication", "_id=m1,med1&_contained=both", store.AccessAll, "Medication/med1 MedicationRequest/mr1 MedicationRequest/mr2 MedicationRequest/mr3"},
		{"Medication", "code:not=A&_contained=true&_containedType=contained", store.AccessAll, "MedicationRequest/mr1#2 MedicationRequest/mr3#1"},
		{"Medication", "manufacturer:missing=false&_contained=true&_containedType=contained", store.AccessAll, "MedicationRequest/mr2#1"},
		{"Medication", "manufacturer:missing=true&code=A&_contained=true", store.AccessAll, "MedicationRequest/mr1"},
		{"Medication", "manufacturer.name=acme&_contained=true&_containedType=contained", store.AccessAll, "MedicationRequest/mr2#1"},
		{"Organization", "name=acme", store.AccessAll, "Organization/org1"},
		{"Organization", "name=acme&_contained=both&_containedType=contained", store.AccessAll, "Organization/org1 MedicationRequest/mr3#2"},
		{"", "_type=Organization,Medication&_id=o,m2&_contained=true&_containedType=contained", store.AccessAll,
			"MedicationRequest/mr1#2 MedicationRequest/mr3#2"},
		// The predicate applies to the container: mr3 (p3) is hidden, and
		// so is all it contains.
		{"Medication", "form=tablet&_contained=both&_containedType=contained", mrs, "Medication/med1 MedicationRequest/mr1#1"},
		{"Medication", "_contained=true", mrs, "MedicationRequest/mr1 MedicationRequest/mr2"},
		{"Organization", "name=acme&_contained=true", mrs, ""},
		{"Medication", "code=A&_contained=both", store.Access{Patients: []string{"p2"}}, "MedicationRequest/mr2"},
		{"Medication", "code=A&_contained=both", nobody, ""},
		// Contained rows never reach a search of resources that stand alone.
		{"MedicationRequest", "code=A", store.AccessAll, ""},
		{"MedicationRequest", "code=C", store.AccessAll, "MedicationRequest/mr4"},
		{"MedicationRequest", "code:missing=true", store.AccessAll, "MedicationRequest/mr1 MedicationRequest/mr2 MedicationRequest/mr3"},
		{"MedicationRequest", "code:missing=true&_sort=code", store.AccessAll, "MedicationRequest/mr1 MedicationRequest/mr2 MedicationRequest/mr3"},
		{"MedicationRequest", "status=active&_contained=both", store.AccessAll, "MedicationRequest/mr1 MedicationRequest/mr2 MedicationRequest/mr3"},
	} {
		q := w.plan(tc.typ, tc.query)
		if got := unitRefs(w.all(store.SearchQuery{Plan: q, Access: tc.access})); got != tc.want {
			t.Errorf("%s?%s under %+v\n got %s\nwant %s", tc.typ, tc.query, tc.access, got, tc.want)
		}
		page := w.run(store.SearchQuery{Plan: w.plan(tc.typ, tc.query+"&_summary=count"), Access: tc.access})
		if n := len(strings.Fields(tc.want)); page.Total != int64(n) || len(page.Versions) != 0 {
			t.Errorf("%s?%s&_summary=count under %+v: total %d with %d versions, want %d", tc.typ, tc.query, tc.access, page.Total, len(page.Versions), n)
		}
	}
	// In a patient's compartment: the containers of p1's compartment.
	q := store.SearchQuery{Plan: w.plan("Medication", "_contained=both&_containedType=contained"), Access: store.AccessAll, Patient: "p1"}
	if got := unitRefs(w.all(q)); got != "MedicationRequest/mr1#1 MedicationRequest/mr1#2" {
		t.Errorf("compartment p1 Medication?_contained=both&_containedType=contained = %s", got)
	}
	// _explain shows the contained search's own SQL.
	text, err := w.sr.Explain(t.Context(), store.SearchQuery{Plan: w.plan("Medication", "code=A&_contained=both&_containedType=contained"), Access: store.AccessAll})
	if err != nil || !strings.Contains(text, "UNION ALL") || !strings.Contains(text, "Plan:") {
		t.Errorf("explain: %v\n%s", err, text)
	}
	// A wildcard _include from the containers does not follow a contained
	// resource's reference (mr2's Medication names org1).
	inc := search.Include{Source: "*", Wildcard: true}
	got, err := w.sr.Include(t.Context(), []store.Version{*w.vs["MedicationRequest/mr2"]}, inc, false, store.AccessAll, 10)
	if err != nil || len(got) != 0 {
		t.Errorf("_include=* from mr2 = %s, %v; want nothing", refs(got), err)
	}
	got, err = w.sr.Include(t.Context(), []store.Version{*w.vs["Organization/org1"]}, inc, true, store.AccessAll, 10)
	if err != nil || len(got) != 0 {
		t.Errorf("_revinclude=* of org1 = %s, %v; want nothing", refs(got), err)
	}
}

// testSearchContainedPaging pages contained matches one and two at a time,
// forwards and back, with an exact total on every page.
func testSearchContainedPaging(t *testing.T, s store.Store) {
	w := containedWorld(t, s)
	for _, query := range []string{
		"_contained=both&_containedType=contained",
		"_contained=both",
		"_contained=true&_containedType=contained",
	} {
		all := unitRefs(w.all(store.SearchQuery{Plan: w.plan("Medication", query), Access: store.AccessAll}))
		want := strings.Fields(all)
		for _, n := range []int{1, 2} {
			q := store.SearchQuery{Plan: w.plan("Medication", fmt.Sprintf("%s&_count=%d", query, n)), Access: store.AccessAll}
			var pages []store.SearchPage
			for range len(want) + 2 {
				page := w.run(q)
				if page.Total != int64(len(want)) {
					t.Errorf("%s _count=%d: total %d, want %d", query, n, page.Total, len(want))
				}
				pages = append(pages, page)
				if page.Next == "" {
					break
				}
				q.After = page.Next
			}
			var fwd []string
			for _, p := range pages {
				fwd = append(fwd, unitRefs(p.Versions))
			}
			if got := strings.Join(strings.Fields(strings.Join(fwd, " ")), " "); got != all {
				t.Errorf("%s _count=%d forwards: %s, want %s", query, n, got, all)
			}
			// Back from the last page by its previous links.
			at := pages[len(pages)-1]
			for i := len(pages) - 2; i >= 0; i-- {
				if at.Previous == "" {
					t.Fatalf("%s _count=%d: page %d has no previous link", query, n, i+2)
				}
				q.After = at.Previous
				at = w.run(q)
				if got := unitRefs(at.Versions); got != fwd[i] {
					t.Errorf("%s _count=%d: back to page %d = %s, want %s", query, n, i+1, got, fwd[i])
				}
			}
			if at.Previous != "" {
				t.Errorf("%s _count=%d: the first page has a previous link", query, n)
			}
		}
	}
	// A cursor of another search is refused.
	page := w.run(store.SearchQuery{Plan: w.plan("Medication", "_count=1"), Access: store.AccessAll})
	_, err := w.sr.Search(t.Context(), store.SearchQuery{Plan: w.plan("Medication", "_contained=both&_count=1"), Access: store.AccessAll, After: page.Next})
	if page.Next != "" {
		assertInvalid(t, err)
	}
}

// testSearchContainedFollowsVersions: an update replaces a container's
// contained rows, a delete removes them, and a reindex of a parameter
// replaces its contained rows with the container's own.
func testSearchContainedFollowsVersions(t *testing.T, s store.Store) {
	w := containedWorld(t, s)
	ix := search.NewIndexer(w.reg, search.Extractor{})
	// mr3's Medication becomes a capsule, its own status "draft".
	reindexed := []search.Entry{
		{ResourceType: "Medication", ResourceID: "mr3", PatientKey: "p3", Code: "form", Row: search.TokenRow{System: "urn:form", Code: "capsule"}, Contained: 1},
		{ResourceType: "MedicationRequest", ResourceID: "mr3", PatientKey: "p3", Code: "status", Row: search.TokenRow{Code: "draft"}},
	}
	err := s.Write(t.Context(), func(tx store.Tx) error {
		return tx.ReplaceIndex(t.Context(), "MedicationRequest", "mr3", []string{"form", "status"}, reindexed)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ typ, query, want string }{
		{"Medication", "form=tablet&_contained=true", "MedicationRequest/mr1"},
		{"Medication", "form=capsule&code=B&_contained=true", "MedicationRequest/mr1 MedicationRequest/mr3"},
		{"MedicationRequest", "status=draft", "MedicationRequest/mr3"},
		{"Organization", "name=acme&_contained=true", "MedicationRequest/mr3"}, // other codes untouched
	} {
		if got := unitRefs(w.all(storeQuery(w.plan(tc.typ, tc.query)))); got != tc.want {
			t.Errorf("after reindex, %s?%s = %s, want %s", tc.typ, tc.query, got, tc.want)
		}
	}
	w.putJSON(ix, "p1", `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},
	 "medicationReference":{"reference":"#x"},"contained":[{"resourceType":"Medication","id":"x","code":{"coding":[{"system":"urn:med","code":"B"}]}}]}`)
	w.remove("MedicationRequest", "mr2")
	for _, tc := range []struct{ query, want string }{
		{"code=A&_contained=true", ""},
		{"code=B&_contained=true&_containedType=contained", "MedicationRequest/mr1#1 MedicationRequest/mr3#1"},
		{"_contained=true&_containedType=contained", "MedicationRequest/mr1#1 MedicationRequest/mr3#1"},
	} {
		if got := unitRefs(w.all(storeQuery(w.plan("Medication", tc.query)))); got != tc.want {
			t.Errorf("Medication?%s = %s, want %s", tc.query, got, tc.want)
		}
	}
}

// testSearchContainedAgreesWithMatch writes containers with random rows of
// their own and random contained resources (of the types randomParams
// knows), and runs random queries with _contained and _containedType under
// random predicates: the store must return exactly the units (container
// or contained resource) search.Query.Matches accepts, in (container,
// position) order, and count them.
func testSearchContainedAgreesWithMatch(t *testing.T, s store.Store) {
	w := newWorld(t, s)
	r := rand.New(rand.NewPCG(11, 13))
	keys := []string{"", "k1", "k2", "k3"}
	types := []string{"Patient", "Observation", "RiskAssessment", "ValueSet"}
	randomRows := func(typ, id string, contained int) []search.Entry {
		var out []search.Entry
		for _, p := range randomParams[typ] {
			for range r.IntN(3) {
				out = append(out, search.Entry{ResourceType: typ, ResourceID: id, Code: p.code, Row: p.row(r), Contained: contained})
			}
		}
		return out
	}
	for i := range 60 {
		typ := pick(r, types...)
		id := fmt.Sprint("c", i)
		entries := randomRows(typ, id, 0)
		for n := range r.IntN(4) {
			ctyp := pick(r, types...)
			entries = append(entries, search.Entry{ResourceType: ctyp, ResourceID: id, Code: "_id", Row: search.TokenRow{Code: pick(r, "a", "b", "c")}, Contained: n + 1})
			entries = append(entries, randomRows(ctyp, id, n+1)...)
		}
		patient := pick(r, keys...)
		for j := range entries {
			entries[j].PatientKey = patient
		}
		w.putEntries(typ, id, patient, entries, fmt.Appendf(nil, `{"resourceType":%q,"id":%q}`, typ, id))
	}
	checked, found := 0, 0
	for range 300 {
		typ := pick(r, types...)
		vals := url.Values{}
		for range r.IntN(3) {
			p := pick(r, randomParams[typ]...)
			switch r.IntN(10) {
			case 0:
				vals.Add(p.code+":missing", pick(r, "true", "false"))
			case 1:
				vals.Add("_id", pick(r, "a", "b", "a,c", "c0", "c7,b"))
			default:
				mod, v := p.query(r)
				vals.Add(p.code+mod, v)
			}
		}
		vals.Set("_contained", pick(r, "true", "both", "both", "false"))
		if r.IntN(2) == 0 {
			vals.Set("_containedType", "contained")
		}
		vals.Set("_count", fmt.Sprint(1+r.IntN(7)))
		plan, _, err := search.Parse(typ, vals, w.reg, true)
		if err != nil {
			continue // a combination the parser refuses
		}
		access := store.AccessAll
		if r.IntN(2) == 0 {
			access = store.Access{Patients: []string{pick(r, keys[1:]...)}, NonPatient: r.IntN(2) == 0}
		}
		want := w.expectedUnits(plan, access)
		got := w.all(store.SearchQuery{Plan: plan, Access: access})
		if g := unitRefs(got); g != want {
			t.Errorf("%s?%s under %+v\n got %s\nwant %s", typ, vals.Encode(), access, g, want)
		}
		if strings.Contains(want, "#") || want != "" && plan.Contained == "true" {
			found++
		}
		page := w.run(store.SearchQuery{Plan: plan, Access: access})
		if n := len(strings.Fields(want)); page.Total != int64(n) {
			t.Errorf("%s?%s under %+v: total %d, want %d", typ, vals.Encode(), access, page.Total, n)
		}
		checked++
	}
	if checked < 250 || found < 50 {
		t.Errorf("only %d random queries parsed, %d found contained resources", checked, found)
	}
}

// expectedUnits runs search.Query.Matches over the world's current
// resources visible under access: the matching units in creation and
// position order, a container once when the query returns containers. A
// resource's own _id, which the store reads from the resource itself, is
// given to the matcher as a row.
func (w *world) expectedUnits(plan *search.Query, access store.Access) string {
	var out []string
	for _, key := range w.order {
		v := w.vs[key]
		if v.Deleted || !access.Allows(v.PatientKey) {
			continue
		}
		held := search.HeldIn(v.Type, w.rows[key])
		held[0].Rows["_id"] = []search.Row{search.TokenRow{Code: v.ID}}
		for _, h := range held {
			if !plan.Matches(h) {
				continue
			}
			if !plan.ReturnsContained() {
				out = append(out, key)
				break
			}
			u := key
			if h.Contained > 0 {
				u += fmt.Sprintf("#%d", h.Contained)
			}
			out = append(out, u)
		}
	}
	return strings.Join(out, " ")
}
