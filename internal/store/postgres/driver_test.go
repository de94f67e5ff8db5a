package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/postgres/pgtest"
)

func migrated(t *testing.T, s *Store) *Store {
	t.Helper()
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func version(id string, vid int64) *store.Version {
	m := store.MethodUpdate
	if vid == 1 {
		m = store.MethodCreate
	}
	return &store.Version{Type: "Patient", ID: id, VersionID: vid, Updated: time.Now(), Method: m,
		Body: fmt.Appendf(nil, `{"resourceType":"Patient","id":%q}`, id)}
}

// nextVersion puts the version after the current one of Patient/id, reading
// the current version inside tx so a retried transaction starts afresh.
func nextVersion(ctx context.Context, tx store.Tx, id string) error {
	cur, err := tx.Read(ctx, "Patient", id)
	if err != nil {
		return err
	}
	return tx.Put(ctx, version(id, cur.VersionID+1), cur.VersionID)
}

func TestWriteRetriesSerializationFailure(t *testing.T) {
	for _, code := range []string{"40001", "40P01"} {
		t.Run(code, func(t *testing.T) {
			s := migrated(t, open(t))
			ctx := t.Context()
			attempts := 0
			err := s.Write(ctx, func(tx store.Tx) error {
				attempts++
				if err := tx.Put(ctx, version("a", 1), 0); err != nil {
					return err
				}
				if attempts == 1 {
					return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code})
				}
				return nil
			})
			if err != nil || attempts != 2 {
				t.Fatalf("write = %v after %d attempts, want success on the 2nd", err, attempts)
			}
			if n, _ := s.CountHistory(ctx, store.HistoryQuery{Access: store.AccessAll}); n != 1 {
				t.Errorf("%d versions, want 1: the failed attempt must leave nothing", n)
			}
		})
	}
}

func TestWriteGivesUpAfterMaxAttempts(t *testing.T) {
	s := migrated(t, open(t))
	attempts := 0
	err := s.Write(t.Context(), func(tx store.Tx) error {
		attempts++
		return &pgconn.PgError{Code: "40001"}
	})
	if err == nil || attempts != maxAttempts {
		t.Errorf("write = %v after %d attempts, want an error after %d", err, attempts, maxAttempts)
	}
	attempts = 0
	s.Write(t.Context(), func(tx store.Tx) error { attempts++; return &pgconn.PgError{Code: "23505"} })
	if attempts != 1 {
		t.Errorf("a unique violation was tried %d times, want 1", attempts)
	}
}

// TestWriteRetriesRealDeadlock makes two transactions take row locks in
// opposite orders; PostgreSQL aborts one with 40P01 and Write reruns it.
func TestWriteRetriesRealDeadlock(t *testing.T) {
	s := migrated(t, open(t))
	ctx := t.Context()
	for _, id := range []string{"a", "b"} {
		if err := s.Write(ctx, func(tx store.Tx) error { return tx.Put(ctx, version(id, 1), 0) }); err != nil {
			t.Fatal(err)
		}
	}
	var firstLocks sync.WaitGroup // both hold their first row
	firstLocks.Add(2)
	var calls atomic.Int32
	lockInOrder := func(first, second string) error {
		round := 0
		return s.Write(ctx, func(tx store.Tx) error {
			calls.Add(1)
			round++
			if err := nextVersion(ctx, tx, first); err != nil {
				return err
			}
			if round == 1 {
				firstLocks.Done()
				firstLocks.Wait()
			}
			return nextVersion(ctx, tx, second)
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = lockInOrder("a", "b") })
	wg.Go(func() { errs[1] = lockInOrder("b", "a") })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if calls.Load() < 3 {
		t.Errorf("fn ran %d times; want a retry after the deadlock", calls.Load())
	}
	for _, id := range []string{"a", "b"} {
		if v, err := s.Read(ctx, "Patient", id); err != nil || v.VersionID != 3 {
			t.Errorf("Patient/%s at version %d (%v), want 3", id, v.VersionID, err)
		}
	}
}

func TestMigrateConcurrently(t *testing.T) {
	dsnStore := open(t)
	defer dsnStore.Close()
	dsn := dsnStore.pool.Config().ConnString()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(t.Context(), dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			errs[i] = s.Migrate(t.Context())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate %d: %v", i, err)
		}
	}
}

func TestVersionsAreAppendOnly(t *testing.T) {
	s := migrated(t, open(t))
	ctx := t.Context()
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.Put(ctx, version("a", 1), 0) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "UPDATE resource_versions SET body = '\\x00'"); err == nil {
		t.Error("updating a version succeeded")
	}
}

func TestStopEarlyReleasesConnection(t *testing.T) {
	s := migrated(t, open(t))
	ctx := t.Context()
	err := s.Write(ctx, func(tx store.Tx) error {
		for i := range 250 {
			if err := tx.Put(ctx, version(fmt.Sprint(i), 1), 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, stop := range []int{1, 150} {
		n := 0
		for range s.History(ctx, store.HistoryQuery{Access: store.AccessAll}) {
			if n++; n == stop {
				break
			}
		}
		if inUse := s.pool.Stat().AcquiredConns(); inUse != 0 {
			t.Errorf("after stopping at %d, %d connections in use", stop, inUse)
		}
	}
}

func TestConflictErrorKind(t *testing.T) {
	s := migrated(t, open(t))
	ctx := t.Context()
	put := func(v *store.Version, expect int64) error {
		return s.Write(ctx, func(tx store.Tx) error { return tx.Put(ctx, v, expect) })
	}
	if err := put(version("a", 1), 0); err != nil {
		t.Fatal(err)
	}
	// A conflict is not retried: fn runs once and the caller decides.
	if err := put(version("a", 1), 0); !outcome.Is(err, outcome.Conflict) {
		t.Errorf("put = %v, want conflict", err)
	}
}

// TestPlansForTheValues: searches are planned for their parameter values
// (plan_cache_mode), unless the DSN says otherwise, and the count index
// reads a code's rows in rid order and covers the predicate's column.
func TestPlansForTheValues(t *testing.T) {
	for _, tc := range []struct{ dsnExtra, want string }{
		{"", "force_custom_plan"},
		{"plan_cache_mode=auto", "auto"},
	} {
		dsn := pgtest.DSN(t)
		if tc.dsnExtra != "" {
			dsn += " " + tc.dsnExtra // a keyword/value DSN
		}
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		s = migrated(t, s)
		var mode string
		if err := s.pool.QueryRow(t.Context(), "SHOW plan_cache_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != tc.want {
			t.Errorf("DSN %q: plan_cache_mode = %s, want %s", tc.dsnExtra, mode, tc.want)
		}
		var def string
		if err := s.pool.QueryRow(t.Context(), "SELECT pg_get_indexdef('idx_token_code'::regclass)").Scan(&def); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(def, "(res_type, param, code, system, rid) INCLUDE (patient_key)") {
			t.Errorf("idx_token_code = %s, want rid its last key and patient_key included", def)
		}
	}
}
