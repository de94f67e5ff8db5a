package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Config configures an Auditor.
type Config struct {
	// Source is this server, recorded in every event. Base is required.
	Source Source
	// Key signs checkpoints; nil records without checkpoints (the chain
	// alone then guards the journal: a test or a development server).
	Key ed25519.PrivateKey
	// ExportPath, when set, is the file every checkpoint is appended to as
	// a JSON line, for a third party to keep.
	ExportPath string
	// Every and Interval say when to checkpoint: after Every entries
	// recorded here (default 1000), or Interval after the last checkpoint
	// when entries came since (default 1 minute), and at Close.
	Every    int
	Interval time.Duration
	// Log receives checkpoint failures (default: discarded).
	Log *slog.Logger
}

// Auditor records events in the audit journal and checkpoints it. It is
// safe for concurrent use.
type Auditor struct {
	log store.AuditLog
	cfg Config

	pending atomic.Int64  // entries recorded since the last checkpoint
	kick    chan struct{} // asks the checkpointer to run now
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	mu   sync.Mutex // one checkpoint at a time; guards last
	last int64      // seq of the last checkpoint written
}

// New returns an Auditor appending to log. With a key it starts the
// checkpointer; call Close to stop it.
func New(log store.AuditLog, cfg Config) (*Auditor, error) {
	if cfg.Source.Base == "" {
		return nil, errors.New("audit: the source's base URL is required")
	}
	if cfg.Every <= 0 {
		cfg.Every = 1000
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &Auditor{log: log, cfg: cfg, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if cfg.Key == nil {
		close(a.done)
		return a, nil
	}
	go a.checkpointer()
	return a, nil
}

// Record appends e's AuditEvents to the journal, durable when it returns
// (batched with concurrent records into one commit). An error means the
// event is not recorded: the caller must refuse the request. Errors are
// of kind outcome.Transient.
func (a *Auditor) Record(ctx context.Context, e Event) error {
	entries, err := a.Entries(e)
	if err != nil {
		return err
	}
	if err := a.log.AppendAudit(ctx, entries); err != nil {
		return outcome.Wrap(outcome.Transient, "audit: record", err)
	}
	a.recorded(len(entries))
	return nil
}

// RecordTx appends e's AuditEvents inside a write transaction (a
// store.Tx), so they commit or roll back with the write. The transaction
// holds the journal's head until it ends: record last, just before commit.
func (a *Auditor) RecordTx(ctx context.Context, tx store.AuditAppender, e Event) error {
	entries, err := a.Entries(e)
	if err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, entries); err != nil {
		return outcome.Wrap(outcome.Transient, "audit: record", err)
	}
	a.recorded(len(entries))
	return nil
}

// Entries returns the journal entries of e: one per patient, each with
// the BALP AuditEvent naming only that patient, or one about no patient.
func (a *Auditor) Entries(e Event) ([]store.AuditEntry, error) {
	e.Time = recorded(e, time.Now())
	patients := dedupe(e.Patients)
	if len(patients) == 0 {
		patients = []string{""}
	}
	entries := make([]store.AuditEntry, len(patients))
	for i, p := range patients {
		body, err := AuditEvent(e, p, a.cfg.Source)
		if err != nil {
			return nil, outcome.Wrap(outcome.Internal, "audit: record", err)
		}
		entries[i] = store.AuditEntry{Time: e.Time, Body: body}
		if p != "" {
			entries[i].Patients = []string{p}
		}
	}
	return entries, nil
}

func dedupe(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// recorded counts n entries towards the next checkpoint.
func (a *Auditor) recorded(n int) {
	if a.pending.Add(int64(n)) >= int64(a.cfg.Every) {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
}

// checkpointer checkpoints when asked and every Interval until Close.
func (a *Auditor) checkpointer() {
	defer close(a.done)
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
		case <-a.kick:
		}
		if _, _, err := a.Checkpoint(context.Background()); err != nil {
			a.cfg.Log.Error("audit checkpoint failed", "err", err)
		}
	}
}

// Checkpoint signs the journal's head, if it moved since the last
// checkpoint, stores the checkpoint and appends it to the export file. It
// reports whether it wrote one.
func (a *Auditor) Checkpoint(ctx context.Context) (store.AuditCheckpoint, bool, error) {
	if a.cfg.Key == nil {
		return store.AuditCheckpoint{}, false, errors.New("audit: checkpoint: no signing key")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pending.Store(0)
	head, err := a.log.ReadAudit(ctx, store.AuditQuery{Newest: true, Limit: 1})
	if err != nil {
		return store.AuditCheckpoint{}, false, fmt.Errorf("audit: checkpoint: %w", err)
	}
	if len(head) == 0 || head[0].Seq <= a.last {
		return store.AuditCheckpoint{}, false, nil
	}
	if a.last == 0 {
		// After a restart: the head may be checkpointed already.
		done, err := a.log.AuditCheckpoints(ctx, head[0].Seq-1, 1)
		if err == nil && len(done) == 1 && done[0].Seq == head[0].Seq {
			a.last = head[0].Seq
			return store.AuditCheckpoint{}, false, nil
		}
	}
	c := Sign(a.cfg.Key, head[0].Seq, head[0].Hash, time.Now())
	if err := a.log.PutAuditCheckpoint(ctx, c); err != nil {
		return store.AuditCheckpoint{}, false, fmt.Errorf("audit: checkpoint: %w", err)
	}
	a.last = c.Seq
	if a.cfg.ExportPath != "" {
		if err := AppendCheckpoint(a.cfg.ExportPath, c); err != nil {
			return c, true, err
		}
	}
	return c, true, nil
}

// Close stops the checkpointer and writes a last checkpoint over what was
// recorded since the previous one. It does not close the store.
func (a *Auditor) Close(ctx context.Context) error {
	a.once.Do(func() { close(a.stop) })
	<-a.done
	if a.cfg.Key == nil {
		return nil
	}
	_, _, err := a.Checkpoint(ctx)
	return err
}
