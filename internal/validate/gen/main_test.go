package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestInvariantsUpToDate regenerates the table and compares it with the
// committed ../invariants_gen.go, so that a stale file or a change to the
// generator without `go generate` fails here.
func TestInvariantsUpToDate(t *testing.T) {
	defs := "../../../../shared/fhir/definitions"
	if _, err := os.Stat(defs); err != nil {
		t.Skip("definitions not available at " + defs)
	}
	out := filepath.Join(t.TempDir(), "invariants_gen.go")
	if err := run(defs, out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want, err := os.ReadFile("../invariants_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("invariants_gen.go is stale: run go generate ./internal/validate")
	}
}

// TestCollect checks rows the validator relies on: a backbone constraint,
// a datatype root, a resource root, a profile constraint restricted to its
// type, and the native constraints left out.
func TestCollect(t *testing.T) {
	defs := "../../../../shared/fhir/definitions"
	if _, err := os.Stat(defs); err != nil {
		t.Skip("definitions not available at " + defs)
	}
	var g generator
	for _, name := range []string{"profiles-types.json.gz", "profiles-resources.json.gz"} {
		sds, err := readDefinitions(filepath.Join(defs, name))
		if err != nil {
			t.Fatal(err)
		}
		g.sds = append(g.sds, sds...)
	}
	if err := g.collect(); err != nil {
		t.Fatal(err)
	}
	found := map[string]row{}
	for _, r := range g.rows {
		found[r.typ+" "+r.path+" "+r.c.Key] = r
		if native[r.c.Key] {
			t.Errorf("native constraint %s generated on %s", r.c.Key, r.path)
		}
	}
	for _, want := range []string{
		"Patient Patient.contact pat-1", "Period Period per-1", "Observation Observation obs-6",
		"Questionnaire Questionnaire.item que-1", "Timing Timing.repeat tim-1",
		"Dosage Dosage.doseAndRate.dose[x] sqty-1", "Bundle Bundle bdl-7",
	} {
		if _, ok := found[want]; !ok {
			t.Errorf("no row %s", want)
		}
	}
	if r := found["Dosage Dosage.doseAndRate.dose[x] sqty-1"]; r.ofType != "Quantity" {
		t.Errorf("sqty-1 on dose[x] applies to %q, want Quantity only", r.ofType)
	}
	if len(g.rows) < 400 {
		t.Errorf("only %d invariants generated", len(g.rows))
	}
}
