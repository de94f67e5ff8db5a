package groupcommit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// TestBatchesWaitingAppends holds the first commit until seven more
// appends wait, and expects them committed together in the next batch.
func TestBatchesWaitingAppends(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var batches []int
	c := Start(func(ctx context.Context, entries []*store.AuditEntry) error {
		mu.Lock()
		first := len(batches) == 0
		batches = append(batches, len(entries))
		mu.Unlock()
		if first {
			<-release
		}
		for i, e := range entries {
			e.Seq = int64(i + 1)
		}
		return nil
	}, MaxEntries)
	defer c.Close()
	entry := func() []store.AuditEntry { return []store.AuditEntry{{Body: []byte("{}")}} }
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := c.Append(t.Context(), entry()); err != nil {
			t.Error(err)
		}
	})
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(batches) == 1 })
	for range 7 {
		wg.Go(func() {
			e := entry()
			if err := c.Append(t.Context(), e); err != nil || e[0].Seq == 0 {
				t.Errorf("append: %v, seq %d", err, e[0].Seq)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let the seven reach the hand-over
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(batches) != 2 || batches[1] != 7 {
		t.Errorf("batches %v, want [1 7]", batches)
	}
}

func TestFailureReachesEveryCaller(t *testing.T) {
	boom := errors.New("disk full")
	c := Start(func(context.Context, []*store.AuditEntry) error { return boom }, MaxEntries)
	defer c.Close()
	if err := c.Append(t.Context(), []store.AuditEntry{{Body: []byte("{}")}}); !errors.Is(err, boom) {
		t.Errorf("append: %v, want %v", err, boom)
	}
}

func TestClosedRefuses(t *testing.T) {
	c := Start(func(context.Context, []*store.AuditEntry) error { return nil }, MaxEntries)
	c.Close()
	c.Close() // twice is fine
	if err := c.Append(t.Context(), []store.AuditEntry{{Body: []byte("{}")}}); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v, want ErrClosed", err)
	}
}

func TestRefusesBadEntries(t *testing.T) {
	c := Start(func(context.Context, []*store.AuditEntry) error { t.Error("bad entries committed"); return nil }, MaxEntries)
	defer c.Close()
	if err := c.Append(t.Context(), []store.AuditEntry{{}}); err == nil {
		t.Error("an entry without a body was accepted")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}
