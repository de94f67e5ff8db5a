package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// The keyed store ([store.Keyed]) on table keyed (migrations/00005_keys.sql).
// Each method is one statement on the pool, atomic on its own: InsertKey's
// upsert and TakeKey's DELETE … RETURNING lock the row, so of two
// concurrent callers the second sees the first's result (an unexpired row,
// or none) and gets outcome.Conflict or outcome.NotFound.

// live is the condition of an unexpired row at now, $3 wherever it is used.
const live = `(expires_us = 0 OR expires_us > $3)`

const (
	putKeySQL = `INSERT INTO keyed (ns, key, grp, value, expires_us) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (ns, key) DO UPDATE SET grp = excluded.grp, value = excluded.value, expires_us = excluded.expires_us`
	// insertKeySQL replaces only an expired entry; an unexpired one leaves
	// the row untouched and no row changed.
	insertKeySQL = putKeySQL + `
WHERE keyed.expires_us <> 0 AND keyed.expires_us <= $6`
	getKeySQL    = `SELECT value FROM keyed WHERE ns = $1 AND key = $2 AND ` + live
	takeKeySQL   = `DELETE FROM keyed WHERE ns = $1 AND key = $2 AND ` + live + ` RETURNING value`
	deleteKeySQL = `DELETE FROM keyed WHERE ns = $1 AND key = $2`
	// grp <> '' lets PostgreSQL use the partial index keyed_group.
	deleteGroupSQL = `DELETE FROM keyed WHERE ns = $1 AND grp = $2 AND grp <> ''`
	// The list queries' last argument is the limit, NULL for all.
	listKeysSQL = `SELECT key, grp, value, expires_us FROM keyed
WHERE ns = $1 AND key >= $2 AND ` + live + ` ORDER BY key LIMIT $4`
	listPrefixSQL = `SELECT key, grp, value, expires_us FROM keyed
WHERE ns = $1 AND key >= $2 AND ` + live + ` AND key < $4 ORDER BY key LIMIT $5`
	purgeKeysSQL = `DELETE FROM keyed WHERE expires_us <> 0 AND expires_us <= $1`
)

// PutKey stores value at k, replacing any entry there.
func (s *Store) PutKey(ctx context.Context, k store.Key, value []byte, expires time.Time) error {
	_, err := s.pool.Exec(ctx, putKeySQL, k.NS, k.Key, k.Group, blob(value), expiresMicros(expires))
	if err != nil {
		return fmt.Errorf("postgres: put key in %s: %w", k.NS, err)
	}
	return nil
}

// InsertKey stores value at k unless an unexpired entry is there.
func (s *Store) InsertKey(ctx context.Context, k store.Key, value []byte, expires time.Time) error {
	tag, err := s.pool.Exec(ctx, insertKeySQL, k.NS, k.Key, k.Group, blob(value), expiresMicros(expires), nowMicros())
	if err != nil {
		return fmt.Errorf("postgres: insert key in %s: %w", k.NS, err)
	}
	if tag.RowsAffected() == 0 {
		return outcome.New(outcome.Conflict, "the %s entry exists", k.NS)
	}
	return nil
}

// GetKey returns the value at ns/key unless it is missing or expired.
func (s *Store) GetKey(ctx context.Context, ns, key string) ([]byte, error) {
	return s.keyValue(ctx, getKeySQL, "get", ns, key)
}

// TakeKey deletes the entry at ns/key and returns its value, unless it is
// missing or expired.
func (s *Store) TakeKey(ctx context.Context, ns, key string) ([]byte, error) {
	return s.keyValue(ctx, takeKeySQL, "take", ns, key)
}

// keyValue runs query, which returns the value of the live entry at
// ns/key; no row is outcome.NotFound.
func (s *Store) keyValue(ctx context.Context, query, op, ns, key string) ([]byte, error) {
	var value []byte
	err := s.pool.QueryRow(ctx, query, ns, key, nowMicros()).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, outcome.New(outcome.NotFound, "no such %s entry", ns)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: %s key in %s: %w", op, ns, err)
	}
	return blob(value), nil
}

// DeleteKey removes the entry at ns/key, if there is one.
func (s *Store) DeleteKey(ctx context.Context, ns, key string) error {
	if _, err := s.pool.Exec(ctx, deleteKeySQL, ns, key); err != nil {
		return fmt.Errorf("postgres: delete key in %s: %w", ns, err)
	}
	return nil
}

// DeleteGroup removes the entries of ns put with group; "" is no group.
func (s *Store) DeleteGroup(ctx context.Context, ns, group string) error {
	if group == "" {
		return nil
	}
	if _, err := s.pool.Exec(ctx, deleteGroupSQL, ns, group); err != nil {
		return fmt.Errorf("postgres: delete key group in %s: %w", ns, err)
	}
	return nil
}

// ListKeys returns the unexpired entries of ns whose key starts with
// prefix, in key order, at most limit of them (0: all).
func (s *Store) ListKeys(ctx context.Context, ns, prefix string, limit int) ([]store.KeyValue, error) {
	query, args := listKeysSQL, []any{ns, prefix, nowMicros()}
	if prefix != "" {
		query, args = listPrefixSQL, append(args, prefix+"\U0010FFFF")
	}
	var lim any // NULL: all
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, query, append(args, lim)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list keys in %s: %w", ns, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.KeyValue, error) {
		kv := store.KeyValue{Key: store.Key{NS: ns}}
		var expires int64
		err := row.Scan(&kv.Key.Key, &kv.Key.Group, &kv.Value, &expires)
		kv.Value, kv.Expires = blob(kv.Value), expiresTime(expires)
		return kv, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list keys in %s: %w", ns, err)
	}
	return list, nil
}

// PurgeKeys removes the entries expired at now and returns how many.
func (s *Store) PurgeKeys(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, purgeKeysSQL, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("postgres: purge keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

// nowMicros is the current time in microseconds since the epoch: the
// server's clock, as every expiry is set from (not the database's).
func nowMicros() int64 { return time.Now().UnixMicro() }

// expiresMicros is the expires_us column value of expires: 0 for never. A
// non-zero expiry at or before the epoch is long past, stored as 1 so it
// does not read as never.
func expiresMicros(expires time.Time) int64 {
	if expires.IsZero() {
		return 0
	}
	return max(expires.UnixMicro(), 1)
}

// expiresTime is the expiry an expires_us column value means.
func expiresTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// blob makes a nil value empty: pgx sends a nil slice as NULL, which the
// NOT NULL column refuses, and a caller reading an empty value back gets a
// non-nil slice either way.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
