package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// preparer gives reads their prepared statements: on the reader pool, or
// on the write transaction.
type preparer interface {
	stmt(ctx context.Context, query string) (*sql.Stmt, error)
}

func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	return s.readStmts.get(ctx, query)
}

// queryRow runs a prepared query expected to return one row.
func queryRow(ctx context.Context, p preparer, query string, args ...any) (store.Version, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return store.Version{}, err
	}
	return scanVersion(st.QueryRowContext(ctx, args...))
}

const versionColumns = `v.seq, v.type, v.id, v.version_id, v.updated, v.deleted, v.method, v.writer, v.patient_key, v.body`

// currentColumns are versionColumns with the compartment taken from
// resource_current: a compartment moved by RekeyCompartment keeps its past
// versions' keys, and the current one is what access is decided on.
var currentColumns = strings.Replace(versionColumns, "v.patient_key", "c.patient_key", 1)

var readCurrentSQL = `SELECT ` + currentColumns + `
FROM resource_current c
JOIN resource_versions v ON v.type = c.type AND v.id = c.id AND v.version_id = c.version_id
WHERE c.type = ? AND c.id = ?`

const readVersionSQL = `SELECT ` + versionColumns + `
FROM resource_versions v
WHERE v.type = ? AND v.id = ? AND v.version_id = ?`

// Read returns the current version of a resource, which may be a delete marker.
func (s *Store) Read(ctx context.Context, typ, id string) (store.Version, error) {
	return read(ctx, s, typ, id)
}

// ReadVersion returns one version of a resource.
func (s *Store) ReadVersion(ctx context.Context, typ, id string, versionID int64) (store.Version, error) {
	return readVersion(ctx, s, typ, id, versionID)
}

func read(ctx context.Context, p preparer, typ, id string) (store.Version, error) {
	v, err := queryRow(ctx, p, readCurrentSQL, typ, id)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Version{}, outcome.New(outcome.NotFound, "%s/%s is not known", typ, id)
	}
	if err != nil {
		return store.Version{}, fmt.Errorf("sqlite: read %s/%s: %w", typ, id, err)
	}
	return v, nil
}

func readVersion(ctx context.Context, p preparer, typ, id string, versionID int64) (store.Version, error) {
	v, err := queryRow(ctx, p, readVersionSQL, typ, id, versionID)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Version{}, outcome.New(outcome.NotFound, "%s/%s/_history/%d is not known", typ, id, versionID)
	}
	if err != nil {
		return store.Version{}, fmt.Errorf("sqlite: read %s/%s/_history/%d: %w", typ, id, versionID, err)
	}
	return v, nil
}

// scanVersion reads one row of versionColumns, after the columns lead
// scans into.
func scanVersion(row interface{ Scan(...any) error }, lead ...any) (store.Version, error) {
	var (
		v       store.Version
		updated int64
		method  string
	)
	err := row.Scan(append(lead, &v.Seq, &v.Type, &v.ID, &v.VersionID, &updated, &v.Deleted, &method, &v.Writer, &v.PatientKey, &v.Body)...)
	if err != nil {
		return store.Version{}, err
	}
	v.Updated = fromMicros(updated)
	v.Method = store.Method(method)
	return v, nil
}

// Times are stored as integer microseconds since the Unix epoch, UTC: exact,
// compact and ordered, unlike SQLite's text dates.
func toMicros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
