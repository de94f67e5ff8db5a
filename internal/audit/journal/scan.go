package journal

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Paging.
const (
	defaultCount = 50
	maxCount     = 500
	// maxScan bounds the entries one page reads while filtering (by
	// provider, date, whose access): a page may come back short, even
	// empty, with a next link to carry on from where the scan stopped.
	maxScan = 5000
	// chunk is how many entries one read of the journal asks for.
	chunk = 200
)

// source reads up to n entries with seq below before (0: from the newest),
// newest first.
type source func(ctx context.Context, before int64, n int) ([]store.AuditEntry, error)

// whole reads the whole journal.
func whole(log store.AuditLog) source {
	return func(ctx context.Context, before int64, n int) ([]store.AuditEntry, error) {
		return readBelow(ctx, log, store.AuditQuery{Newest: true, Limit: n}, before)
	}
}

// byKeys reads the entries filed under any of keys, merged newest first:
// the newest n of the union are among the newest n of each key.
func byKeys(log store.AuditLog, keys []string) source {
	return func(ctx context.Context, before int64, n int) ([]store.AuditEntry, error) {
		var all []store.AuditEntry
		for _, k := range keys {
			got, err := readBelow(ctx, log, store.AuditQuery{Patient: k, Newest: true, Limit: n}, before)
			if err != nil {
				return nil, err
			}
			all = append(all, got...)
		}
		slices.SortFunc(all, func(a, b store.AuditEntry) int { return cmp.Compare(b.Seq, a.Seq) })
		all = slices.CompactFunc(all, func(a, b store.AuditEntry) bool { return a.Seq == b.Seq })
		return all[:min(n, len(all))], nil
	}
}

func readBelow(ctx context.Context, log store.AuditLog, q store.AuditQuery, before int64) ([]store.AuditEntry, error) {
	switch {
	case before == 1:
		return nil, nil // nothing below the first entry (To 0 would mean "to the end")
	case before > 1:
		q.To = before - 1
	}
	entries, err := log.ReadAudit(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("journal: read: %w", err)
	}
	return entries, nil
}

// verdict is what a page makes of one entry.
type verdict int

const (
	skip verdict = iota // not on this page
	keep                // on the page
)

// scan reads src from before, newest first, and returns up to want
// entries judge keeps, and the cursor of the next page: 0 when nothing
// is left, else the seq to read below. It reads at most maxScan entries.
func scan(ctx context.Context, src source, before int64, want int, judge func(store.AuditEntry) (verdict, error)) ([]store.AuditEntry, int64, error) {
	var out []store.AuditEntry
	for read := 0; ; {
		batch, err := src(ctx, before, chunk)
		if err != nil {
			return nil, 0, err
		}
		for _, e := range batch {
			v, err := judge(e)
			if err != nil {
				return nil, 0, err
			}
			if v == keep {
				if len(out) == want { // one more than the page: there is a next
					return out, out[want-1].Seq, nil
				}
				out = append(out, e)
			}
			before = e.Seq
			if read++; read >= maxScan {
				return out, before, nil
			}
		}
		if len(batch) < chunk {
			return out, 0, nil
		}
	}
}

// encodeCursor is the opaque form of a next page's seq: it carries only a
// place in the journal.
func encodeCursor(seq int64) string {
	if seq == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(seq, 10)))
}

// decodeCursor reads a cursor ("" is the first page, 0).
func decodeCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	n, err2 := strconv.ParseInt(string(b), 10, 64)
	if err != nil || err2 != nil || n < 1 {
		return 0, outcome.New(outcome.Invalid, "_cursor is not a paging cursor of this server")
	}
	return n, nil
}

// parseCount reads _count: default defaultCount, at most maxCount.
func parseCount(s string) (int, error) {
	if s == "" {
		return defaultCount, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, outcome.New(outcome.Invalid, "_count=%s must be a positive integer", s)
	}
	return min(n, maxCount), nil
}
