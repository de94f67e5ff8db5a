package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

var concurrencyTests = []test{
	{"ConcurrentCreateOneWins", testConcurrentCreate},
	{"ConcurrentUpdateOneWins", testConcurrentUpdate},
	{"ConcurrentWritersAllLand", testConcurrentWriters},
}

// race runs n copies of fn at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			errs[i] = fn(i)
		})
	}
	start.Done()
	done.Wait()
	return errs
}

// assertOneWinner checks exactly one error is nil and the rest are conflicts,
// and returns the winner's index.
func assertOneWinner(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !outcome.Is(err, outcome.Conflict):
			t.Errorf("writer %d: %v, want a conflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	return winner
}

// concurrentPut races n writers putting version expect+1 of Patient/a, each
// in its own transaction that first reads the current version (so on
// PostgreSQL every writer sees the same row before any commits).
func concurrentPut(t *testing.T, s store.Store, expect int64) {
	t.Helper()
	const n = 8
	vs := make([]*store.Version, n)
	for i := range vs {
		vs[i] = newVersion("Patient", "a", expect+1, base.Add(time.Hour))
		vs[i].Writer = fmt.Sprint("writer-", i)
	}
	ctx := t.Context()
	errs := race(n, func(i int) error {
		return s.Write(ctx, func(tx store.Tx) error {
			if _, err := tx.Read(ctx, "Patient", "a"); err != nil && !outcome.Is(err, outcome.NotFound) {
				return err
			}
			return tx.Put(ctx, vs[i], expect)
		})
	})
	winner := assertOneWinner(t, errs)
	assertVersion(t, mustRead(t, s, "Patient", "a"), *vs[winner])
	assertHistoryLen(t, s, store.HistoryQuery{Access: store.AccessAll, Type: "Patient", ID: "a"}, int(expect)+1)
}

func testConcurrentCreate(t *testing.T, s store.Store) {
	concurrentPut(t, s, 0)
}

func testConcurrentUpdate(t *testing.T, s store.Store) {
	put(t, s, newVersion("Patient", "a", 1, base), 0)
	put(t, s, newVersion("Patient", "a", 2, base), 1)
	concurrentPut(t, s, 2)
}

// testConcurrentWriters: 16 goroutines each create and update their own
// resources, 50 transactions each; every write must land (on SQLite,
// without SQLITE_BUSY).
func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, writes = 16, 50
	ctx := t.Context()
	errs := race(writers, func(w int) error {
		for i := range writes {
			id := fmt.Sprintf("w%d-%d", w, i/2)
			vid := int64(i%2 + 1) // create, then update
			v := newVersion("Patient", id, vid, base.Add(time.Duration(i)*time.Millisecond))
			if err := tryPut(ctx, s, v, vid-1); err != nil {
				return fmt.Errorf("writer %d, write %d: %w", w, i, err)
			}
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	assertHistoryLen(t, s, store.HistoryQuery{Access: store.AccessAll}, writers*writes)
	assertHistoryLen(t, s, store.HistoryQuery{Access: store.AccessAll, Type: "Patient", ID: "w7-3"}, 2)
	for w := range writers {
		if v := mustRead(t, s, "Patient", fmt.Sprintf("w%d-%d", w, writes/2-1)); v.VersionID != 2 {
			t.Errorf("writer %d's last resource is at version %d, want 2", w, v.VersionID)
		}
	}
	seen := map[int64]bool{}
	for _, v := range collect(t, s, store.HistoryQuery{Access: store.AccessAll}) {
		if seen[v.Seq] {
			t.Fatalf("seq %d assigned twice", v.Seq)
		}
		seen[v.Seq] = true
	}
}
