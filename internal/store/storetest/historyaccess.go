package storetest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// testHistoryAccess: type and system history, and their counts, show only
// versions whose resource is visible under the access predicate, decided
// on the resource's current patient key and writer: a hidden patient's
// versions (past ones and delete markers included) never appear, a
// resource moved out of a visible compartment takes its past versions
// along, and a delete marker shows only to those who could see the
// resource.
//
//	s1 Patient/seen     (key seen)     v1, v2
//	h1 Observation/h    (key hidden)   v1, v2, deleted v3
//	m1 Observation/m    (key seen, then hidden at v2: moved away)
//	o1 Observation/own  (key hidden, written by the clinic)
//	g1 Observation/g    (key granted: a valid grant to the clinic)
//	r1 Observation/r    (key seen!r: the seen patient's restricted record)
//	n1 Organization/n   (no key)
func testHistoryAccess(t *testing.T, s store.Store) {
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	i := 0
	write := func(typ, id string, vid int64, key, writer string, deleted bool) {
		t.Helper()
		i++
		v := newVersion(typ, id, vid, at(i))
		if deleted {
			v = deleteMarker(typ, id, vid, at(i))
		}
		v.PatientKey, v.Writer = key, writer
		put(t, s, v, vid-1)
	}
	write("Patient", "seen", 1, "seen", "x", false)
	write("Patient", "seen", 2, "seen", "x", false)
	write("Observation", "h", 1, "hidden", "x", false)
	write("Observation", "h", 2, "hidden", "x", false)
	write("Observation", "h", 3, "hidden", "x", true)
	write("Observation", "m", 1, "seen", "x", false)
	write("Observation", "m", 2, "hidden", "x", false)
	write("Observation", "own", 1, "hidden", "clinic", false)
	write("Observation", "g", 1, "granted", "x", false)
	write("Observation", "r", 1, store.RestrictedKey("seen"), "x", false)
	write("Organization", "n", 1, "", "x", false)
	err := s.Write(t.Context(), func(tx store.Tx) error {
		return tx.PutGrant(t.Context(), store.Grant{Grantee: "sharing/clinic", PatientKey: "granted", Source: "Consent/c1", From: base})
	})
	if err != nil {
		t.Fatal(err)
	}

	seen := store.Access{Patients: []string{"seen"}}
	tests := []struct {
		name   string
		q      store.HistoryQuery
		access store.Access
		want   string // versions newest first, as id+vid
	}{
		{"system, all", store.HistoryQuery{}, store.AccessAll, "n1 r1 g1 own1 m2 m1 h3 h2 h1 seen2 seen1"},
		{"system, nothing", store.HistoryQuery{}, store.Access{}, ""},
		{"system, one patient", store.HistoryQuery{}, seen, "seen2 seen1"},
		{"system, patient and non-patient", store.HistoryQuery{}, store.Access{Patients: []string{"seen"}, NonPatient: true}, "n1 seen2 seen1"},
		{"type, one patient", store.HistoryQuery{Type: "Observation"}, seen, ""},
		{"type, hidden patient", store.HistoryQuery{Type: "Observation"}, store.Access{Patients: []string{"hidden"}}, "own1 m2 m1 h3 h2 h1"},
		{"type, restricted key", store.HistoryQuery{Type: "Observation"}, store.Access{Patients: []string{store.RestrictedKey("seen")}}, "r1"},
		{"type, writer", store.HistoryQuery{Type: "Observation"}, store.Access{Writers: []string{"clinic"}}, "own1"},
		{"type, grant", store.HistoryQuery{Type: "Observation"}, store.Access{Grants: [][]string{{"sharing/clinic"}}}, "g1"},
		{"type, grant to another", store.HistoryQuery{Type: "Observation"}, store.Access{Grants: [][]string{{"sharing/other"}}}, ""},
		{"instance of a hidden resource", store.HistoryQuery{Type: "Observation", ID: "h"}, seen, ""},
		{"paged", store.HistoryQuery{Count: 1}, store.Access{Patients: []string{"seen"}, NonPatient: true}, "n1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Access = tt.access
			var got []string
			for _, v := range collect(t, s, q) {
				got = append(got, v.ID+strconv.FormatInt(v.VersionID, 10))
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("history = %q, want %q", strings.Join(got, " "), tt.want)
			}
			want := int64(len(strings.Fields(tt.want)))
			if q.Count > 0 {
				want = 3
			}
			if n, err := s.CountHistory(t.Context(), q); err != nil || n != want {
				t.Errorf("count = %d, %v; want %d", n, err, want)
			}
		})
	}
}
