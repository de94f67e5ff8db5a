package store

import (
	"context"
	"time"
)

// Key names one entry of the keyed store: a namespace owned by one service
// (e.g. "oauth.code", "oauth.jti") and a key unique within it. Group, when
// set on Put, ties entries that live and die together (every token of one
// OAuth grant), so DeleteGroup removes them at once.
type Key struct {
	NS    string
	Key   string
	Group string
}

// Keyed is short-lived, non-FHIR state that services keep beside the
// resources — authorization codes, refresh-token records, replay caches of
// JWT ids, registered OAuth clients — in the same database, so it survives
// a restart and is shared by every server on one PostgreSQL. Entries expire:
// an entry whose expiry has passed is never returned and is removed by
// PurgeKeys. An entry expires at its expiry instant (it is visible only
// while now is before it), kept to the microsecond; a zero expiry never
// expires. Values are opaque bytes (callers store JSON). Methods return
// errors of kind outcome.NotFound for a missing or expired entry and
// outcome.Conflict where InsertKey finds one. Keys may be secrets (an
// authorization code, a refresh token), so errors never quote them.
type Keyed interface {
	// PutKey stores value at k, replacing any entry there.
	PutKey(ctx context.Context, k Key, value []byte, expires time.Time) error
	// InsertKey stores value at k only if no unexpired entry is there;
	// otherwise it fails with outcome.Conflict (a replay cache: "was this
	// jti seen before?" and "remember it" in one atomic step).
	InsertKey(ctx context.Context, k Key, value []byte, expires time.Time) error
	// GetKey returns the value at k.
	GetKey(ctx context.Context, ns, key string) ([]byte, error)
	// TakeKey returns the value at k and deletes it in one atomic step, so
	// of two concurrent callers only one gets it (one-time authorization
	// codes).
	TakeKey(ctx context.Context, ns, key string) ([]byte, error)
	// DeleteKey removes the entry at k; removing a missing entry is not an error.
	DeleteKey(ctx context.Context, ns, key string) error
	// DeleteGroup removes every entry of namespace ns put with group.
	// Entries put without a group are in none: DeleteGroup(ns, "")
	// removes nothing.
	DeleteGroup(ctx context.Context, ns, group string) error
	// ListKeys returns the unexpired entries of ns whose key starts with
	// prefix, in key order (byte order, whatever the database's collation),
	// at most limit of them (0: all).
	ListKeys(ctx context.Context, ns, prefix string, limit int) ([]KeyValue, error)
	// PurgeKeys removes expired entries and returns how many.
	PurgeKeys(ctx context.Context, now time.Time) (int64, error)
}

// KeyValue is one entry returned by ListKeys.
type KeyValue struct {
	Key     Key
	Value   []byte
	Expires time.Time // zero: never
}
