package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// The keyed store ([store.Keyed]) on table keyed (migrations/00005_keys.sql).
// Writes run through [Store.Write], on the one writer connection, so they
// queue behind resource writes rather than fail with SQLITE_BUSY; a caller
// must not use them inside a Write callback. Their statements are prepared
// inside the transaction, not in the writer's statement cache: preparing on
// the writer pool while another Write holds its connection would deadlock
// on the cache's lock (see stmtCache.prepareAll). Reads use the readers.

// live is the condition of an unexpired row at now (the last argument).
const live = `(expires_us = 0 OR expires_us > ?)`

const (
	putKeySQL = `INSERT INTO keyed (ns, key, grp, value, expires_us) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (ns, key) DO UPDATE SET grp = excluded.grp, value = excluded.value, expires_us = excluded.expires_us`
	// insertKeySQL replaces only an expired entry; an unexpired one leaves
	// the row untouched and no row changed.
	insertKeySQL = putKeySQL + `
WHERE keyed.expires_us <> 0 AND keyed.expires_us <= ?`
	getKeySQL    = `SELECT value FROM keyed WHERE ns = ? AND key = ? AND ` + live
	takeKeySQL   = `DELETE FROM keyed WHERE ns = ? AND key = ? AND ` + live + ` RETURNING value`
	deleteKeySQL = `DELETE FROM keyed WHERE ns = ? AND key = ?`
	// grp <> '' lets SQLite use the partial index keyed_group.
	deleteGroupSQL = `DELETE FROM keyed WHERE ns = ? AND grp = ? AND grp <> ''`
	listKeysSQL    = `SELECT key, grp, value, expires_us FROM keyed
WHERE ns = ? AND key >= ? AND ` + live + ` ORDER BY key LIMIT ?`
	listPrefixSQL = `SELECT key, grp, value, expires_us FROM keyed
WHERE ns = ? AND key >= ? AND key < ? AND ` + live + ` ORDER BY key LIMIT ?`
	// purgeKeysSQL removes at most purgeBatch expired rows (see PurgeKeys).
	purgeKeysSQL = `DELETE FROM keyed WHERE rowid IN
(SELECT rowid FROM keyed WHERE expires_us <> 0 AND expires_us <= ? LIMIT ?)`
)

// purgeBatch is how many rows one PurgeKeys transaction removes: a backlog
// of expired replay-cache entries is purged in short transactions that
// resource writes queue between, not one long one they wait behind.
const purgeBatch = 1000

// PutKey stores value at k, replacing any entry there.
func (s *Store) PutKey(ctx context.Context, k store.Key, value []byte, expires time.Time) error {
	err := s.writeKeys(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, putKeySQL, k.NS, k.Key, k.Group, blob(value), expiresMicros(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put key in %s: %w", k.NS, err)
	}
	return nil
}

// InsertKey stores value at k unless an unexpired entry is there.
func (s *Store) InsertKey(ctx context.Context, k store.Key, value []byte, expires time.Time) error {
	var n int64
	err := s.writeKeys(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, insertKeySQL, k.NS, k.Key, k.Group, blob(value), expiresMicros(expires),
			toMicros(time.Now()))
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: insert key in %s: %w", k.NS, err)
	}
	if n == 0 {
		return outcome.New(outcome.Conflict, "the %s entry exists", k.NS)
	}
	return nil
}

// GetKey returns the value at ns/key unless it is missing or expired.
func (s *Store) GetKey(ctx context.Context, ns, key string) ([]byte, error) {
	var value []byte
	st, err := s.stmt(ctx, getKeySQL)
	if err == nil {
		err = st.QueryRowContext(ctx, ns, key, toMicros(time.Now())).Scan(&value)
	}
	return keyValue(value, err, "get", ns)
}

// TakeKey deletes the entry at ns/key and returns its value, unless it is
// missing or expired. Writes are serial, so of two callers one deletes the
// row and the other finds none.
func (s *Store) TakeKey(ctx context.Context, ns, key string) ([]byte, error) {
	var value []byte
	err := s.writeKeys(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, takeKeySQL, ns, key, toMicros(time.Now())).Scan(&value)
	})
	return keyValue(value, err, "take", ns)
}

// keyValue turns the outcome of reading one entry's value into the
// contract's result: no row is outcome.NotFound.
func keyValue(value []byte, err error, op, ns string) ([]byte, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outcome.New(outcome.NotFound, "no such %s entry", ns)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s key in %s: %w", op, ns, err)
	}
	return blob(value), nil
}

// DeleteKey removes the entry at ns/key, if there is one.
func (s *Store) DeleteKey(ctx context.Context, ns, key string) error {
	err := s.writeKeys(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, deleteKeySQL, ns, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete key in %s: %w", ns, err)
	}
	return nil
}

// DeleteGroup removes the entries of ns put with group; "" is no group.
func (s *Store) DeleteGroup(ctx context.Context, ns, group string) error {
	if group == "" {
		return nil
	}
	err := s.writeKeys(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, deleteGroupSQL, ns, group)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete key group in %s: %w", ns, err)
	}
	return nil
}

// ListKeys returns the unexpired entries of ns whose key starts with
// prefix, in key order, at most limit of them (0: all).
func (s *Store) ListKeys(ctx context.Context, ns, prefix string, limit int) ([]store.KeyValue, error) {
	query, args := listKeysSQL, []any{ns, prefix}
	if prefix != "" {
		query, args = listPrefixSQL, append(args, prefix+"\U0010FFFF")
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	args = append(args, toMicros(time.Now()), limit)
	list, err := s.listKeys(ctx, ns, query, args)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list keys in %s: %w", ns, err)
	}
	return list, nil
}

func (s *Store) listKeys(ctx context.Context, ns, query string, args []any) ([]store.KeyValue, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []store.KeyValue
	for rows.Next() {
		kv := store.KeyValue{Key: store.Key{NS: ns}}
		var expires int64
		if err := rows.Scan(&kv.Key.Key, &kv.Key.Group, &kv.Value, &expires); err != nil {
			return nil, err
		}
		kv.Value, kv.Expires = blob(kv.Value), expiresTime(expires)
		list = append(list, kv)
	}
	return list, rows.Err()
}

// PurgeKeys removes the entries expired at now, purgeBatch rows per
// transaction, and returns how many.
func (s *Store) PurgeKeys(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.writeKeys(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, purgeKeysSQL, toMicros(now), purgeBatch)
			if err == nil {
				n, err = res.RowsAffected()
			}
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: purge keys: %w", err)
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}

// writeKeys runs fn in a write transaction on the writer connection.
func (s *Store) writeKeys(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.Write(ctx, func(t store.Tx) error { return fn(t.(*tx).tx) })
}

// expiresMicros is the expires_us column value of expires: 0 for never. A
// non-zero expiry at or before the epoch is long past, stored as 1 so it
// does not read as never.
func expiresMicros(expires time.Time) int64 {
	if expires.IsZero() {
		return 0
	}
	return max(toMicros(expires), 1)
}

// expiresTime is the expiry an expires_us column value means.
func expiresTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

// blob makes a nil value empty: the column is NOT NULL, and a caller
// reading an empty value back gets a non-nil slice either way.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
