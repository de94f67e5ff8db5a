package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	_ "modernc.org/sqlite" // the project's SQLite driver, for the queue's own file
)

// Queue says where the delivery jobs are kept: set exactly one field.
type Queue struct {
	// Postgres is the DSN of the store's PostgreSQL database; river's
	// tables are created there (rivermigrate) beside the store's.
	Postgres string
	// SQLite is the path of the job queue's own SQLite file, never the
	// store's: the store writes its file through one connection, and a
	// second writer on it would meet SQLITE_BUSY. See SQLiteQueuePath.
	SQLite string
}

// SQLiteQueuePath is where the job queue of a SQLite store at storePath
// is kept: a file beside it.
func SQLiteQueuePath(storePath string) string { return storePath + ".jobs.sqlite" }

// queueName is the river queue the notices' jobs run in, so the platform's
// other river jobs (if any share the database) keep their own.
const queueName = "notify"

// jobs is what the worker needs of a river client, whatever its driver.
type jobs interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// openQueue opens the queue's database, brings river's tables up to date
// and returns a client configured by cfg, with a function closing the
// database once the client is stopped.
func openQueue(ctx context.Context, q Queue, cfg *river.Config) (jobs, func(), error) {
	switch {
	case q.Postgres != "" && q.SQLite != "":
		return nil, nil, errors.New("notify: queue: set Postgres or SQLite, not both")
	case q.Postgres != "":
		pool, err := pgxpool.New(ctx, q.Postgres)
		if err != nil {
			return nil, nil, fmt.Errorf("notify: queue: open postgres: %w", err)
		}
		client, err := newClient(ctx, riverpgxv5.New(pool), cfg)
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return client, pool.Close, nil
	case q.SQLite != "":
		db, err := openSQLite(q.SQLite)
		if err != nil {
			return nil, nil, err
		}
		client, err := newClient(ctx, riversqlite.New(db), cfg)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return client, func() { db.Close() }, nil
	}
	return nil, nil, errors.New("notify: queue: no database (set Postgres or SQLite)")
}

// openSQLite opens the queue file with one connection, as riversqlite
// asks: SQLite runs one statement at a time, and river's services would
// otherwise contend with each other.
func openSQLite(path string) (*sql.DB, error) {
	if path == "" || strings.Contains(path, ":memory:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("notify: queue: sqlite path %q: want a plain file path", path)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("notify: queue: open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// newClient migrates river's tables through driver and makes a client.
func newClient[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], cfg *river.Config) (*river.Client[TTx], error) {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("notify: queue: migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("notify: queue: migrate river's tables: %w", err)
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("notify: queue: client: %w", err)
	}
	return client, nil
}
