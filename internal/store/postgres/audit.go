package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ehealthplus/ehealth/internal/store"
)

// The audit journal ([store.AuditLog]) on tables audit_entry, audit_patient
// and audit_checkpoint (migrations/00007_audit.sql).
//
// An append takes a transaction-scoped advisory lock — the journal's head
// lock — then reads the head (the row with the highest seq), chains its
// entries after it and inserts them; the lock is held to commit or
// rollback, so concurrent appenders, on this server or another, queue and
// never fork the chain. The head is read by a statement after the lock is
// granted, so under READ COMMITTED it sees every append committed before.
// A Tx's appends ride on its transaction (and hold the lock until it
// ends). Store.AppendAudit hands entries to the group committer (s.audit),
// whose transactions set synchronous_commit on, so they wait for the WAL
// flush whatever the server's default: one flush and one lock hold per
// batch rather than per append.

// auditLockID is the journal's advisory lock (crc32 of "ehealth/audit").
const auditLockID = 0x5c0b5f0e

const (
	auditLockSQL    = `SELECT pg_advisory_xact_lock($1)`
	auditHeadSQL    = `SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1`
	insertAuditSQL  = `INSERT INTO audit_entry (seq, at_us, patients, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)`
	insertAuditPSQL = `INSERT INTO audit_patient (patient_key, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING`

	auditColumns  = `e.seq, e.at_us, e.patients, e.body, e.prev_hash, e.hash`
	readAuditSQL  = `SELECT ` + auditColumns + ` FROM audit_entry e WHERE e.seq >= $1 AND e.seq <= $2`
	readAuditPSQL = `SELECT ` + auditColumns + ` FROM audit_patient p JOIN audit_entry e ON e.seq = p.seq
WHERE p.seq >= $1 AND p.seq <= $2 AND p.patient_key = $4`
	putCheckpointSQL = `INSERT INTO audit_checkpoint (seq, hash, at_us, key_id, signature) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (seq) DO NOTHING`
	// The last argument is the limit, NULL for all.
	checkpointsSQL = `SELECT seq, hash, at_us, key_id, signature FROM audit_checkpoint WHERE seq > $1 ORDER BY seq LIMIT $2`
)

// AppendAudit appends entries durably, batched with concurrent appends.
func (s *Store) AppendAudit(ctx context.Context, entries []store.AuditEntry) error {
	if err := s.audit.Append(ctx, entries); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	return nil
}

// AppendAudit appends entries in the write transaction.
func (t *tx) AppendAudit(ctx context.Context, entries []store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := store.CheckAuditEntries(entries); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	ptrs := make([]*store.AuditEntry, len(entries))
	for i := range entries {
		ptrs[i] = &entries[i]
	}
	if err := appendAudit(ctx, t.tx, ptrs); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	return nil
}

// commitAudit is the group committer's transaction: entries chained after
// the head, committed once the WAL is flushed.
func (s *Store) commitAudit(ctx context.Context, entries []*store.AuditEntry) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		pgTx.Rollback(rctx)
	}()
	if _, err := pgTx.Exec(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
		return err
	}
	if err := appendAudit(ctx, pgTx, entries); err != nil {
		return err
	}
	return pgTx.Commit(ctx)
}

// appendAudit locks the journal's head, chains entries after it and
// inserts them, in one round trip for the lock and head and one for the rows.
func appendAudit(ctx context.Context, pgTx pgx.Tx, entries []*store.AuditEntry) error {
	head := &pgx.Batch{}
	head.Queue(auditLockSQL, int64(auditLockID))
	seq, hash := int64(0), store.AuditGenesis
	head.Queue(auditHeadSQL).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&seq, &hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err := pgTx.SendBatch(ctx, head).Close(); err != nil {
		return fmt.Errorf("lock head: %w", err)
	}
	store.ChainAudit(seq, hash, time.Now(), entries)
	rows := &pgx.Batch{}
	for _, e := range entries {
		rows.Queue(insertAuditSQL, e.Seq, e.Time.UnixMicro(), nonNil(e.Patients), e.Body, e.PrevHash, e.Hash)
		for _, p := range e.Patients {
			rows.Queue(insertAuditPSQL, p, e.Seq)
		}
	}
	if err := pgTx.SendBatch(ctx, rows).Close(); err != nil {
		return fmt.Errorf("insert from seq %d: %w", entries[0].Seq, err)
	}
	return nil
}

// ReadAudit returns the entries q selects.
func (s *Store) ReadAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	to := q.To
	if to <= 0 {
		to = math.MaxInt64
	}
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultAuditPage
	}
	// A patient's entries are read in the order of their audit_patient
	// rows (p.seq = e.seq), so the patient's index leads, not the journal.
	query, args, col := readAuditSQL, []any{q.From, to, limit}, "e.seq"
	if q.Patient != "" {
		query, args, col = readAuditPSQL, append(args, q.Patient), "p.seq"
	}
	if q.Newest {
		query += ` ORDER BY ` + col + ` DESC LIMIT $3`
	} else {
		query += ` ORDER BY ` + col + ` LIMIT $3`
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		var at int64
		err := row.Scan(&e.Seq, &at, &e.Patients, &e.Body, &e.PrevHash, &e.Hash)
		e.Time = time.UnixMicro(at).UTC()
		if len(e.Patients) == 0 {
			e.Patients = nil
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit: %w", err)
	}
	return list, nil
}

// PutAuditCheckpoint stores c unless a checkpoint at c.Seq exists.
func (s *Store) PutAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error {
	_, err := s.pool.Exec(ctx, putCheckpointSQL, c.Seq, c.Hash, c.Time.UnixMicro(), c.KeyID, c.Signature)
	if err != nil {
		return fmt.Errorf("postgres: put audit checkpoint %d: %w", c.Seq, err)
	}
	return nil
}

// AuditCheckpoints returns the checkpoints after seq after, in seq order.
func (s *Store) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]store.AuditCheckpoint, error) {
	var lim any // NULL: all
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, checkpointsSQL, after, lim)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit checkpoints: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditCheckpoint, error) {
		var c store.AuditCheckpoint
		var at int64
		err := row.Scan(&c.Seq, &c.Hash, &at, &c.KeyID, &c.Signature)
		c.Time = time.UnixMicro(at).UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: audit checkpoints: %w", err)
	}
	return list, nil
}

// nonNil makes a nil list empty: pgx sends a nil slice as NULL, which the
// NOT NULL column refuses.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
