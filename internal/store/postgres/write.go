package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/putcheck"
)

// maxAttempts bounds how often Write runs a transaction that keeps failing
// with a serialization failure or deadlock.
const maxAttempts = 5

// Write runs fn in one READ COMMITTED transaction. If the transaction fails
// with a serialization failure (40001) or a deadlock (40P01), Write rolls
// back and runs fn again, up to maxAttempts times; fn must therefore be safe
// to re-run, reading what it needs through the Tx. If fn returns an error or
// panics, everything it wrote is rolled back and the error (or panic) is
// passed on.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return err
		}
		// Back off a little, with jitter, so the transactions that collided
		// do not collide again.
		pause := time.Duration(attempt) * time.Duration(1+rand.IntN(10)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(store.Tx) error) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres: begin write: %w", err)
	}
	defer func() {
		// Roll back even when ctx is done, so the connection goes back to
		// the pool clean. A no-op after Commit.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		pgTx.Rollback(rctx)
	}()
	if err := fn(&tx{tx: pgTx}); err != nil {
		return err
	}
	if err := pgTx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit write: %w", err)
	}
	return nil
}

// retryable reports whether err means the transaction lost to another and
// would likely succeed if run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// tx is a [store.Tx] on a pgx transaction.
type tx struct {
	tx pgx.Tx
}

func (t *tx) Read(ctx context.Context, typ, id string) (store.Version, error) {
	return read(ctx, t.tx, typ, id)
}

func (t *tx) ReadVersion(ctx context.Context, typ, id string, versionID int64) (store.Version, error) {
	return readVersion(ctx, t.tx, typ, id, versionID)
}

// Put appends v as the new current version if expect is current, and
// replaces the resource's search index rows with v.Index (see putSQL).
func (t *tx) Put(ctx context.Context, v *store.Version, expect int64) error {
	if err := putcheck.Validate(v, expect); err != nil {
		return err
	}
	query, args := putArgs(v, expect)
	// The put is a fixed statement whose plan does not depend on its
	// values, so it runs under a generic plan, planned once per
	// connection: the session plans every statement for its values (Open),
	// which for this statement costs as much as running it. The three
	// statements go in one round trip; RESET restores the session's mode.
	b := &pgx.Batch{}
	b.Queue("SET LOCAL plan_cache_mode = force_generic_plan")
	b.Queue(query, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&v.Seq) })
	b.Queue("RESET plan_cache_mode")
	err := t.tx.SendBatch(ctx, b).Close()
	if errors.Is(err, pgx.ErrNoRows) {
		return putcheck.Conflict(v, expect)
	}
	if err != nil {
		return fmt.Errorf("postgres: put %s/%s/_history/%d: %w", v.Type, v.ID, v.VersionID, err)
	}
	return nil
}
