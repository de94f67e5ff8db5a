package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// restrictedWorld adds to the clinic fixture p1's restricted records and a
// resource about two patients:
//   - Observation/or1, filed under RestrictedKey(p1): subject p1, codes
//     8480-6 (as o1, o3, o4, o6) and zz-r, performer dr1;
//   - DiagnosticReport/rep2 (compartment p1, not restricted) whose result
//     is or1;
//   - Appointment/ap1 about p1 and p2, filed under PrivateKey(p1).
func restrictedWorld(t *testing.T, s store.Store) *world {
	w := clinicWorld(t, s)
	ref := func(r string) string { return fmt.Sprintf(`{"reference":%q}`, r) }
	subject := ref("Patient/p1")
	w.put("Observation", "or1", store.RestrictedKey("p1"),
		w.f("Observation", "code", "CodeableConcept",
			`{"coding":[{"system":"http://loinc.org","code":"8480-6"},{"system":"urn:local","code":"zz-r"}]}`),
		w.f("Observation", "subject", "Reference", subject),
		w.f("Observation", "patient", "Reference", subject),
		w.f("Observation", "performer", "Reference", ref("Practitioner/dr1")))
	w.put("DiagnosticReport", "rep2", "p1",
		w.f("DiagnosticReport", "subject", "Reference", subject),
		w.f("DiagnosticReport", "result", "Reference", ref("Observation/or1")))
	w.put("Appointment", "ap1", store.PrivateKey("p1"),
		w.f("Appointment", "actor", "Reference", subject),
		w.f("Appointment", "actor", "Reference", ref("Patient/p2")),
		w.f("Appointment", "patient", "Reference", subject),
		w.f("Appointment", "patient", "Reference", ref("Patient/p2")))
	return w
}

// restrictedGrantee is who holds the grant that opens p1's restricted
// records (restrictedGrant).
const restrictedGrantee = "restricted/Practitioner/x"

