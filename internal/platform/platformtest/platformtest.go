// Package platformtest builds the platform over each storage backend for
// the test suites that must run against both (API, service, import,
// search oracle). A package using it calls Main from its TestMain, so the
// throwaway PostgreSQL server is stopped at the end.
package platformtest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/postgres"
	"github.com/ehealthplus/ehealth/internal/store/postgres/pgtest"
	"github.com/ehealthplus/ehealth/internal/store/sqlite"
)

// Main runs the tests of a package, then stops the PostgreSQL server if
// one was started.
func Main(m *testing.M) { pgtest.Main(m) }

// Backend opens a fresh, empty store of one kind for a test.
type Backend struct {
	Name string
	Open func(tb testing.TB) store.Store
}

// Backends are SQLite (a file in the test's temp dir) and PostgreSQL (a
// new database on the throwaway server; the test skips where PostgreSQL is
// not installed).
var Backends = []Backend{
	{"sqlite", func(tb testing.TB) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "test.db"))
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}},
	{"postgres", func(tb testing.TB) store.Store {
		st, err := postgres.Open(context.Background(), pgtest.DSN(tb))
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}},
}

// Open assembles the platform over st, which it closes when the test ends.
func Open(tb testing.TB, st store.Store) *platform.Platform {
	tb.Helper()
	tb.Cleanup(func() { st.Close() })
	return OpenShared(tb, st)
}

// OpenShared assembles the platform over st and leaves st open: a second
// platform over one store is the server restarted.
func OpenShared(tb testing.TB, st store.Store) *platform.Platform {
	tb.Helper()
	p, err := platform.Open(context.Background(), st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}
