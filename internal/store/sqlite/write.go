package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/putcheck"
)

// Write runs fn in one transaction on the single writer connection.
// Concurrent callers wait (honouring ctx) for that connection, so they queue
// rather than fail with SQLITE_BUSY. fn must not call s.Write itself: it
// would wait for the connection it holds. If fn returns an error or panics,
// everything it wrote is rolled back and the error (or panic) is passed on.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) (err error) {
	if err := s.writeStmts.prepareAll(ctx, txQueries); err != nil {
		return fmt.Errorf("sqlite: prepare write: %w", err)
	}
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin write: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			sqlTx.Rollback()
		}
	}()
	if err := fn(&tx{tx: sqlTx, stmts: s.writeStmts}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit write: %w", err)
	}
	committed = true
	return nil
}

// tx is a [store.Tx] on the writer connection.
type tx struct {
	tx    *sql.Tx
	stmts *stmtCache
}

// txQueries are the statements a transaction runs, prepared before it begins.
var txQueries = append([]string{readCurrentSQL, readVersionSQL, createCurrentSQL, advanceCurrentSQL, insertVersionSQL},
	indexQueries()...)

// stmt returns query prepared on the writer connection, bound to this transaction.
func (t *tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := t.stmts.lookup(query); st != nil {
		return t.tx.StmtContext(ctx, st), nil
	}
	return t.tx.PrepareContext(ctx, query)
}

func (t *tx) Read(ctx context.Context, typ, id string) (store.Version, error) {
	return read(ctx, t, typ, id)
}

func (t *tx) ReadVersion(ctx context.Context, typ, id string, versionID int64) (store.Version, error) {
	return readVersion(ctx, t, typ, id, versionID)
}

const (
	createCurrentSQL = `INSERT INTO resource_current (type, id, version_id, updated, deleted, patient_key, writer)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (type, id) DO NOTHING RETURNING rid`
	advanceCurrentSQL = `UPDATE resource_current SET version_id = ?, updated = ?, deleted = ?, patient_key = ?, writer = ?
WHERE type = ? AND id = ? AND version_id = ? RETURNING rid`
	insertVersionSQL = `INSERT INTO resource_versions (type, id, version_id, updated, deleted, method, writer, patient_key, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`
)

// Put moves the current-version pointer from expect to v.VersionID (a
// conditional write: no row moves if another version is current), appends
// the version and replaces the resource's search index rows with v.Index.
func (t *tx) Put(ctx context.Context, v *store.Version, expect int64) error {
	if err := putcheck.Validate(v, expect); err != nil {
		return err
	}
	updated := toMicros(v.Updated)
	query, args := createCurrentSQL, []any{v.Type, v.ID, v.VersionID, updated, v.Deleted, v.PatientKey, v.Writer}
	if expect > 0 {
		query, args = advanceCurrentSQL, []any{v.VersionID, updated, v.Deleted, v.PatientKey, v.Writer, v.Type, v.ID, expect}
	}
	var rid int64
	move, err := t.stmt(ctx, query)
	if err == nil {
		err = move.QueryRowContext(ctx, args...).Scan(&rid)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return putcheck.Conflict(v, expect)
	}
	if err != nil {
		return fmt.Errorf("sqlite: put %s/%s: %w", v.Type, v.ID, err)
	}
	insert, err := t.stmt(ctx, insertVersionSQL)
	if err == nil {
		err = insert.QueryRowContext(ctx, v.Type, v.ID, v.VersionID, updated, v.Deleted,
			string(v.Method), v.Writer, v.PatientKey, bodyArg(v)).Scan(&v.Seq)
	}
	if err != nil {
		return fmt.Errorf("sqlite: put %s/%s/_history/%d: %w", v.Type, v.ID, v.VersionID, err)
	}
	if err := t.index(ctx, v, rid, expect > 0); err != nil {
		return fmt.Errorf("sqlite: index %s/%s/_history/%d: %w", v.Type, v.ID, v.VersionID, err)
	}
	return nil
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// bodyArg is the body column value: NULL for a delete marker.
func bodyArg(v *store.Version) any {
	if v.Deleted {
		return nil
	}
	return v.Body
}
