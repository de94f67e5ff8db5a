package postgres

import (
	"context"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/ehealthplus/ehealth/internal/store"
)

// currentBatch is how many versions one query of a Current stream reads.
const currentBatch = 100

const currentPageSQL = `SELECT ` + versionColumns + `
FROM resource_current c
JOIN resource_versions v ON v.type = c.type AND v.id = c.id AND v.version_id = c.version_id
WHERE c.type = $1 AND c.id > $2 AND NOT c.deleted
ORDER BY c.id LIMIT $3`

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
				yield(store.Version{}, fmt.Errorf("postgres: current %s after %q: %w", typ, afterID, err))
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

// currentPage reads up to n versions, returning the connection before the
// stream yields any of them.
func (s *Store) currentPage(ctx context.Context, typ, afterID string, n int) ([]store.Version, error) {
	rows, err := s.pool.Query(ctx, currentPageSQL, typ, afterID, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Version, error) { return scanVersion(row) })
}

var currentInSQL = `SELECT ` + currentColumns + `
FROM resource_current c
JOIN resource_versions v ON v.type = c.type AND v.id = c.id AND v.version_id = c.version_id
WHERE c.patient_key = $1 AND c.type = $2 AND NOT c.deleted
ORDER BY c.id`

// CurrentIn returns the current versions of typ filed under patientKey
// as the transaction sees them (see store.Tx).
func (t *tx) CurrentIn(ctx context.Context, typ, patientKey string) ([]store.Version, error) {
	rows, err := t.tx.Query(ctx, currentInSQL, patientKey, typ)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s of %q: %w", typ, patientKey, err)
	}
	defer rows.Close()
	var out []store.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: %s of %q: %w", typ, patientKey, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
