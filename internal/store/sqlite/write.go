package sqlite

import (
	"cmp"
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

// The statements of Put carry no RETURNING: SQLite runs a RETURNING
// clause as a trigger, so such a statement opens a statement transaction,
// and each one opened makes FTS5 flush the full-text terms pending in the
// transaction to a new segment on disk (a segment per resource, merged
// again and again) instead of once at commit. rid and seq are read from
// the connection (LastInsertId, RowsAffected) instead.
const (
	createCurrentSQL = `INSERT INTO resource_current (type, id, version_id, updated, deleted, patient_key, writer)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (type, id) DO NOTHING`
	advanceCurrentSQL = `UPDATE resource_current SET version_id = ?, updated = ?, deleted = ?, patient_key = ?, writer = ?
WHERE type = ? AND id = ? AND version_id = ?`
	insertVersionSQL = `INSERT INTO resource_versions (type, id, version_id, updated, deleted, method, writer, patient_key, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// Put moves the current-version pointer from expect to v.VersionID (a
// conditional write: no row moves if another version is current), appends
// the version and replaces the resource's search index rows with v.Index.
func (t *tx) Put(ctx context.Context, v *store.Version, expect int64) error {
	if err := putcheck.Validate(v, expect); err != nil {
		return err
	}
	rid, err := t.moveCurrent(ctx, v, expect)
	if errors.Is(err, sql.ErrNoRows) {
		return putcheck.Conflict(v, expect)
	}
	if err != nil {
		return fmt.Errorf("sqlite: put %s/%s: %w", v.Type, v.ID, err)
	}
	res, err := t.exec(ctx, insertVersionSQL, v.Type, v.ID, v.VersionID, toMicros(v.Updated), v.Deleted,
		string(v.Method), v.Writer, v.PatientKey, bodyArg(v))
	if err == nil {
		v.Seq, err = res.LastInsertId()
	}
	if err != nil {
		return fmt.Errorf("sqlite: put %s/%s/_history/%d: %w", v.Type, v.ID, v.VersionID, err)
	}
	if err := t.index(ctx, v, rid, expect > 0); err != nil {
		return fmt.Errorf("sqlite: index %s/%s/_history/%d: %w", v.Type, v.ID, v.VersionID, err)
	}
	return nil
}

// moveCurrent creates (expect 0) or advances the current-version row of
// v's resource and returns its rid; sql.ErrNoRows when expect is not
// current.
func (t *tx) moveCurrent(ctx context.Context, v *store.Version, expect int64) (int64, error) {
	updated := toMicros(v.Updated)
	if expect == 0 {
		res, err := t.exec(ctx, createCurrentSQL, v.Type, v.ID, v.VersionID, updated, v.Deleted, v.PatientKey, v.Writer)
		if err != nil {
			return 0, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return 0, cmp.Or(err, sql.ErrNoRows)
		}
		return res.LastInsertId()
	}
	res, err := t.exec(ctx, advanceCurrentSQL, v.VersionID, updated, v.Deleted, v.PatientKey, v.Writer, v.Type, v.ID, expect)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, cmp.Or(err, sql.ErrNoRows)
	}
	var rid int64
	st, err := t.stmt(ctx, currentRIDSQL)
	if err == nil {
		var deleted bool
		var patientKey string
		err = st.QueryRowContext(ctx, v.Type, v.ID).Scan(&rid, &deleted, &patientKey)
	}
	return rid, err
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
