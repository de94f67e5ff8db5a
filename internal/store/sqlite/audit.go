package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// The audit journal ([store.AuditLog]) on tables audit_entry, audit_patient
// and audit_checkpoint (migrations/00007_audit.sql).
//
// Every append runs on the one writer connection, so the writer lock is the
// journal's head lock: the transaction reads the head (the row with the
// highest seq), chains its entries after it and inserts them, and no other
// append can come between. A Tx's appends ride on its transaction;
// Store.AppendAudit hands entries to the group committer (s.audit), whose
// transactions run with synchronous=FULL — the WAL is synced before the
// commit returns, so an entry survives a power cut as well as a crash —
// while the store's other writes keep synchronous=NORMAL. One sync per
// batch, not per append, is what the batching buys.

const (
	auditHeadSQL    = `SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1`
	insertAuditSQL  = `INSERT INTO audit_entry (seq, at_us, patients, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)`
	insertAuditPSQL = `INSERT INTO audit_patient (patient_key, seq) VALUES (?, ?) ON CONFLICT DO NOTHING`

	auditColumns  = `e.seq, e.at_us, e.patients, e.body, e.prev_hash, e.hash`
	readAuditSQL  = `SELECT ` + auditColumns + ` FROM audit_entry e WHERE e.seq >= ? AND e.seq <= ?`
	readAuditPSQL = `SELECT ` + auditColumns + ` FROM audit_patient p JOIN audit_entry e ON e.seq = p.seq
WHERE p.patient_key = ? AND p.seq >= ? AND p.seq <= ?`
	putCheckpointSQL = `INSERT INTO audit_checkpoint (seq, hash, at_us, key_id, signature) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (seq) DO NOTHING`
	checkpointsSQL = `SELECT seq, hash, at_us, key_id, signature FROM audit_checkpoint WHERE seq > ? ORDER BY seq LIMIT ?`
)

// AppendAudit appends entries durably, batched with concurrent appends.
func (s *Store) AppendAudit(ctx context.Context, entries []store.AuditEntry) error {
	if err := s.audit.Append(ctx, entries); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	return nil
}

// AppendAudit appends entries in the write transaction.
func (t *tx) AppendAudit(ctx context.Context, entries []store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := store.CheckAuditEntries(entries); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	ptrs := make([]*store.AuditEntry, len(entries))
	for i := range entries {
		ptrs[i] = &entries[i]
	}
	if err := appendAudit(ctx, t.tx, ptrs); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	return nil
}

// commitAudit is the group committer's transaction: entries chained after
// the head, committed with the WAL synced.
func (s *Store) commitAudit(ctx context.Context, entries []*store.AuditEntry) error {
	// The pool's one connection: held from here to the end, so the pragma
	// and the transaction run on it and no other write comes between.
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// synchronous cannot change inside a transaction; set it around one.
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = NORMAL")
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := appendAudit(ctx, sqlTx, entries); err != nil {
		sqlTx.Rollback()
		return err
	}
	return sqlTx.Commit()
}

// appendAudit chains entries after the journal's head and inserts them, in
// a transaction on the writer connection (which holds the head for it).
// Statements are prepared on the transaction: the writer's statement cache
// cannot prepare while its one connection is taken.
func appendAudit(ctx context.Context, tx *sql.Tx, entries []*store.AuditEntry) error {
	seq, hash := int64(0), store.AuditGenesis
	err := tx.QueryRowContext(ctx, auditHeadSQL).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read head: %w", err)
	}
	store.ChainAudit(seq, hash, time.Now(), entries)
	insert, err := tx.PrepareContext(ctx, insertAuditSQL)
	if err != nil {
		return err
	}
	defer insert.Close()
	var insertPatient *sql.Stmt
	for _, e := range entries {
		patients, err := json.Marshal(nonNil(e.Patients))
		if err != nil {
			return err
		}
		if _, err := insert.ExecContext(ctx, e.Seq, toMicros(e.Time), string(patients), e.Body, e.PrevHash, e.Hash); err != nil {
			return fmt.Errorf("insert seq %d: %w", e.Seq, err)
		}
		for _, p := range e.Patients {
			if insertPatient == nil {
				if insertPatient, err = tx.PrepareContext(ctx, insertAuditPSQL); err != nil {
					return err
				}
				defer insertPatient.Close()
			}
			if _, err := insertPatient.ExecContext(ctx, p, e.Seq); err != nil {
				return fmt.Errorf("index seq %d: %w", e.Seq, err)
			}
		}
	}
	return nil
}

// ReadAudit returns the entries q selects.
func (s *Store) ReadAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	list, err := s.readAudit(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit: %w", err)
	}
	return list, nil
}

func (s *Store) readAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	// A patient's entries are read in the order of their audit_patient
	// rows (p.seq = e.seq), so the patient's index leads, not the journal.
	query, args, col := readAuditSQL, []any{}, "e.seq"
	if q.Patient != "" {
		query, args, col = readAuditPSQL, []any{q.Patient}, "p.seq"
	}
	to := q.To
	if to <= 0 {
		to = math.MaxInt64
	}
	order := " ORDER BY " + col + " LIMIT ?"
	if q.Newest {
		order = " ORDER BY " + col + " DESC LIMIT ?"
	}
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultAuditPage
	}
	st, err := s.stmt(ctx, query+order)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, append(args, q.From, to, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		var patients string
		if err := rows.Scan(&e.Seq, &at, &patients, &e.Body, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.Time = fromMicros(at)
		if err := json.Unmarshal([]byte(patients), &e.Patients); err != nil {
			return nil, fmt.Errorf("seq %d: patients: %w", e.Seq, err)
		}
		if len(e.Patients) == 0 {
			e.Patients = nil
		}
		list = append(list, e)
	}
	return list, rows.Err()
}

// PutAuditCheckpoint stores c unless a checkpoint at c.Seq exists.
func (s *Store) PutAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error {
	err := s.writeKeys(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, putCheckpointSQL, c.Seq, c.Hash, toMicros(c.Time), c.KeyID, c.Signature)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put audit checkpoint %d: %w", c.Seq, err)
	}
	return nil
}

// AuditCheckpoints returns the checkpoints after seq after, in seq order.
func (s *Store) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]store.AuditCheckpoint, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	st, err := s.stmt(ctx, checkpointsSQL)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit checkpoints: %w", err)
	}
	rows, err := st.QueryContext(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit checkpoints: %w", err)
	}
	defer rows.Close()
	var list []store.AuditCheckpoint
	for rows.Next() {
		var c store.AuditCheckpoint
		var at int64
		if err := rows.Scan(&c.Seq, &c.Hash, &at, &c.KeyID, &c.Signature); err != nil {
			return nil, fmt.Errorf("sqlite: audit checkpoints: %w", err)
		}
		c.Time = fromMicros(at)
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: audit checkpoints: %w", err)
	}
	return list, nil
}

// nonNil makes a nil list empty, so it is stored as [] rather than null.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
