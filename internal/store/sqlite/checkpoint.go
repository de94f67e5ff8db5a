package sqlite

import (
	"context"
	"sync"
	"time"
)

// WAL checkpoints copy committed pages from the WAL back into the database
// file (and fsync it). SQLite's default runs one inside the commit that
// takes the WAL past 1,000 pages, on the writer's connection, so a write
// now and then waits for it: about a tenth of the writer's time in an
// import. Instead a background goroutine checkpoints on a reader connection
// every checkpointEvery, alongside the writer; PASSIVE never waits for
// readers or the writer. The writer's own automatic checkpoint stays as a
// backstop for a WAL that grows past walAutocheckpoint pages regardless.
const (
	checkpointEvery   = 2 * time.Second
	walAutocheckpoint = 16384    // pages (64 MiB of 4 KiB pages)
	journalSizeLimit  = 64 << 20 // bytes
)

// checkpoints starts the background checkpointer and returns the function
// that stops it and waits for it to finish.
func (s *Store) checkpoints(every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// An error (the database busy, closing) is retried at the
				// next tick; the writer's backstop covers a long outage.
				s.checkpoint(ctx)
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
}

// checkpoint runs one PASSIVE checkpoint and returns how many WAL frames
// it copied back.
func (s *Store) checkpoint(ctx context.Context) (copied int, err error) {
	var busy, frames int
	err = s.readers.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return copied, err
}
