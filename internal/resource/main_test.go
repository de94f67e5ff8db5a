package resource_test

import (
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

var backends = platformtest.Backends

func newService(tb testing.TB, st store.Store) *resource.Service {
	tb.Helper()
	return platformtest.Open(tb, st).Service
}

func parse(tb testing.TB, s string) map[string]any {
	tb.Helper()
	m, err := fhir.Parse([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}
