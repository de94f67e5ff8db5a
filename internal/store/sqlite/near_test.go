package sqlite

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// TestNearPlanUsesIndex: a near search reads the latitude range through
// idx_number_val and finds each position's longitude by its primary key,
// never scanning an index table.
func TestNearPlanUsesIndex(t *testing.T) {
	s := migrated(t, open(t))
	for _, query := range []string{"near=22.3|114.2|5|km", "near=-17.8|180|3|km", "near=90|0|10|km"} {
		vals, _ := url.ParseQuery(query)
		plan, _, err := search.Parse("Location", vals, search.NewRegistry(), true)
		if err != nil {
			t.Fatal(err)
		}
		db := &recordingDB{searchDB: searchDB{s}}
		if _, err := s.Engine.Search(t.Context(), db, store.SearchQuery{Plan: plan, Access: store.AccessAll}); err != nil {
			t.Fatal(err)
		}
		for i, q := range db.queries {
			plan := explain(t, s, q, db.args[i])
			for _, want := range []string{"INDEX idx_number_val (res_type=? AND param=? AND lo>?", "PRIMARY KEY (rid=? AND param=?)"} {
				if !strings.Contains(plan, want) {
					t.Errorf("%s: plan does not use %s:\n%s", query, want, plan)
				}
			}
			if m := regexp.MustCompile(`SCAN \w+ USING (COVERING )?INDEX idx_|SCAN idx_`).FindString(plan); m != "" {
				t.Errorf("%s: plan scans an index table (%s):\n%s", query, m, plan)
			}
		}
	}
}
