package sqlite

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// historyBatch is how many rows one query of a History stream fetches. The
// stream walks the result in keyset pages (seq < last seen) so a consumer
// that stops early leaves at most one short page unread, and no statement
// stays open across pages.
const historyBatch = 100

// History streams versions newest first (by Seq), as q says. A stream holds
// one read connection while the consumer's loop body runs.
func (s *Store) History(ctx context.Context, q store.HistoryQuery) iter.Seq2[store.Version, error] {
	return func(yield func(store.Version, error) bool) {
		if err := checkQuery(q); err != nil {
			yield(store.Version{}, err)
			return
		}
		before, left := q.Before, q.Count
		for {
			limit := historyBatch
			if q.Count > 0 {
				limit = min(limit, left)
			}
			n, last, stopped, err := s.historyPage(ctx, q, before, limit, yield)
			if err != nil {
				yield(store.Version{}, fmt.Errorf("sqlite: history: %w", err))
				return
			}
			left -= n
			if stopped || n < limit || (q.Count > 0 && left == 0) {
				return
			}
			before = last
		}
	}
}

// historyPage yields up to limit versions with seq < before (0: no bound)
// and reports how many it yielded, the last seq, and whether the consumer stopped.
func (s *Store) historyPage(ctx context.Context, q store.HistoryQuery, before int64, limit int,
	yield func(store.Version, error) bool) (n int, last int64, stopped bool, err error) {
	where, args := historyWhere(q, before)
	rows, err := s.readers.QueryContext(ctx,
		`SELECT `+versionColumns+` FROM resource_versions v`+where+` ORDER BY v.seq DESC LIMIT ?`,
		append(args, limit)...)
	if err != nil {
		return 0, 0, false, err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return n, last, false, err
		}
		n, last = n+1, v.Seq
		if !yield(v, nil) {
			return n, last, true, nil
		}
	}
	return n, last, false, rows.Err()
}

// CountHistory counts the versions History would return without Count and Before.
func (s *Store) CountHistory(ctx context.Context, q store.HistoryQuery) (int64, error) {
	if err := checkQuery(q); err != nil {
		return 0, err
	}
	where, args := historyWhere(q, 0)
	var n int64
	if err := s.readers.QueryRowContext(ctx, `SELECT count(*) FROM resource_versions v`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count history: %w", err)
	}
	return n, nil
}

func checkQuery(q store.HistoryQuery) error {
	if q.ID != "" && q.Type == "" {
		return outcome.New(outcome.Internal, "store: history of id %q needs a type", q.ID)
	}
	return nil
}

// historyWhere builds the WHERE clause for q, with seq < before when before > 0.
//
// _at: a version was current at some moment of [AtFrom, AtTo) when it was
// written before AtTo and no later version of the same resource was already
// written by AtFrom.
func historyWhere(q store.HistoryQuery, before int64) (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if q.Type != "" {
		add("v.type = ?", q.Type)
	}
	if q.ID != "" {
		add("v.id = ?", q.ID)
	}
	if !q.Since.IsZero() {
		add("v.updated >= ?", toMicros(q.Since))
	}
	if !q.AtTo.IsZero() {
		add("v.updated < ?", toMicros(q.AtTo))
	}
	if !q.AtFrom.IsZero() {
		add(`NOT EXISTS (SELECT 1 FROM resource_versions w
WHERE w.type = v.type AND w.id = v.id AND w.version_id > v.version_id AND w.updated <= ?)`, toMicros(q.AtFrom))
	}
	if before > 0 {
		add("v.seq < ?", before)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}