// restrictedGrant records a grant to restrictedGrantee under
// RestrictedKey(p1), and one to it under p2's own key, which opens p2's
// unrestricted records only.
func restrictedGrant(t *testing.T, s store.Store) {
	t.Helper()
	err := s.Write(t.Context(), func(tx store.Tx) error {
		for _, g := range []store.Grant{
			{Grantee: restrictedGrantee, PatientKey: store.RestrictedKey("p1"), Source: "Task/open1", From: time.Now().Add(-time.Minute)},
			{Grantee: restrictedGrantee, PatientKey: "p2", Source: "Task/open2", From: time.Now().Add(-time.Minute)},
		} {
			if err := tx.PutGrant(t.Context(), g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testSearchRestricted: p1's restricted records, filed under
// RestrictedKey(p1), are invisible to a predicate that lists or grants p1
// only — in results, totals, includes, chains, _has, compartment searches
// and reads — and visible to one listing RestrictedKey(p1) or holding a
// grant recorded under it.
func testSearchRestricted(t *testing.T, s store.Store) {
	w := restrictedWorld(t, s)
	grantHalf(t, s)
	restrictedGrant(t, s)
	halfR := half
	halfR.Patients = append(slices.Clone(half.Patients), store.RestrictedKey("p1"))
	halfGrantedR := halfGranted
	halfGrantedR.Grants = append(slices.Clone(halfGranted.Grants), []string{restrictedGrantee})
	onlyR := store.Access{Grants: [][]string{{restrictedGrantee}}}
	type check struct {
		typ, query, patient string
		want                string
	}
	for _, tc := range []struct {
		name     string
		accesses []store.Access
		checks   []check
	}{
		{"p1 only", []store.Access{half, halfGranted}, []check{
			{"Observation", "code=8480-6", "", "Observation/o1 o3 o6"},
			{"Observation", "code=zz-r", "", ""},
			{"Observation", "", "p1", "Observation/o1 o2 o8"},
			{"Observation", "code=zz-r", "p1", ""},
			{"Observation", "subject=Patient/p1&code=8480-6", "p1", "Observation/o1"},
			{"", "_type=Observation,DiagnosticReport", "p1", "Observation/o1 o2 o8 DiagnosticReport/rep2"},
			{"DiagnosticReport", "result:Observation.code=8480-6", "", "DiagnosticReport/rep1"},
			{"DiagnosticReport", "result:Observation.code=8480-6", "p1", ""},
			{"Patient", "_has:Observation:patient:code=zz-r", "", ""},
			{"Patient", "_has:Observation:patient:code=zz-r", "p1", ""},
			{"Observation", "_id=or1", "", ""},
			{"Observation", "_id=or1", "p1", ""},
			{"Observation", "performer:Practitioner.name=wong", "", "Observation/o1"},
		}},
		{"p1 and its restricted key", []store.Access{halfR, halfGrantedR}, []check{
			{"Observation", "code=8480-6", "", "Observation/o1 o3 o6 or1"},
			{"Observation", "code=zz-r", "", "Observation/or1"},
			{"Observation", "", "p1", "Observation/o1 o2 o8 or1"},
			{"Observation", "code=zz-r", "p1", "Observation/or1"},
			{"Observation", "subject=Patient/p1&code=8480-6", "p1", "Observation/o1 or1"},
			{"DiagnosticReport", "result:Observation.code=8480-6", "", "DiagnosticReport/rep1 rep2"},
			{"DiagnosticReport", "result:Observation.code=8480-6", "p1", "DiagnosticReport/rep2"},
			{"Patient", "_has:Observation:patient:code=zz-r", "", "Patient/p1"},
			{"Patient", "_has:Observation:patient:code=zz-r", "p1", "Patient/p1"},
			{"Observation", "_id=or1", "p1", "Observation/or1"},
		}},
		// A grant under RestrictedKey(p1) opens p1's restricted records and
		// nothing else of p1; one under p2 opens p2's unrestricted ones.
		{"restricted grant alone", []store.Access{onlyR}, []check{
			{"Observation", "code=8480-6", "", "Observation/o3 or1"},
			{"Observation", "", "p1", "Observation/or1"},
			{"Observation", "", "p2", "Observation/o3"},
			{"Patient", "_has:Observation:patient:code=zz-r", "", ""}, // p1 itself stays hidden
		}},
		{"everything", []store.Access{store.AccessAll}, []check{
			{"Observation", "", "p1", "Observation/o1 o2 o8 or1"},
			{"", "_type=Appointment,Observation", "p1", "Appointment/ap1 Observation/o1 o2 o8 or1"},
		}},
	} {
		for _, access := range tc.accesses {
			for _, c := range tc.checks {
				assertSearch(t, w, tc.name, access, c.typ, c.query, c.patient, c.want)
			}
		}
	}

	// Includes follow the keys of the rows they reach.
	p1, or1 := *w.vs["Patient/p1"], *w.vs["Observation/or1"]
	rep2 := *w.vs["DiagnosticReport/rep2"]
	for _, tc := range []struct {
		name   string
		typ, q string
		rev    bool
		from   store.Version
		access store.Access
		want   string
	}{
		{"revinclude", "Patient", "_revinclude=Observation:subject", true, p1, half, "Observation/o1 o2 o8"},
		{"revinclude granted", "Patient", "_revinclude=Observation:subject", true, p1, halfGranted, "Observation/o1 o2 o8"},
		{"revinclude restricted", "Patient", "_revinclude=Observation:subject", true, p1, halfR, "Observation/o1 o2 o8 or1"},
		{"revinclude restricted grant", "Patient", "_revinclude=Observation:subject", true, p1, halfGrantedR, "Observation/o1 o2 o8 or1"},
		{"include", "DiagnosticReport", "_include=DiagnosticReport:result", false, rep2, half, ""},
		{"include restricted", "DiagnosticReport", "_include=DiagnosticReport:result", false, rep2, halfR, "Observation/or1"},
		{"include restricted grant", "DiagnosticReport", "_include=DiagnosticReport:result", false, rep2, halfGrantedR, "Observation/or1"},
		{"include from restricted", "Observation", "_include=Observation:subject", false, or1, onlyR, ""},
	} {
		q := w.plan(tc.typ, tc.q)
		inc := q.Include
		if tc.rev {
			inc = q.RevInclude
		}
		got, err := w.sr.Include(t.Context(), []store.Version{tc.from}, inc[0], tc.rev, tc.access, 100)
		if err != nil {
			t.Fatal(err)
		}
		if g := sortedRefs(got); g != expand(tc.want) {
			t.Errorf("%s: included %s, want %s", tc.name, g, expand(tc.want))
		}
	}

	// Visible, the check of a read, agrees.
	for _, tc := range []struct {
		access store.Access
		key    string
		want   bool
	}{
		{half, store.RestrictedKey("p1"), false},
		{halfGranted, store.RestrictedKey("p1"), false},
		{store.Access{Patients: []string{store.RestrictedKey("p1")}}, "p1", false},
		{halfR, store.RestrictedKey("p1"), true},
		{halfGrantedR, store.RestrictedKey("p1"), true},
		{onlyR, store.RestrictedKey("p1"), true},
		{onlyR, "p1", false},
		{onlyR, store.RestrictedKey("p2"), false},
	} {
		if got, err := s.Visible(t.Context(), tc.access, tc.key, "someone"); err != nil || got != tc.want {
			t.Errorf("Visible(%+v, %q) = %v, %v; want %v", tc.access, tc.key, got, err, tc.want)
		}
	}
}

// testSearchPrivate: a record filed under a PrivateKey is seen only by
// its writer and the operator, in its first patient's compartment too.
func testSearchPrivate(t *testing.T, s store.Store) {
	w := restrictedWorld(t, s)
	grantHalf(t, s)
	writer := store.Access{Patients: half.Patients, NonPatient: true, Writers: []string{"test"}}
	p1p2 := store.Access{Patients: []string{"p1", "p2", store.RestrictedKey("p1"), store.RestrictedKey("p2")}}
	for _, tc := range []struct {
		access               store.Access
		query, patient, want string
	}{
		{half, "", "", ""},
		{halfGranted, "", "", ""},
		{p1p2, "", "", ""},
		{half, "", "p1", ""},
		{halfGranted, "", "p1", ""},
		{p1p2, "patient=Patient/p2", "", ""},
		{store.AccessAll, "", "", "Appointment/ap1"},
		{store.AccessAll, "", "p1", "Appointment/ap1"},
		{store.AccessAll, "actor=Patient/p2", "p1", "Appointment/ap1"},
		{writer, "", "", "Appointment/ap1"},
		{writer, "", "p1", "Appointment/ap1"},
		{writer, "actor=Patient/p2", "", "Appointment/ap1"},
		{store.Access{Writers: []string{"other"}}, "", "p1", ""},
	} {
		assertSearch(t, w, "private", tc.access, "Appointment", tc.query, tc.patient, tc.want)
	}
	for _, tc := range []struct {
		access store.Access
		key    string
		want   bool
	}{
		{half, store.PrivateKey("p1"), false},
		{halfGranted, store.PrivateKey("p1"), false},
		{p1p2, store.PrivateKey("p1"), false},
		{store.Access{NonPatient: true}, store.PrivateKey(""), false},
		{writer, store.PrivateKey("p1"), true},
		{writer, store.PrivateKey(""), true},
		{store.AccessAll, store.PrivateKey(""), true},
	} {
		if got, err := s.Visible(t.Context(), tc.access, tc.key, "test"); err != nil || got != tc.want {
			t.Errorf("Visible(%+v, %q, test) = %v, %v; want %v", tc.access, tc.key, got, err, tc.want)
		}
	}
}

// testRekeyRestricted: re-keying a compartment moves its restricted and
// private records to the matching keys of the target.
func testRekeyRestricted(t *testing.T, s store.Store) {
	w := restrictedWorld(t, s)
	var moved int64
	err := s.Write(t.Context(), func(tx store.Tx) error {
		var err error
		moved, err = tx.RekeyCompartment(t.Context(), "p1", "p4")
		return err
	})
	// p1's own: Patient/p1, o1, o2, o8, ra1, rep2; restricted: or1; private: ap1.
	if err != nil || moved != 8 {
		t.Fatalf("RekeyCompartment moved %d, %v; want the 8 resources of p1", moved, err)
	}
	for id, want := range map[string]string{"Observation/or1": store.RestrictedKey("p4"), "Appointment/ap1": store.PrivateKey("p4"), "Observation/o1": "p4"} {
		typ, rid, _ := strings.Cut(id, "/")
		if v, err := s.Read(t.Context(), typ, rid); err != nil || v.PatientKey != want {
			t.Errorf("Read(%s) key %q, %v; want %q", id, v.PatientKey, err, want)
		}
	}
	p4 := store.Access{Patients: []string{"p4"}}
	p4R := store.Access{Patients: []string{"p4", store.RestrictedKey("p4")}}
	for _, tc := range []struct {
		access               store.Access
		query, patient, want string
	}{
		{p4, "code=zz-r", "", ""},
		{p4, "code=zz-r", "p4", ""},
		{p4R, "code=zz-r", "", "Observation/or1"},
		{p4R, "code=zz-r", "p4", "Observation/or1"},
		{store.AccessAll, "code=zz-r", "p1", ""},
		{store.Access{Patients: []string{store.RestrictedKey("p1")}}, "code=zz-r", "", ""},
	} {
		assertSearch(t, w, "re-keyed", tc.access, "Observation", tc.query, tc.patient, tc.want)
	}
	assertSearch(t, w, "re-keyed", store.AccessAll, "Appointment", "", "p4", "Appointment/ap1")
}

// assertSearch checks a search's matches, over every page, and its total.
func assertSearch(t *testing.T, w *world, name string, access store.Access, typ, query, patient, want string) {
	t.Helper()
	q := store.SearchQuery{Plan: w.plan(typ, query), Access: access, Patient: patient}
	if got := sortedRefs(w.all(q)); got != expand(want) {
		t.Errorf("%s: %s?%s (patient %q) under %+v\n got %s\nwant %s", name, typ, query, patient, access, got, expand(want))
	}
	sep := "&"
	if query == "" {
		sep = ""
	}
	q.Plan = w.plan(typ, query+sep+"_summary=count")
	if page := w.run(q); page.Total != int64(len(strings.Fields(want))) {
		t.Errorf("%s: %s?%s (patient %q) under %+v: count %d, want %d", name, typ, query, patient, access, page.Total, len(strings.Fields(want)))
	}
}
