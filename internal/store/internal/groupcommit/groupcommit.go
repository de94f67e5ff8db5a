// Package groupcommit batches concurrent audit-journal appends into one
// database transaction. Each append must be durable before its caller
// answers, so it waits for a commit — an fsync of the write-ahead log, and
// on PostgreSQL a lock on the journal's head held across it. Serving them
// one transaction each caps appends at one per commit; a committer
// goroutine instead takes every append waiting when a commit ends and
// commits them together, so a busy server pays one commit per batch
// rather than per request, while a lone append is committed at once (no
// timer, no added latency).
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// ErrClosed is the error of an append to a closed store.
var ErrClosed = errors.New("audit journal closed")

// MaxEntries is the drivers' bound on the entries of one batch, so one
// transaction stays short and its rows' memory small.
const MaxEntries = 512

// commitTimeout bounds one batch's transaction: a caller that handed its
// entries to the committer waits for the outcome, so a hung database must
// not hold it forever.
const commitTimeout = 30 * time.Second

// CommitFunc appends the entries of a batch in one transaction, chaining
// them in order, and sets their Seq, PrevHash and Hash. It returns only
// after the transaction committed (durably) or failed.
type CommitFunc func(ctx context.Context, entries []*store.AuditEntry) error

// Committer runs the batching goroutine. Its zero value is not usable;
// call Start.
type Committer struct {
	commit CommitFunc
	max    int           // entries per batch
	reqs   chan *request // unbuffered: a send succeeds only when the committer takes it
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once
}

type request struct {
	entries []store.AuditEntry
	result  chan error // buffered: the committer never waits on a caller
}

// Start starts a committer that commits batches of up to maxEntries
// entries with commit (a single larger append goes alone); 1 commits every
// append on its own, which benchmarks compare against.
func Start(commit CommitFunc, maxEntries int) *Committer {
	c := &Committer{commit: commit, max: maxEntries, reqs: make(chan *request), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// Append hands entries to the committer and waits until the batch they
// went into has committed or failed. Once handed over, it waits for the
// outcome even if ctx ends (the entries are being written, and the
// committer sets their fields); ctx bounds only the wait to hand them over.
func (c *Committer) Append(ctx context.Context, entries []store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := store.CheckAuditEntries(entries); err != nil {
		return err
	}
	req := &request{entries: entries, result: make(chan error, 1)}
	select {
	case c.reqs <- req:
	case <-c.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.result
}

// Close stops the committer after the batch in progress; appends not yet
// handed over fail with ErrClosed. It must be called before the database
// closes.
func (c *Committer) Close() {
	c.once.Do(func() { close(c.quit) })
	<-c.done
}

func (c *Committer) run() {
	defer close(c.done)
	for {
		var first *request
		select {
		case first = <-c.reqs:
		case <-c.quit:
			return
		}
		batch := c.gather(first)
		err := c.commitBatch(batch)
		for _, r := range batch {
			r.result <- err
		}
	}
}

// gather takes first and every request already waiting to be handed over,
// up to c.max entries.
func (c *Committer) gather(first *request) []*request {
	batch, n := []*request{first}, len(first.entries)
	for n < c.max {
		select {
		case r := <-c.reqs:
			batch, n = append(batch, r), n+len(r.entries)
		default:
			return batch
		}
	}
	return batch
}

func (c *Committer) commitBatch(batch []*request) error {
	var entries []*store.AuditEntry
	for _, r := range batch {
		for i := range r.entries {
			entries = append(entries, &r.entries[i])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	return c.commit(ctx, entries)
}
