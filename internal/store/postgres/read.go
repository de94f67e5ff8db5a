package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// querier is what reads need: the pool or a write transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const versionColumns = `v.seq, v.type, v.id, v.version_id, v.updated, v.deleted, v.method, v.writer, v.patient_key, v.body`

// currentColumns are versionColumns with the compartment taken from
// resource_current: a compartment moved by RekeyCompartment keeps its past
// versions' keys, and the current one is what access is decided on.
var currentColumns = strings.Replace(versionColumns, "v.patient_key", "c.patient_key", 1)

var readCurrentSQL = `SELECT ` + currentColumns + `
FROM resource_current c
JOIN resource_versions v ON v.type = c.type AND v.id = c.id AND v.version_id = c.version_id
WHERE c.type = $1 AND c.id = $2`

const readVersionSQL = `SELECT ` + versionColumns + `
FROM resource_versions v
WHERE v.type = $1 AND v.id = $2 AND v.version_id = $3`

// Read returns the current version of a resource, which may be a delete marker.
func (s *Store) Read(ctx context.Context, typ, id string) (store.Version, error) {
	return read(ctx, s.pool, typ, id)
}

// ReadVersion returns one version of a resource.
func (s *Store) ReadVersion(ctx context.Context, typ, id string, versionID int64) (store.Version, error) {
	return readVersion(ctx, s.pool, typ, id, versionID)
}

func read(ctx context.Context, q querier, typ, id string) (store.Version, error) {
	v, err := scanVersion(q.QueryRow(ctx, readCurrentSQL, typ, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Version{}, outcome.New(outcome.NotFound, "%s/%s is not known", typ, id)
	}
	if err != nil {
		return store.Version{}, fmt.Errorf("postgres: read %s/%s: %w", typ, id, err)
	}
	return v, nil
}

func readVersion(ctx context.Context, q querier, typ, id string, versionID int64) (store.Version, error) {
	v, err := scanVersion(q.QueryRow(ctx, readVersionSQL, typ, id, versionID))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Version{}, outcome.New(outcome.NotFound, "%s/%s/_history/%d is not known", typ, id, versionID)
	}
	if err != nil {
		return store.Version{}, fmt.Errorf("postgres: read %s/%s/_history/%d: %w", typ, id, versionID, err)
	}
	return v, nil
}

// scanVersion reads one row of versionColumns, after the columns lead
// scans into.
func scanVersion(row pgx.Row, lead ...any) (store.Version, error) {
	var (
		v       store.Version
		updated time.Time
		method  string
	)
	err := row.Scan(append(lead, &v.Seq, &v.Type, &v.ID, &v.VersionID, &updated, &v.Deleted, &method, &v.Writer, &v.PatientKey, &v.Body)...)
	if err != nil {
		return store.Version{}, err
	}
	v.Updated = updated.UTC()
	v.Method = store.Method(method)
	return v, nil
}
