package oracle

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ehealthplus/ehealth/internal/bulkload"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// queriesPer is how many random queries each backend gets (fewer under -short).
var queriesPer = map[string]int{"sqlite": 3000, "postgres": 2000}

// syntheaDir holds the Synthea sample: provider bundles and one
// transaction Bundle per patient.
const syntheaDir = "../../../../shared/testdata/synthea/smart-sample/"

// syntheaFiles are the provider bundles (first, as Synthea requires) and
// eight patients, about 1,600 resources of ten types.
var syntheaFiles = []string{
	"hospitalInformation1559319163815.json.gz",
	"practitionerInformation1559319163815.json.gz",
	"Luigi_Wiegand_e27d88b0-c5e5-4042-ad49-184f6a900ee3.json.gz",
	"Michael_Kihn_376f9fc0-ecd8-468a-ad93-3534a14561a3.json.gz",
	"Dannie_Schmitt_22d6efc6-2dc7-4f36-9d27-84fc6609c469.json.gz",
	"Jacob_Larson_0b324782-31d1-4659-89ab-58e075d6e61f.json.gz",
	"Wiley_Wisoky_0dae4422-bf65-475b-8d93-4c1382168951.json.gz",
	"Lupe_Little_f8a42e66-8c03-4ee6-85e3-3817c2942de1.json.gz",
	"Claudie_Walsh_498377b3-e385-40ab-9acd-06b657e2f599.json.gz",
	"Gloria_Covarrubias_15044ad5-0e57-4c20-b927-87490a5e8827.json.gz",
}

// fixture is a server loaded with the sample and the oracle over what it
// holds.
type fixture struct {
	svc      *resource.Service
	oracle   *Oracle
	patients []string // every Patient id, sorted
}

// searchable are the parameter types the oracle evaluates; composite
// parameters, chains and the special parameters without an expression
// are left out (near, Location.position, is in).
var searchable = []search.ParamType{search.Token, search.String, search.Date, search.Number, search.Quantity, search.Reference, search.URI, search.Special}

func newFixture(t *testing.T, st store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	svc := platformtest.Open(t, st).Service
	reg := search.NewRegistry()
	files := make([]string, len(syntheaFiles))
	for i, f := range syntheaFiles {
		files[i] = filepath.Join(syntheaDir, f)
		if _, err := os.Stat(files[i]); err != nil {
			t.Skipf("the Synthea sample is not present (../shared): %v", err)
		}
	}
	sum, err := bulkload.New(svc, bulkload.Options{}).Load(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sum.Rejected {
		t.Errorf("load %s %s: %s", filepath.Base(r.File), r.Where, r.Reason)
	}
	res := readBack(t, svc)
	if len(res) == 0 {
		t.Fatal("nothing loaded")
	}
	f := &fixture{svc: svc, oracle: New(res, paramsOf(reg, res))}
	for _, r := range f.oracle.Resources("Patient") {
		f.patients = append(f.patients, r.ID)
	}
	t.Logf("loaded %d resources, %d patients", len(res), len(f.patients))
	return f
}

// readBack reads every current resource from the server's history, so the
// oracle holds exactly what the server does, with the server's ids. The
// patient key is computed from the compartment definition and held against
// the one the server recorded.
func readBack(t *testing.T, svc *resource.Service) []Resource {
	t.Helper()
	versions, err := svc.History(context.Background(), resource.Caller{}, store.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []Resource
	for v, err := range versions {
		if err != nil {
			t.Fatal(err)
		}
		key := v.Type + "/" + v.ID
		if seen[key] { // history is newest first: the first seen is current
			continue
		}
		seen[key] = true
		if v.Deleted {
			continue
		}
		body, err := fhir.Parse(v.Body)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		r := Resource{Type: v.Type, ID: v.ID, Body: body}
		if refs := fhir.PatientRefs(body); len(refs) > 0 {
			r.PatientKey = refs[0]
		}
		if r.PatientKey != v.PatientKey {
			t.Errorf("%s: the server recorded patient key %q, the compartment gives %q", key, v.PatientKey, r.PatientKey)
		}
		out = append(out, r)
	}
	return out
}

// paramsOf lists, for each type present, the registry's parameters of the
// types the oracle evaluates.
func paramsOf(reg *search.Registry, res []Resource) map[string][]Param {
	out := map[string][]Param{}
	for _, r := range res {
		if _, ok := out[r.Type]; ok {
			continue
		}
		ps := []Param{}
		for _, p := range reg.ForType(r.Type) {
			if !slices.Contains(searchable, p.Type) || (p.Expression == "" && p.Code != "_id") {
				continue
			}
			ps = append(ps, Param{Code: p.Code, Type: string(p.Type), Expression: p.Expression})
		}
		out[r.Type] = ps
	}
	return out
}
