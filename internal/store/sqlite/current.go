package sqlite

import (
	"context"
	"fmt"
	"iter"

	"github.com/ehealthplus/ehealth/internal/store"
)

// currentBatch is how many versions one query of a Current stream reads.
const currentBatch = 100

const currentPageSQL = `SELECT ` + versionColumns + `
FROM resource_current c
JOIN resource_versions v ON v.type = c.type AND v.id = c.id AND v.version_id = c.version_id
WHERE c.type = ? AND c.id > ? AND NOT c.deleted
ORDER BY c.id LIMIT ?`

// Current streams the current, not deleted versions of typ in id order
// after afterID, at most limit (0: all), a page at a time (see store.Store).
func (s *Store) Current(ctx context.Context, typ, afterID string, limit int) iter.Seq2[store.Version, error] {
	return func(yield func(store.Version, error) bool) {
		left := limit
		for {
			n := currentBatch
			if limit > 0 {
				n = min(n, left)
			}
			page, err := s.currentPage(ctx, typ, afterID, n)
			if err != nil {
				yield(store.Version{}, fmt.Errorf("sqlite: current %s after %q: %w", typ, afterID, err))
				return
			}
			for _, v := range page {
				if !yield(v, nil) {
					return
				}
			}
			left -= len(page)
			if len(page) < n || (limit > 0 && left == 0) {
				return
			}
			afterID = page[len(page)-1].ID
		}
	}
}

// currentPage reads up to n versions, closing the statement before the
// stream yields any of them.
func (s *Store) currentPage(ctx context.Context, typ, afterID string, n int) ([]store.Version, error) {
	st, err := s.stmt(ctx, currentPageSQL)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, typ, afterID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := make([]store.Version, 0, n)
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		page = append(page, v)
	}
	return page, rows.Err()
}

var currentInSQL = `SELECT ` + currentColumns + `
FROM resource_current c
JOIN resource_versions v ON v.type = c.type AND v.id = c.id AND v.version_id = c.version_id
WHERE c.patient_key = ? AND c.type = ? AND NOT c.deleted
ORDER BY c.id`

// CurrentIn returns the current versions of typ filed under patientKey
// as the transaction sees them (see store.Tx).
func (t *tx) CurrentIn(ctx context.Context, typ, patientKey string) ([]store.Version, error) {
	st, err := t.stmt(ctx, currentInSQL)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s of %q: %w", typ, patientKey, err)
	}
	rows, err := st.QueryContext(ctx, patientKey, typ)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s of %q: %w", typ, patientKey, err)
	}
	defer rows.Close()
	var out []store.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s of %q: %w", typ, patientKey, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
