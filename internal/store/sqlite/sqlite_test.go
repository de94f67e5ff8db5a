package sqlite

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/sqlsearch"
	"github.com/ehealthplus/ehealth/internal/store/storetest"
)

// open returns a store on a new database file in the test's temp dir.
func open(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), filepath.Join(tb.TempDir(), "ehealth.db"), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(tb testing.TB) store.Store { return open(tb) })
}

func migrated(t *testing.T, s *Store) *Store {
	t.Helper()
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpenSetsPragmas(t *testing.T) {
	s := migrated(t, open(t))
	ctx := t.Context()
	for _, tc := range []struct {
		db     string
		pragma string
		want   string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "foreign_keys", "1"},
		{"writer", "synchronous", "1"}, // NORMAL
		{"writer", "busy_timeout", "10000"},
		{"readers", "journal_mode", "wal"},
		{"readers", "query_only", "1"},
		{"readers", "busy_timeout", "10000"},
	} {
		db := s.writer
		if tc.db == "readers" {
			db = s.readers
		}
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", tc.db, tc.pragma, got, tc.want)
		}
	}
	if n := s.writer.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer pool allows %d connections, want 1", n)
	}
}

func TestOpenRefusesMemory(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file::memory:?cache=shared", "x.db?mode=ro"} {
		if s, err := Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestVersionsAreAppendOnly(t *testing.T) {
	s := migrated(t, open(t))
	v := &store.Version{Type: "Patient", ID: "a", VersionID: 1, Updated: time.Now(), Method: store.MethodCreate, Body: []byte("{}")}
	if err := s.Write(t.Context(), func(tx store.Tx) error { return tx.Put(t.Context(), v, 0) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(t.Context(), "UPDATE resource_versions SET body = x'00'"); err == nil {
		t.Error("updating a version succeeded")
	}
}

// TestReadersDuringWrites reads and writes at once: WAL readers must never
// see SQLITE_BUSY, and every write must land.
func TestReadersDuringWrites(t *testing.T) {
	s := migrated(t, open(t, WithReaders(2)))
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	stop := make(chan struct{})
	for r := range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, err := range s.History(ctx, store.HistoryQuery{Access: store.AccessAll, Count: 20}) {
					if err != nil {
						errs <- fmt.Errorf("reader %d: %w", r, err)
						return
					}
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 16 {
		writers.Go(func() {
			for i := range 50 {
				v := &store.Version{Type: "Patient", ID: fmt.Sprint(w, "-", i), VersionID: 1, Updated: time.Now(),
					Method: store.MethodCreate, Body: []byte(`{"resourceType":"Patient"}`)}
				if err := s.Write(ctx, func(tx store.Tx) error { return tx.Put(ctx, v, 0) }); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := s.CountHistory(ctx, store.HistoryQuery{Access: store.AccessAll}); err != nil || n != 800 {
		t.Errorf("count = %d, %v; want 800", n, err)
	}
}

// TestTwoStoresOneFile stands in for two processes on one database file:
// their writers contend for SQLite's lock, and busy_timeout plus IMMEDIATE
// transactions must make them wait rather than fail.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	var stores [2]*Store
	for i := range stores {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = migrated(t, s)
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, s := range stores {
		wg.Go(func() {
			for j := range 100 {
				v := &store.Version{Type: "Patient", ID: fmt.Sprint(i, "-", j), VersionID: 1, Updated: time.Now(),
					Method: store.MethodCreate, Body: []byte(`{}`)}
				if err := s.Write(ctx, func(tx store.Tx) error { return tx.Put(ctx, v, 0) }); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := stores[1].CountHistory(ctx, store.HistoryQuery{Access: store.AccessAll}); err != nil || n != 200 {
		t.Errorf("count = %d, %v; want 200", n, err)
	}
}

// TestStopEarlyReleasesReader checks, from inside, that a stream abandoned
// mid-page hands its connection back.
func TestStopEarlyReleasesReader(t *testing.T) {
	s := migrated(t, open(t, WithReaders(1)))
	ctx := t.Context()
	err := s.Write(ctx, func(tx store.Tx) error {
		for i := range 250 {
			v := &store.Version{Type: "Patient", ID: fmt.Sprint(i), VersionID: 1, Updated: time.Now(),
				Method: store.MethodCreate, Body: []byte(`{}`)}
			if err := tx.Put(ctx, v, 0); err != nil {
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
		if inUse := s.readers.Stats().InUse; inUse != 0 {
			t.Errorf("after stopping at %d, %d reader connections in use", stop, inUse)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.Read(tctx, "Patient", "1"); err != nil {
		t.Fatal(err)
	}
}

// TestWritesAreSerialized runs 16 goroutines of read-then-write
// transactions on one resource. With one writer connection each
// transaction sees the previous one's commit, so none conflicts and none
// fails with SQLITE_BUSY (as a deferred transaction upgrading its read
// snapshot to a write would).
func TestWritesAreSerialized(t *testing.T) {
	s := migrated(t, open(t))
	ctx := t.Context()
	first := &store.Version{Type: "Patient", ID: "shared", VersionID: 1, Updated: time.Now(), Method: store.MethodCreate, Body: []byte(`{}`)}
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.Put(ctx, first, 0) }); err != nil {
		t.Fatal(err)
	}
	const writers, writes = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range writes {
				err := s.Write(ctx, func(tx store.Tx) error {
					cur, err := tx.Read(ctx, "Patient", "shared")
					if err != nil {
						return err
					}
					next := &store.Version{Type: "Patient", ID: "shared", VersionID: cur.VersionID + 1, Updated: time.Now(),
						Method: store.MethodUpdate, Body: []byte(`{}`)}
					return tx.Put(ctx, next, cur.VersionID)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if v, err := s.Read(ctx, "Patient", "shared"); err != nil || v.VersionID != 1+writers*writes {
		t.Errorf("Patient/shared at version %d (%v), want %d", v.VersionID, err, 1+writers*writes)
	}
}

// TestBackgroundCheckpoint checks a reader connection (query_only) can
// checkpoint the WAL the writer fills, so commits need not.
func TestBackgroundCheckpoint(t *testing.T) {
	s := migrated(t, open(t))
	ctx := t.Context()
	err := s.Write(ctx, func(tx store.Tx) error {
		for i := range 100 {
			v := &store.Version{Type: "Patient", ID: fmt.Sprint(i), VersionID: 1, Updated: time.Now(),
				Method: store.MethodCreate, Body: []byte(`{"resourceType":"Patient"}`)}
			if err := tx.Put(ctx, v, 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	copied, err := s.checkpoint(ctx)
	if err != nil || copied == 0 {
		t.Errorf("checkpoint copied %d frames (%v), want some", copied, err)
	}
	var auto int
	if err := s.writer.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != walAutocheckpoint {
		t.Errorf("writer wal_autocheckpoint = %d (%v), want %d", auto, err, walAutocheckpoint)
	}
}

// recordingDB runs the search engine's queries on the store, recording them.
type recordingDB struct {
	searchDB
	queries []string
	args    [][]any
}

func (r *recordingDB) Query(ctx context.Context, query string, args []any, scalars int) ([]sqlsearch.Row, error) {
	r.queries, r.args = append(r.queries, query), append(r.args, args)
	return r.searchDB.Query(ctx, query, args, scalars)
}

func (r *recordingDB) Count(ctx context.Context, query string, args []any) (int64, error) {
	r.queries, r.args = append(r.queries, query), append(r.args, args)
	return r.searchDB.Count(ctx, query, args)
}

// TestSearchPlansUseIndexes checks the plans of a patient-scoped search
// read the patient-leading indexes and a code search the value index,
// never scanning an index table.
func TestSearchPlansUseIndexes(t *testing.T) {
	s := migrated(t, open(t))
	ctx := t.Context()
	reg := search.NewRegistry()
	for _, tc := range []struct {
		query, patient string
		want           []string
	}{
		{"code=http://loinc.org|c0&date=ge2020-06-01&_sort=-date&_count=10", "p7", []string{"idx_token_pat", "idx_date_pat"}},
		{"code=c0&_count=10", "", []string{"idx_token_code"}},
		{"subject=Patient/p7&_count=10", "", []string{"idx_ref_target"}},
	} {
		vals, _ := url.ParseQuery(tc.query)
		plan, _, err := search.Parse("Observation", vals, reg, true)
		if err != nil {
			t.Fatal(err)
		}
		db := &recordingDB{searchDB: searchDB{s}}
		if _, err := s.Engine.Search(ctx, db, store.SearchQuery{Plan: plan, Access: store.AccessAll, Patient: tc.patient}); err != nil {
			t.Fatal(err)
		}
		for i, q := range db.queries {
			plan := explain(t, s, q, db.args[i])
			for _, ix := range tc.want {
				if !strings.Contains(plan, "INDEX "+ix) {
					t.Errorf("%s: plan does not use %s:\n%s", tc.query, ix, plan)
				}
			}
			if m := regexp.MustCompile(`SCAN \w+ USING (COVERING )?INDEX idx_|SCAN idx_`).FindString(plan); m != "" {
				t.Errorf("%s: plan scans an index table (%s):\n%s", tc.query, m, plan)
			}
		}
	}
}

// explain returns the EXPLAIN QUERY PLAN lines of query.
func explain(t *testing.T, s *Store, query string, args []any) string {
	t.Helper()
	rows, err := s.readers.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}
