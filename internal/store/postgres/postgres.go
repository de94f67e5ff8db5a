package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/groupcommit"
	"github.com/ehealthplus/ehealth/internal/store/internal/sqlsearch"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationTable is goose's version table for this schema; it is named for
// the store so other components can keep their own migration streams.
const migrationTable = "store_schema_version"

// migrationLockID is the advisory lock that serialises Migrate calls
// (crc32 of "ehealth/store"); goose polls for it once a second.
const migrationLockID = 0xc8cb97dc

// Store is a [store.Store] on a PostgreSQL database.
type Store struct {
	pool               *pgxpool.Pool
	sqlsearch.Searcher                        // Search, Include, Explain, Visible
	audit              *groupcommit.Committer // batches AppendAudit calls (audit.go)
}

var _ store.Store = (*Store)(nil)

// Open connects to the database dsn names (a URL or keyword/value DSN; pool
// settings such as pool_max_conns go in it too). It does not migrate; call
// [Store.Migrate].
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	// Plan every statement for its parameter values. pgx prepares and
	// caches statements, and after five runs PostgreSQL may switch one to a
	// generic plan, which estimates one row at every step whatever the
	// values: a patient-scoped search then reads every row of its code
	// through the code index instead of the patient's few through the
	// patient index (0.9 ms against hundreds at 1M resources). Planning
	// costs 1–3 ms a search. A DSN may still set plan_cache_mode itself.
	if _, ok := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	engine, err := sqlsearch.New(dialect, versionColumns)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool}
	s.Searcher = sqlsearch.Searcher{Engine: engine, DB: searchDB{s}, Name: "postgres"}
	s.audit = groupcommit.Start(s.commitAudit, groupcommit.MaxEntries)
	return s, nil
}

// Pool is the connection pool, for code that keeps tables of its own in the
// same database (search index rows, the audit journal).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Migrate brings the schema up to date. It is idempotent, and concurrent
// calls (several servers starting at once) are serialised by an advisory lock.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 600))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithTableName(migrationTable),
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close releases the pool. It waits for connections in use to come back, so
// History streams must be finished first.
func (s *Store) Close() error {
	s.audit.Close()
	s.pool.Close()
	return nil
}
