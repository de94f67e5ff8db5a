package resource

import (
	"context"

	"github.com/ehealthplus/ehealth/internal/store"
)

// Done is one thing a write's transaction did that its audit records: a
// version it stored, or one a batch or transaction GET entry read (Read).
type Done struct {
	Version store.Version
	Read    bool
}

// WriteAudit records what a write did inside its transaction, through the
// transaction's audit appender, so the record lands or goes with the
// write. It runs once per transaction, last (the appender holds the
// journal's head until the commit), with everything the transaction
// stored and read; an error rolls the whole transaction back, so nothing
// is stored unrecorded. Package resource does not know the audit journal's
// format: the HTTP edge, which knows who is asking, supplies it.
type WriteAudit func(ctx context.Context, tx store.AuditAppender, done []Done) error

type writeAuditKey struct{}

// AuditWrites returns ctx carrying audit: every write the service runs
// under the returned context — create, update, patch, delete, the
// conditional ones, each batch entry and a whole transaction, and the
// writes the platform's operations make for the request — calls audit in
// its transaction. The request's context carries it, rather than the
// Service, because the record names the request's caller, request id and
// client, which the operations' own Callers (the platform acting for the
// requester) do not. A write under a context without one records nothing
// (imports, reindexing, tests of other things), as reads without an
// auditor do; audit nil turns it off for ctx.
func AuditWrites(ctx context.Context, audit WriteAudit) context.Context {
	return context.WithValue(ctx, writeAuditKey{}, audit)
}

// writeAudit is the WriteAudit ctx carries, nil for none.
func writeAudit(ctx context.Context) WriteAudit {
	a, _ := ctx.Value(writeAuditKey{}).(WriteAudit)
	return a
}

// noteRead notes that a batch or transaction entry read v in tx, for the audit.
func noteRead(tx store.Tx, v store.Version) {
	if rec, ok := tx.(*recordingTx); ok {
		rec.done = append(rec.done, Done{Version: v, Read: true})
	}
}
