package storetest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// searcher returns s as a store.Searcher, failing the test if the driver
// does not implement search.
func searcher(t testing.TB, s store.Store) store.Searcher {
	t.Helper()
	sr, ok := s.(store.Searcher)
	if !ok {
		t.Fatalf("%T does not implement store.Searcher", s)
	}
	return sr
}

// world writes resources with index rows and runs searches on them.
type world struct {
	t     testing.TB
	s     store.Store
	sr    store.Searcher
	reg   *search.Registry
	clock time.Time
	vs    map[string]*store.Version // current versions by "Type/id"
	rows  map[string][]search.Entry // their index rows
	order []string                  // "Type/id" in creation order
}

func newWorld(t testing.TB, s store.Store) *world {
	return &world{t: t, s: s, sr: searcher(t, s), reg: search.NewRegistry(),
		clock: time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC), vs: map[string]*store.Version{}, rows: map[string][]search.Entry{}}
}

// field is the index rows of one parameter.
type field struct {
	code string
	rows []search.Row
}

// f extracts the rows of parameter code of typ from one element value
// (JSON) of the given FHIR type, as the resource layer does.
func (w *world) f(typ, code, fhirType, value string) field {
	w.t.Helper()
	p := w.param(typ, code)
	var v any
	d := json.NewDecoder(strings.NewReader(value))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		w.t.Fatalf("fixture value %s: %v", value, err)
	}
	rows := search.Extract(p, fhirType, v)
	if len(rows) == 0 {
		w.t.Fatalf("fixture: %s.%s of %s %s gives no rows", typ, code, fhirType, value)
	}
	return field{code, rows}
}

func (w *world) param(typ, code string) *search.Param {
	w.t.Helper()
	p, ok := w.reg.Lookup(typ, code)
	if !ok {
		w.t.Fatalf("no search parameter %s.%s", typ, code)
	}
	return p
}

// composite builds the rows of a composite parameter from its parts' fields.
func (w *world) composite(typ, code string, parts ...field) field {
	var rows [][]search.Row
	for _, p := range parts {
		rows = append(rows, p.rows)
	}
	return field{code, search.ExtractComposite(w.param(typ, code), rows)}
}

// put writes the next version of typ/id (creating it) with the fields'
// rows, in patient compartment patient, one minute after the last write.
func (w *world) put(typ, id, patient string, fields ...field) *store.Version {
	w.t.Helper()
	var entries []search.Entry
	for _, f := range fields {
		for _, r := range f.rows {
			entries = append(entries, search.Entry{ResourceType: typ, ResourceID: id, PatientKey: patient, Code: f.code, Row: r})
		}
	}
	return w.putEntries(typ, id, patient, entries, fmt.Appendf(nil, `{"resourceType":%q,"id":%q}`, typ, id))
}

// putEntries writes the next version of typ/id (creating it) with body and
// the index entries, one minute after the last write.
func (w *world) putEntries(typ, id, patient string, entries []search.Entry, body []byte) *store.Version {
	w.t.Helper()
	key := typ + "/" + id
	w.clock = w.clock.Add(time.Minute)
	var expect int64
	if cur := w.vs[key]; cur != nil {
		expect = cur.VersionID
	} else {
		w.order = append(w.order, key)
	}
	v := &store.Version{Type: typ, ID: id, VersionID: expect + 1, Updated: w.clock, Method: store.MethodCreate,
		Writer: "test", PatientKey: patient, Index: entries, Body: body}
	if expect > 0 {
		v.Method = store.MethodUpdate
	}
	if err := tryPut(w.t.Context(), w.s, v, expect); err != nil {
		w.t.Fatalf("put %s: %v", key, err)
	}
	w.vs[key], w.rows[key] = v, entries
	return v
}

// remove writes a delete marker for typ/id.
func (w *world) remove(typ, id string) {
	w.t.Helper()
	key := typ + "/" + id
	cur := w.vs[key]
	w.clock = w.clock.Add(time.Minute)
	v := &store.Version{Type: typ, ID: id, VersionID: cur.VersionID + 1, Updated: w.clock, Deleted: true,
		Method: store.MethodDelete, Writer: "test", PatientKey: cur.PatientKey}
	if err := tryPut(w.t.Context(), w.s, v, cur.VersionID); err != nil {
		w.t.Fatalf("delete %s: %v", key, err)
	}
	w.vs[key], w.rows[key] = v, nil
}

// plan parses a query string for typ ("" for the system).
func (w *world) plan(typ, query string) *search.Query {
	w.t.Helper()
	vals, err := url.ParseQuery(query)
	if err != nil {
		w.t.Fatalf("query %q: %v", query, err)
	}
	q, _, err := search.Parse(typ, vals, w.reg, true)
	if err != nil {
		w.t.Fatalf("parse %s?%s: %v", typ, query, err)
	}
	return q
}

