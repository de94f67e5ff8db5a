package sqlite

import (
	"context"
	"fmt"
	"iter"
	"strconv"
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
	where, args := s.historyWhere(q, before)
	rows, err := s.readers.QueryContext(ctx,
		`SELECT `+versionColumns+` FROM resource_versions v`+where+` ORDER BY v.seq DESC LIMIT ?`+strconv.Itoa(len(args)+1),
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
	where, args := s.historyWhere(q, 0)
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

// historyWhere builds the WHERE clause for q, with seq < before when
// before > 0, and the access predicate (sqlsearch.VersionAccess). Its
// placeholders are numbered (?1, ?2 …), so a statement may bind more after
// them.
//
// _at: a version was current at some moment of [AtFrom, AtTo) when it was
// written before AtTo and no later version of the same resource was already
// written by AtFrom.
func (s *Store) historyWhere(q store.HistoryQuery, before int64) (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(format string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(format, "?"+strconv.Itoa(len(args))))
	}
	if q.Type != "" {
		add("v.type = %s", q.Type)
	}
	if q.ID != "" {
		add("v.id = %s", q.ID)
	}
	if !q.Since.IsZero() {
		add("v.updated >= %s", toMicros(q.Since))
	}
	if !q.AtTo.IsZero() {
		add("v.updated < %s", toMicros(q.AtTo))
	}
	if !q.AtFrom.IsZero() {
		add(`NOT EXISTS (SELECT 1 FROM resource_versions w
WHERE w.type = v.type AND w.id = v.id AND w.version_id > v.version_id AND w.updated <= %s)`, toMicros(q.AtFrom))
	}
	if before > 0 {
		add("v.seq < %s", before)
	}
	if cond, more := s.Engine.VersionAccess(q.Access, len(args)); cond != "" {
		conds, args = append(conds, cond), append(args, more...)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}
