package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvDSN names the environment variable that, when set to a DSN, makes
// pgtest create its databases on that server instead of starting one. The
// DSN's user must be allowed to CREATE DATABASE.
const EnvDSN = "EHEALTH_TEST_POSTGRES"

// The process-wide server: TestMain's lifetime is the only lifetime a test
// helper has, so this is the one piece of package state.
var (
	mainRunning atomic.Bool
	startOnce   sync.Once
	shared      *cluster
	startErr    error
	dbCounter   atomic.Int64
)

// cluster is a server DSN can create databases on.
type cluster struct {
	baseDSN string        // DSN of the admin database; a test's DSN differs in dbname
	admin   *pgxpool.Pool // runs CREATE/DROP DATABASE
	local   *server       // nil when the server is external
}

// Main runs the tests and then stops the server (if one was started) and
// removes its directory. Call it from TestMain.
func Main(m *testing.M) {
	mainRunning.Store(true)
	code := m.Run()
	if shared != nil {
		shared.admin.Close()
		if shared.local != nil {
			if err := shared.local.stop(); err != nil {
				fmt.Fprintln(os.Stderr, "pgtest:", err)
			}
		}
	}
	os.Exit(code)
}

// DSN returns the DSN of a new, empty database for this test, dropped when
// the test ends. It skips the test when no PostgreSQL is installed and
// EHEALTH_TEST_POSTGRES is not set.
func DSN(tb testing.TB) string {
	tb.Helper()
	c := start(tb)
	name := dbName(tb.Name())
	ctx, cancel := context.WithTimeout(tb.Context(), time.Minute)
	defer cancel()
	if _, err := c.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends sessions a test left open, so a leak cannot fail the drop.
		if _, err := c.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDBName(c.baseDSN, name)
}

// start returns the shared cluster, starting it on first use.
func start(tb testing.TB) *cluster {
	tb.Helper()
	external := os.Getenv(EnvDSN)
	if external == "" && !mainRunning.Load() {
		tb.Fatal("pgtest: call pgtest.Main(m) from TestMain, so the server is stopped when the tests end")
	}
	bin := ""
	if external == "" {
		if bin = findBin(); bin == "" {
			tb.Skip("postgres: no initdb under /usr/lib/postgresql/*/bin; install postgresql to run")
		}
	}
	startOnce.Do(func() {
		shared, startErr = newCluster(external, bin)
	})
	if startErr != nil {
		tb.Fatalf("pgtest: %v", startErr)
	}
	return shared
}

// newCluster connects to the external server, or starts a local one.
func newCluster(external, bin string) (*cluster, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := &cluster{baseDSN: external}
	if external == "" {
		srv, err := startServer(ctx, bin)
		if err != nil {
			return nil, err
		}
		c.local, c.baseDSN = srv, srv.dsn("postgres")
	}
	cfg, err := pgxpool.ParseConfig(c.baseDSN)
	if err != nil {
		c.stopLocal()
		return nil, fmt.Errorf("parse DSN: %w", err)
	}
	cfg.MaxConns = 4
	if c.admin, err = pgxpool.NewWithConfig(ctx, cfg); err == nil {
		err = c.admin.Ping(ctx)
	}
	if err != nil {
		c.stopLocal()
		return nil, fmt.Errorf("connect to %s: %w", redact(c.baseDSN), err)
	}
	return c, nil
}

func (c *cluster) stopLocal() {
	if c.local != nil {
		c.local.stop()
	}
}

// dbName makes a unique database name from a test name: lower-case letters,
// digits and underscores, within PostgreSQL's 63-byte limit.
func dbName(testName string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "t%d_", dbCounter.Add(1))
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 63 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// withDBName returns dsn (URL or keyword/value form) pointing at database name.
func withDBName(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // the last setting of a keyword wins
}

// redact hides a password in a URL DSN for error messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}