// run searches and returns the page, failing the test on error.
func (w *world) run(q store.SearchQuery) store.SearchPage {
	w.t.Helper()
	page, err := w.sr.Search(w.t.Context(), q)
	if err != nil {
		w.t.Fatalf("search %+v: %v", q.Plan, err)
	}
	return page
}

// all follows the cursors to the end and returns every match.
func (w *world) all(q store.SearchQuery) []store.Version {
	w.t.Helper()
	var out []store.Version
	for range 10000 {
		page := w.run(q)
		out = append(out, page.Versions...)
		if page.Next == "" {
			return out
		}
		q.After = page.Next
	}
	w.t.Fatal("paging does not end")
	return nil
}

// refs names versions as "Type/id", in order.
func refs(vs []store.Version) string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Type+"/"+v.ID)
	}
	return strings.Join(out, " ")
}

// sortedRefs names versions as "Type/id", sorted.
func sortedRefs(vs []store.Version) string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Type+"/"+v.ID)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// expand names "Type/a b c" shorthand: "Observation/o1 o2" is
// "Observation/o1 Observation/o2", sorted.
func expand(s string) string {
	var out []string
	typ := ""
	for _, f := range strings.Fields(s) {
		if t, id, ok := strings.Cut(f, "/"); ok {
			typ, f = t, id
		}
		out = append(out, typ+"/"+f)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

var (
	// half sees patients p1..p5 and resources outside any compartment.
	half = store.Access{Patients: []string{"p1", "p2", "p3", "p4", "p5"}, NonPatient: true}
	// halfGranted sees what half sees, through grants (grantHalf).
	halfGranted = store.Access{Grants: [][]string{{"sharing/Organization/half", "care/Organization/half"}, {"emergency/Practitioner/dr"}}, NonPatient: true}
	// nobody sees nothing (the zero value).
	nobody = store.Access{}
)

// assertInvalid fails unless err is an outcome.Invalid error.
func assertInvalid(t testing.TB, err error) {
	t.Helper()
	if !outcome.Is(err, outcome.Invalid) {
		t.Errorf("error = %v, want kind invalid", err)
	}
}

// decodeJSON decodes a fixture value with numbers as json.Number, as package fhir does.
func decodeJSON(s string) any {
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	return v
}

// grantHalf records the grants of halfGranted: p1…p4 hold both a sharing
// consent and a care relationship now, p5 an emergency access; and
// grants that must not count — p6's consent has ended, p7's relationship
// has not begun, p8 has a consent but no relationship, p9's relationship
// was replaced by an ended one, p10's consent was revoked.
func grantHalf(t *testing.T, s store.Store) {
	t.Helper()
	now := time.Now()
	const sharing, care = "sharing/Organization/half", "care/Organization/half"
	var grants []store.Grant
	for i, p := range []string{"p1", "p2", "p3", "p4", "p6", "p7", "p8", "p9", "p10"} {
		grants = append(grants, store.Grant{Grantee: sharing, PatientKey: p, Source: "Consent/c" + p, From: now.Add(-time.Hour)},
			store.Grant{Grantee: care, PatientKey: p, Source: fmt.Sprintf("Encounter/e%d", i), From: now.Add(-time.Hour), To: now.Add(time.Hour)})
	}
	grants = append(grants,
		store.Grant{Grantee: "emergency/Practitioner/dr", PatientKey: "p5", Source: "Task/bg1", From: now.Add(-time.Minute), To: now.Add(24 * time.Hour)},
		store.Grant{Grantee: "emergency/Practitioner/other", PatientKey: "p6", Source: "Task/bg2", From: now.Add(-time.Minute)},
		store.Grant{Grantee: sharing, PatientKey: "p6", Source: "Consent/cp6", From: now.Add(-48 * time.Hour), To: now.Add(-time.Hour)},
		store.Grant{Grantee: care, PatientKey: "p7", Source: "Encounter/e5", From: now.Add(time.Hour)},
		store.Grant{Grantee: care, PatientKey: "p9", Source: "Encounter/e7", From: now.Add(-time.Hour), To: now.Add(-time.Minute)},
	)
	err := s.Write(t.Context(), func(tx store.Tx) error {
		for _, g := range grants {
			if err := tx.PutGrant(t.Context(), g); err != nil {
				return err
			}
		}
		for _, src := range []string{"Encounter/e6", "Consent/cp10"} { // p8's relationship; p10's consent
			n, err := tx.DeleteGrants(t.Context(), src)
			if err == nil && n != 1 {
				err = fmt.Errorf("DeleteGrants(%s) removed %d grants, want 1", src, n)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
