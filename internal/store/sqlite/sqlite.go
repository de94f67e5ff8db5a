package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/groupcommit"
	"github.com/ehealthplus/ehealth/internal/store/internal/sqlsearch"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationTable is goose's version table for this schema; it is named for
// the store so other components can keep their own migration streams.
const migrationTable = "store_schema_version"

// Store is a [store.Store] on one SQLite database file.
type Store struct {
	path    string
	writer  *sql.DB // exactly one connection: writers queue for it
	readers *sql.DB // read-only connections

	writeStmts, readStmts *stmtCache
	searchStmts           *lruStmts // the search engine's statements on the readers

	sqlsearch.Searcher // Search, Include, Explain, Visible

	stopCheckpoints func() // stops the background checkpointer and waits for it

	audit *groupcommit.Committer // batches AppendAudit calls (audit.go)
}

var _ store.Store = (*Store)(nil)

// Option configures [Open].
type Option func(*config)

type config struct {
	readers     int
	busyTimeout time.Duration
}

// WithReaders sets the number of read connections (default: GOMAXPROCS, at least 4).
func WithReaders(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.readers = n
		}
	}
}

// Open opens (creating if needed) the SQLite database at path. It does not
// migrate; call [Store.Migrate]. In-memory databases are refused: shared
// memory databases do not support WAL, so tests use a temporary file.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{readers: max(4, runtime.GOMAXPROCS(0)), busyTimeout: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if path == "" || strings.Contains(path, ":memory:") || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path (no URI, no :memory:)", path)
	}
	engine, err := sqlsearch.New(dialect, versionColumns)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{path: path}
	s.Searcher = sqlsearch.Searcher{Engine: engine, DB: searchDB{s}, Name: "sqlite"}
	// The writer goes first: it switches the file to WAL, which persists.
	if s.writer, err = openDB(ctx, path, cfg, true); err != nil {
		return nil, err
	}
	if s.readers, err = openDB(ctx, path, cfg, false); err != nil {
		s.writer.Close()
		return nil, err
	}
	s.writeStmts, s.readStmts = newStmtCache(s.writer), newStmtCache(s.readers)
	s.searchStmts = newLRUStmts(s.readers)
	s.stopCheckpoints = s.checkpoints(checkpointEvery)
	s.audit = groupcommit.Start(s.commitAudit, groupcommit.MaxEntries)
	return s, nil
}

// openDB opens a connection pool on path with the pragmas every connection
// needs. The writer pool has exactly one connection and begins IMMEDIATE
// transactions, so it takes the write lock up front rather than upgrading a
// read lock mid-transaction (which can fail with SQLITE_BUSY).
func openDB(ctx context.Context, path string, cfg config, writer bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Temporary tables, sorters and statement journals stay in memory
	// rather than in files.
	q.Add("_pragma", "temp_store(MEMORY)")
	// A page cache large enough for the hot index B-trees: with SQLite's
	// default of 2 MB, every indexed write re-reads evicted index pages
	// through syscalls (the import ran 5× slower). 64 MB per connection
	// is a budget, not an allocation.
	q.Add("_pragma", "cache_size(-65536)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
		// The background checkpointer (checkpoint.go) keeps the WAL short;
		// the writer checkpoints inside a commit only if it falls behind.
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutocheckpoint))
		// After a checkpoint lets the WAL restart, a commit truncates a
		// larger file back to this size.
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", journalSizeLimit))
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := cfg.readers
	if writer {
		n = 1
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if writer {
		var mode string
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			db.Close()
			return nil, fmt.Errorf("sqlite: open %s: journal mode %q, want wal: %v", path, mode, err)
		}
	}
	return db, nil
}

// Migrate brings the schema up to date. It is idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.writer, sub,
		goose.WithTableName(migrationTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", s.path, err)
	}
	return nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.readers.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping %s: %w", s.path, err)
	}
	return nil
}

// Close releases the database. Outstanding History streams must be finished first.
func (s *Store) Close() error {
	s.audit.Close()
	s.stopCheckpoints()
	return errors.Join(s.searchStmts.close(), s.readStmts.close(), s.writeStmts.close(), s.readers.Close(), s.writer.Close())
}
