package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDefinitionsUpToDate regenerates the table and compares it with the
// committed ../definitions_gen.go, so that a stale file or a generator
// change without `go generate` fails here.
func TestDefinitionsUpToDate(t *testing.T) {
	defs := "../../../../shared/fhir/definitions"
	if _, err := os.Stat(defs); err != nil {
		t.Skip("definitions not available at " + defs)
	}
	out := filepath.Join(t.TempDir(), "definitions_gen.go")
	if err := run(defs, out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want, err := os.ReadFile("../definitions_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("definitions_gen.go is stale: run go generate ./internal/search")
	}
}
