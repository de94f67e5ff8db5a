package postgres

import (
	"testing"

	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/postgres/pgtest"
	"github.com/ehealthplus/ehealth/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open returns a store on a new, empty database.
func open(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), pgtest.DSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(tb testing.TB) store.Store { return open(tb) })
}
