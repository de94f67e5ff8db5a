package demo_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/bulkload"
	"github.com/ehealthplus/ehealth/internal/demo"
	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/registry"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// collect is a Writer that keeps what it is given, in order.
type collect struct {
	order []string // "Type/id"
	byTyp map[string][]map[string]any
}

func (c *collect) Write(typ string, res map[string]any) error {
	if c.byTyp == nil {
		c.byTyp = map[string][]map[string]any{}
	}
	id, _ := res["id"].(string)
	c.order = append(c.order, typ+"/"+id)
	c.byTyp[typ] = append(c.byTyp[typ], res)
	return nil
}

func generate(t *testing.T, cfg demo.Config) *collect {
	t.Helper()
	var c collect
	if err := demo.Generate(cfg, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// files generates into a temp dir and returns each file's bytes by name.
func files(t *testing.T, cfg demo.Config) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	list, err := demo.GenerateDir(context.Background(), cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range list {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func TestDeterministic(t *testing.T) {
	base := demo.Config{Citizens: 150, Seed: 42}
	first := files(t, base)
	t.Run("same seed", func(t *testing.T) {
		again := files(t, base)
		if len(again) != len(first) {
			t.Fatalf("%d files, want %d", len(again), len(first))
		}
		for name, b := range first {
			if !bytes.Equal(again[name], b) {
				t.Errorf("%s differs for the same seed", name)
			}
		}
	})
	t.Run("other seed", func(t *testing.T) {
		other := files(t, demo.Config{Citizens: 150, Seed: 43})
		for _, name := range []string{"Patient.ndjson", "Encounter.ndjson", "Practitioner.ndjson"} {
			if bytes.Equal(other[name], first[name]) {
				t.Errorf("%s is the same for another seed", name)
			}
		}
	})
}

func TestIdentityDocuments(t *testing.T) {
	c := generate(t, demo.Config{Citizens: 2000, Seed: 7})
	seen := map[string]bool{}
	end := demo.DefaultEnd
	for _, p := range c.byTyp["Patient"] {
		ids := p["identifier"].([]any)
		if len(ids) != 1 {
			t.Fatalf("%s: %d identifiers", p["id"], len(ids))
		}
		doc, err := identity.FromIdentifier(ids[0].(map[string]any))
		if err != nil {
			t.Fatalf("%s: %v", p["id"], err)
		}
		if seen[doc.Number] {
			t.Errorf("%s: document number used twice", p["id"])
		}
		seen[doc.Number] = true
		birth, _ := time.ParseInLocation(time.DateOnly, p["birthDate"].(string), registry.HongKong)
		wantKind := identity.HKID
		if registry.Age(birth, end) < 11 {
			wantKind = identity.BirthCertificate
		}
		if doc.Kind != wantKind {
			t.Errorf("%s aged %d has a %s", p["id"], registry.Age(birth, end), doc.Kind)
		}
	}
	if len(seen) != 2000 {
		t.Errorf("%d documents, want 2000", len(seen))
	}
}

// TestAgePyramid checks broad age bands and sexes against the 2021 census
// figures the generator states (doc.go, pyramid.go), within 2.5 points.
func TestAgePyramid(t *testing.T) {
	c := generate(t, demo.Config{Citizens: 2000, Seed: 11})
	bands := []struct {
		from, to int
		want     float64 // per cent of the census table
	}{
		{0, 15, 13.1 / 101 * 100},
		{15, 65, 68.6 / 101 * 100},
		{65, 200, 19.3 / 101 * 100},
	}
	counts := make([]int, len(bands))
	female := 0
	for _, p := range c.byTyp["Patient"] {
		birth, _ := time.ParseInLocation(time.DateOnly, p["birthDate"].(string), registry.HongKong)
		age := registry.Age(birth, demo.DefaultEnd)
		for i, b := range bands {
			if age >= b.from && age < b.to {
				counts[i]++
			}
		}
		if p["gender"] == "female" {
			female++
		}
	}
	for i, b := range bands {
		got := float64(counts[i]) / 20
		if got < b.want-2.5 || got > b.want+2.5 {
			t.Errorf("ages %d-%d: %.1f%%, want %.1f%% ± 2.5", b.from, b.to, got, b.want)
		}
	}
	// The census's 845 males per 1,000 females: 54.2% female.
	if got := float64(female) / 20; got < 51.2 || got > 57.2 {
		t.Errorf("female %.1f%%, want 54.2%% ± 3", got)
	}
}

// TestChildrenHaveParentSDM: every citizen under 16 has a parent as
// substitute decision maker whose authority holds today, and a parent who
// is a citizen of the run links to it.
func TestChildrenHaveParentSDM(t *testing.T) {
	c := generate(t, demo.Config{Citizens: 600, Seed: 3})
	sdm := map[string]map[string]any{}
	for _, rp := range c.byTyp["RelatedPerson"] {
		sdm[rp["patient"].(map[string]any)["reference"].(string)] = rp
	}
	linked := map[string]bool{}
	for _, p := range c.byTyp["Patient"] {
		links, _ := p["link"].([]any)
		for _, l := range links {
			linked[l.(map[string]any)["other"].(map[string]any)["reference"].(string)] = true
		}
	}
	children, withCitizenParent := 0, 0
	for _, p := range c.byTyp["Patient"] {
		birth, _ := time.ParseInLocation(time.DateOnly, p["birthDate"].(string), registry.HongKong)
		if registry.Age(birth, demo.DefaultEnd.Add(-time.Hour)) >= registry.AgeOfConsent {
			continue
		}
		children++
		rp, ok := sdm["Patient/"+p["id"].(string)]
		if !ok {
			t.Errorf("child %s has no SDM", p["id"])
			continue
		}
		role, ok := registry.Authority(rp, demo.DefaultEnd.Add(-time.Hour))
		if !ok || role.Code != "parent" {
			t.Errorf("child %s: SDM authority %v %v, want a parent's", p["id"], role.Code, ok)
		}
		if _, ok := rp["identifier"]; ok {
			withCitizenParent++
			if !linked["RelatedPerson/"+rp["id"].(string)] {
				t.Errorf("child %s: the parent's Patient does not link to %s", p["id"], rp["id"])
			}
		}
	}
	if children < 40 || withCitizenParent < children/2 {
		t.Errorf("%d children, %d with a parent who is a citizen: too few", children, withCitizenParent)
	}
}

// TestStreams shows the generator holds no population: each citizen's
// records reach the Writer before the citizen a block later is drawn.
func TestStreams(t *testing.T) {
	c := generate(t, demo.Config{Citizens: 3 * demo.Block, Seed: 5})
	firstPatient := map[int]int{} // citizen → position of its Patient
	lastRecord := map[int]int{}   // citizen → position of its last record
	for i, key := range c.order {
		_, id, _ := strings.Cut(key, "/")
		var n int
		if _, err := fmt.Sscanf(id, "c%07d", &n); err != nil {
			continue // a provider
		}
		if strings.HasPrefix(key, "Patient/") {
			firstPatient[n] = i
		}
		lastRecord[n] = i
	}
	for n := 0; n+demo.Block < 3*demo.Block; n++ {
		if lastRecord[n] > firstPatient[n+demo.Block] {
			t.Fatalf("citizen %d's records came after citizen %d was written: the population is held", n, n+demo.Block)
		}
	}
}

func TestRecordsPerCitizen(t *testing.T) {
	tests := []int{20, 50}
	for _, want := range tests {
		t.Run(fmt.Sprint(want), func(t *testing.T) {
			c := generate(t, demo.Config{Citizens: 500, Seed: 9, RecordsPerCitizen: want})
			total := 0
			for typ, list := range c.byTyp {
				switch typ {
				case "Organization", "Location", "Practitioner", "PractitionerRole":
				default:
					total += len(list)
				}
			}
			got := float64(total) / 500
			if got < 0.8*float64(want) || got > 1.2*float64(want) {
				t.Errorf("%.1f records per citizen, want %d ± 20%%", got, want)
			}
		})
	}
}

// TestLoadsWithoutRejection loads a 50-citizen territory through the
// resource service (validation, indexing, consent hooks) on each backend:
// every resource must be accepted.
func TestLoadsWithoutRejection(t *testing.T) {
	list, err := demo.GenerateDir(context.Background(), demo.Config{Citizens: 50, Seed: 1}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, f := range list {
		b, _ := os.ReadFile(f)
		want += bytes.Count(b, []byte("\n"))
	}
	workers := map[string]int{"sqlite": 1, "postgres": 4}
	for _, be := range platformtest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			svc := platformtest.Open(t, be.Open(t)).Service
			sum, err := bulkload.New(svc, bulkload.Options{Workers: workers[be.Name]}).Load(context.Background(), list)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range sum.Rejected {
				if i < 20 {
					t.Errorf("rejected %s %s: %s", filepath.Base(r.File), r.Where, r.Reason)
				}
			}
			if sum.Resources != int64(want) {
				t.Errorf("loaded %d resources, want %d (%d rejected)", sum.Resources, want, len(sum.Rejected))
			}
		})
	}
}

// liveHeap is a Writer that discards what it is given and, at each
// citizen's Patient, measures the live heap after a collection.
type liveHeap struct {
	patients int
	peak     uint64
}

func (l *liveHeap) Write(typ string, _ map[string]any) error {
	if typ != "Patient" {
		return nil
	}
	if l.patients++; l.patients%demo.Block == 0 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		l.peak = max(l.peak, ms.HeapAlloc)
	}
	return nil
}

// TestMemoryFlat: ten times the citizens keep about the same live heap,
// since nothing of a written block is retained.
func TestMemoryFlat(t *testing.T) {
	var small, large liveHeap
	if err := demo.Generate(demo.Config{Citizens: 5 * demo.Block, Seed: 2}, &small); err != nil {
		t.Fatal(err)
	}
	if err := demo.Generate(demo.Config{Citizens: 50 * demo.Block, Seed: 2}, &large); err != nil {
		t.Fatal(err)
	}
	if large.peak > small.peak+small.peak/2+1<<20 {
		t.Errorf("live heap %d KB for %d citizens, %d KB for %d: it grows with the population",
			large.peak>>10, large.patients, small.peak>>10, small.patients)
	}
	t.Logf("live heap: %d KB at %d citizens, %d KB at %d", small.peak>>10, small.patients, large.peak>>10, large.patients)
}

// TestCast: the cast's people and providers are in the output, related as
// the cast says.
func TestCast(t *testing.T) {
	cfg := demo.Config{Citizens: 200, Seed: 8}
	cast, err := demo.CastOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := generate(t, cfg)
	byKey := map[string]map[string]any{}
	for typ, list := range c.byTyp {
		for _, res := range list {
			byKey[typ+"/"+res["id"].(string)] = res
		}
	}
	for _, key := range []string{"Patient/" + cast.Citizen, "Patient/" + cast.Parent, "Patient/" + cast.Child,
		"PractitionerRole/" + cast.PrivateDoctor, "PractitionerRole/" + cast.PublicDoctor,
		"Organization/" + cast.PrivateClinic, "Organization/" + cast.Cluster} {
		if byKey[key] == nil {
			t.Errorf("%s was not generated", key)
		}
	}
	rp := byKey["RelatedPerson/"+cast.ParentSDM]
	if rp == nil || rp["patient"].(map[string]any)["reference"] != "Patient/"+cast.Child {
		t.Fatalf("RelatedPerson/%s does not act for Patient/%s: %v", cast.ParentSDM, cast.Child, rp)
	}
	parentDoc := byKey["Patient/"+cast.Parent]["identifier"].([]any)[0].(map[string]any)["value"]
	if rp["identifier"].([]any)[0].(map[string]any)["value"] != parentDoc {
		t.Error("the SDM's document is not the parent's")
	}
	birth, _ := time.ParseInLocation(time.DateOnly, byKey["Patient/"+cast.Citizen]["birthDate"].(string), registry.HongKong)
	if registry.Age(birth, demo.DefaultEnd) < 65 {
		t.Error("the citizen is under 65")
	}
	for _, role := range []string{cast.PrivateDoctor, cast.PublicDoctor} {
		if org := byKey["PractitionerRole/"+role]["organization"].(map[string]any)["reference"]; org != "Organization/"+cast.PrivateClinic && org != "Organization/"+cast.Cluster {
			t.Errorf("PractitionerRole/%s is at %v", role, org)
		}
	}
}
