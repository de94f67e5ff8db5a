package bench

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// indexTables are the store's search-index tables, the same on SQLite and
// PostgreSQL; one row per indexed value of a current resource.
var indexTables = []string{"idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri"}

// LoadStats is the loader step: how the database grew and how fast.
type LoadStats struct {
	Target          int64   `json:"target_resources"`
	ResourcesBefore int64   `json:"resources_before"`
	ResourcesAfter  int64   `json:"resources_after"`
	Passes          int     `json:"passes"` // loads of the sample
	Written         int64   `json:"written"`
	Rejected        int64   `json:"rejected"`
	Seconds         float64 `json:"seconds"`
	ResourcesPerSec float64 `json:"resources_per_sec"`
	IndexRowsBefore int64   `json:"index_rows_before"`
	IndexRowsAfter  int64   `json:"index_rows_after"`
	// IndexRowsPerResource is counted from the idx_* tables: the rows the
	// load added per resource it added, or, when nothing was loaded, all
	// rows per current resource.
	IndexRowsPerResource float64 `json:"index_rows_per_resource"`
	Skipped              bool    `json:"skipped"`
}

// grow loads the sample until the database holds cfg.Resources.
func grow(ctx context.Context, cfg Config, logf func(string, ...any)) (LoadStats, error) {
	st := LoadStats{Target: cfg.Resources}
	var err error
	if st.ResourcesBefore, st.IndexRowsBefore, err = counts(ctx, cfg.DB); err != nil {
		return st, err
	}
	st.ResourcesAfter, st.IndexRowsAfter = st.ResourcesBefore, st.IndexRowsBefore
	if st.ResourcesBefore >= cfg.Resources || cfg.Load == nil {
		st.Skipped = true
		if st.ResourcesAfter > 0 {
			st.IndexRowsPerResource = float64(st.IndexRowsAfter) / float64(st.ResourcesAfter)
		}
		logf("load: skipped, database holds %d resources (target %d)", st.ResourcesBefore, cfg.Resources)
		return st, nil
	}
	start := time.Now()
	have := st.ResourcesBefore
	for have < cfg.Resources {
		written, rejected, err := cfg.Load(ctx)
		if err != nil {
			return st, fmt.Errorf("bench: load pass %d: %w", st.Passes+1, err)
		}
		if written == 0 {
			return st, fmt.Errorf("bench: load pass %d wrote nothing (%d rejected)", st.Passes+1, rejected)
		}
		st.Passes++
		st.Written += written
		st.Rejected += rejected
		have += written
		logf("load: pass %d wrote %d (%.0f resources/s so far), %d of %d",
			st.Passes, written, float64(st.Written)/time.Since(start).Seconds(), have, cfg.Resources)
	}
	st.Seconds = time.Since(start).Seconds()
	st.ResourcesPerSec = float64(st.Written) / st.Seconds
	if st.ResourcesAfter, st.IndexRowsAfter, err = counts(ctx, cfg.DB); err != nil {
		return st, err
	}
	if added := st.ResourcesAfter - st.ResourcesBefore; added > 0 {
		st.IndexRowsPerResource = float64(st.IndexRowsAfter-st.IndexRowsBefore) / float64(added)
	}
	return st, nil
}

// counts returns the current resources and the rows of every index table.
func counts(ctx context.Context, db *sql.DB) (resources, indexRows int64, err error) {
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM resource_current").Scan(&resources); err != nil {
		return 0, 0, fmt.Errorf("bench: count resources: %w", err)
	}
	for _, t := range indexTables {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return 0, 0, fmt.Errorf("bench: count %s: %w", t, err)
		}
		indexRows += n
	}
	return resources, indexRows, nil
}
