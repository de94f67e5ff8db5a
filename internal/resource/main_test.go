package resource_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/postgres"
	"github.com/ehealthplus/ehealth/internal/store/postgres/pgtest"
	"github.com/ehealthplus/ehealth/internal/store/sqlite"
	"github.com/ehealthplus/ehealth/internal/terminology"
	"github.com/ehealthplus/ehealth/internal/validate"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var backends = []struct {
	name string
	open func(tb testing.TB) store.Store
}{
	{"sqlite", func(tb testing.TB) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "bench.db"))
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

func newService(tb testing.TB, st store.Store) *resource.Service {
	tb.Helper()
	if err := st.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	terms, err := terminology.Load()
	if err != nil {
		tb.Fatal(err)
	}
	registry := search.NewRegistry()
	return resource.New(st, validate.New(terms),
		resource.WithIndexer(search.NewIndexer(registry, search.Extractor{})),
		resource.WithSearch(registry, nil))
}

func parse(tb testing.TB, s string) map[string]any {
	tb.Helper()
	m, err := fhir.Parse([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}
