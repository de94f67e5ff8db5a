package deposit_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/deposit"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/synthea"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

var backends = platformtest.Backends

// clinic is the clinic's system client.
func clinic() resource.Caller {
	org := "Organization/clinic"
	return resource.Caller{Writer: org, Access: &store.Access{NonPatient: true, Writers: []string{org}},
		Grants: &resource.Grants{Scopes: scope.MustParse("system/*.cruds")}, Who: resource.Who{Org: org}}
}

// syntheaBundles are the Synthea patient Bundles in ../shared (skipped
// when absent).
func syntheaBundles(tb testing.TB) []map[string]any {
	tb.Helper()
	files, _ := filepath.Glob("../../../shared/testdata/synthea/*/*.json.gz")
	var out []map[string]any
	for _, f := range files {
		file, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		b, err := synthea.Read(file)
		file.Close()
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := synthea.Convert(b, synthea.Options{Organization: "clinic"}); err == nil {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		tb.Skip("../shared/testdata/synthea is not here")
	}
	return out
}

// register registers the converted citizen as the platform does.
func register(tb testing.TB, p *platform.Platform, c synthea.Converted) string {
	tb.Helper()
	reg, err := registry.ParseRegistration(nil, c.Registration)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := p.Registry.Register(context.Background(), resource.Caller{Writer: "operator"}, reg)
	if err != nil {
		tb.Fatal(err)
	}
	return out.Patient["id"].(string)
}

// newDeposit is the deposit service over a fresh platform.
func newDeposit(tb testing.TB, st store.Store, opts ...deposit.Option) (*platform.Platform, *deposit.Service) {
	tb.Helper()
	p := platformtest.Open(tb, st)
	return p, deposit.New(p.Service, p.Registry, opts...)
}
