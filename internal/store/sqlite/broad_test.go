package sqlite

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// TestBroadCallerProbesByResource: for a caller who may see many patients,
// the look that sizes a _has or chain and the per-resource probes must not
// start from the list of visible patients (SQLite cannot tell its length
// and would probe the patient index once per visible patient: 1.5 s a
// query at 1M resources with 1,664 visible); they start from the clause's
// rows or the resource probed, and check the list on what they read.
func TestBroadCallerProbesByResource(t *testing.T) {
	s := migrated(t, open(t))
	ctx := t.Context()
	reg := search.NewRegistry()
	ix := search.NewIndexer(reg, search.Extractor{})
	err := s.Write(ctx, func(tx store.Tx) error {
		for _, res := range []map[string]any{
			{"resourceType": "Patient", "id": "p1", "name": []any{map[string]any{"family": "Chan"}}},
			{"resourceType": "Observation", "id": "o1", "status": "final", "subject": map[string]any{"reference": "Patient/p1"},
				"code": map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "c0"}}}},
		} {
			entries, _, err := ix.Index(context.Background(), res, "p1")
			if err != nil {
				return err
			}
			body, err := fhir.Marshal(res)
			if err != nil {
				return err
			}
			v := &store.Version{Type: res["resourceType"].(string), ID: res["id"].(string), VersionID: 1, Updated: time.Now().UTC(),
				Method: store.MethodCreate, Writer: "test", PatientKey: "p1", Body: body, Index: entries}
			if err := tx.Put(ctx, v, 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	visible := []string{"p1"}
	for i := range 500 {
		visible = append(visible, fmt.Sprint("p-other-", i))
	}
	access := store.Access{Patients: visible, NonPatient: true}
	s.SetBroadAt(1) // one row makes the clause broad: the probe shapes
	for _, tc := range []struct{ typ, query string }{
		{"Patient", "_has:Observation:patient:code=http://loinc.org|c0&_count=10"},
		{"Observation", "patient.name=chan&_count=10"},
	} {
		vals, _ := url.ParseQuery(tc.query)
		plan, _, err := search.Parse(tc.typ, vals, reg, true)
		if err != nil {
			t.Fatal(err)
		}
		db := &recordingDB{searchDB: searchDB{s}}
		page, err := s.Engine.Search(ctx, db, store.SearchQuery{Plan: plan, Access: access})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Versions) != 1 {
			t.Errorf("%s?%s: %d matches, want 1", tc.typ, tc.query, len(page.Versions))
		}
		for i, q := range db.queries {
			if p := explain(t, s, q, db.args[i]); strings.Contains(p, "idx_ref_pat") || strings.Contains(p, "idx_token_pat") ||
				strings.Contains(p, "resource_current_patient") {
				t.Errorf("%s?%s: a statement starts from the visible patients:\n%s\n%s", tc.typ, tc.query, q, p)
			}
		}
	}
}
