package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/bench"
	"github.com/ehealthplus/ehealth/internal/demo"
)

// TestBenchSearch runs the search harness at tiny scale: one load of a few
// Synthea files into SQLite, then the mix for a second per run.
func TestBenchSearch(t *testing.T) {
	dir := "../../../shared/testdata/synthea/smart-sample"
	names := []string{
		"hospitalInformation1559319163815.json.gz",
		"practitionerInformation1559319163815.json.gz",
		"Adalberto_Hartmann_44ec4447-9e2c-4eb9-bd4f-0bdb416b806e.json.gz",
		"Alexia_Rice_a39449f8-f68c-4fc7-a481-1d0720c45fd8.json.gz",
		"Andrea_Dach_76f26ce3-5aac-4b16-ac35-321ff6a7f63c.json.gz",
		"Asa_Hermiston_4384bf23-1dc3-48ca-8c84-89fbaff201ae.json.gz",
	}
	var sample string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("Synthea sample not present: %v", err)
		}
		if sample != "" {
			sample += ","
		}
		sample += p
	}
	rep, err := benchSearch(t.Context(), benchFlags{
		db: "sqlite:" + filepath.Join(t.TempDir(), "bench.db"), sample: sample,
		resources: 100, duration: time.Second, clients: 4, http: true, analyze: true, log: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	// the database holds the platform's implementation guide before the load
	if rep.Load.Passes != 1 || rep.Load.Written == 0 || rep.Load.ResourcesAfter != rep.Load.ResourcesBefore+rep.Load.Written {
		t.Errorf("load = %+v, want one pass that wrote every resource in the database but the guide", rep.Load)
	}
	if rep.Load.IndexRowsPerResource < 1 {
		t.Errorf("index rows per resource = %.2f, want at least 1", rep.Load.IndexRowsPerResource)
	}
	if len(rep.Runs) != 3 {
		t.Fatalf("got %d runs, want full, predicate and HTTP", len(rep.Runs))
	}
	for _, r := range rep.Runs {
		if len(r.Queries) != 6 {
			t.Fatalf("%s: %d query types, want 6", r.Name, len(r.Queries))
		}
		for _, q := range r.Queries {
			if q.Count == 0 || q.Errors != 0 || q.AvgMatches == 0 {
				t.Errorf("%s / %s: count %d, errors %d (%s), matches %.1f; want results and no errors",
					r.Name, q.Name, q.Count, q.Errors, q.FirstError, q.AvgMatches)
			}
			if q.P50 > q.P95 || q.P95 > q.P99 || q.P99 > q.Max {
				t.Errorf("%s / %s: percentiles out of order: %+v", r.Name, q.Name, q)
			}
		}
		if inc := r.Queries[5]; inc.AvgIncluded == 0 {
			t.Errorf("%s: _include returned no included resources", r.Name)
		}
	}
	full, hidden := rep.Runs[0].Queries[1].AvgMatches, rep.Runs[1].Queries[1].AvgMatches
	if hidden >= full {
		t.Errorf("_summary=count under the predicate = %.0f, want fewer than the %.0f with full access", hidden, full)
	}
}

// TestBenchPlatform runs the platform benchmark at tiny scale on each
// backend: a territory of 20 citizens, the workload for a second, and
// checks that the report holds every figure (not how large they are).
func TestBenchPlatform(t *testing.T) {
	for _, be := range adminDatabases {
		t.Run(be.name, func(t *testing.T) { testBenchPlatform(t, be.url(t)) })
	}
}

func testBenchPlatform(t *testing.T, db string) {
	f := platformFlags{db: db, territory: demo.Config{Citizens: 20, Seed: 1}, clients: 4,
		duration: time.Second, writeDuration: 500 * time.Millisecond, rawLimit: 2000, log: io.Discard}
	rep, err := benchPlatform(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Load
	if l.Skipped || l.Resources < 20*20 || l.ResourcesPerSec <= 0 {
		t.Errorf("load = %+v, want the territory loaded now", l)
	}
	if d := l.Database; d.Resources < l.Resources || d.IndexRowsPerResource < 1 || d.BytesPerResource < 100 {
		t.Errorf("database after the load = %+v, want every resource, index rows and bytes", d)
	}
	for name, raw := range map[string]bench.RawStats{"load": l.Raw, "deposits": rep.Deposits.Raw} {
		if raw.Resources == 0 || raw.IndexRows < raw.Resources || raw.ResourcesPerSec <= 0 {
			t.Errorf("raw ceiling of the %s = %+v, want resources with their index rows", name, raw)
		}
	}
	if l.RatioToRaw <= 0 || rep.Deposits.RatioToRaw <= 0 {
		t.Errorf("ratios to the raw ceiling: load %.2f, deposits %.2f; want both", l.RatioToRaw, rep.Deposits.RatioToRaw)
	}
	if s := rep.Setup; s.SharedPatients == 0 || s.HiddenPatients == 0 || s.Reads == 0 || s.Patients == 0 {
		t.Errorf("setup = %+v, want patients shared and not, reads and queried patients", s)
	}
	if len(rep.Mix.Ops) != len(bench.MixOps) {
		t.Fatalf("mix has %d operations, want %d", len(rep.Mix.Ops), len(bench.MixOps))
	}
	for _, o := range append(rep.Mix.Ops, rep.Deposits.Ops...) {
		if o.Count == 0 || o.Errors != 0 {
			t.Errorf("%s: %d answers, %d wrong (%s); want answers, all as expected", o.Name, o.Count, o.Errors, o.FirstError)
		}
		if o.P50 > o.P95 || o.P95 > o.P99 || o.P99 > o.Max {
			t.Errorf("%s: percentiles out of order: %+v", o.Name, o)
		}
	}
	if rep.Deposits.ResourcesPerSec <= 0 || rep.Mix.ServerCPUSeconds <= 0 || rep.PeakRSSBytes <= 0 {
		t.Errorf("deposits %.0f resources/s, server CPU %.2f s, peak RSS %d; want all", rep.Deposits.ResourcesPerSec, rep.Mix.ServerCPUSeconds, rep.PeakRSSBytes)
	}

	// A second run finds the territory loaded and repeats its figures.
	again, err := benchPlatform(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Load.Skipped || again.Load.Resources != l.Resources || again.Load.Database != l.Database {
		t.Errorf("second load = %+v, want the first's figures, skipped", again.Load)
	}
	if again.Database.Resources <= l.Database.Resources {
		t.Errorf("database now %d resources, want more than the %d loaded (the first run's deposits)", again.Database.Resources, l.Database.Resources)
	}
}
