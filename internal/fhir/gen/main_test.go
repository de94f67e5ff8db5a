package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReducePaths(t *testing.T) {
	tests := []struct {
		typ, expr string
		want      []string
		ok        bool
	}{
		{"Observation", "Observation.subject", []string{"subject"}, true},
		{"Observation", "AllergyIntolerance.patient | Observation.subject.where(resolve() is Patient) | Procedure.subject", []string{"subject"}, true},
		{"Claim", "Claim.payee.party", []string{"payee.party"}, true},
		{"AuditEvent", "AuditEvent.agent.who.where(resolve() is Patient) | AuditEvent.entity.what.where(resolve() is Patient)", []string{"agent.who", "entity.what"}, true},
		{"Observation", "(Observation.value as Quantity)", nil, false},
		{"Observation", "Observation.subject.where(resolve() is Group)", nil, false},
		{"Observation", "", nil, false},
	}
	for _, tt := range tests {
		got, ok := reducePaths(tt.typ, tt.expr)
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("reducePaths(%s, %q) = %v, %v; want %v, %v", tt.typ, tt.expr, got, ok, tt.want, tt.ok)
		}
	}
}

// TestTablesUpToDate regenerates the tables and compares them with the
// committed ../tables_gen.go, so that a stale file or a change to the
// generator without `go generate` fails here.
func TestTablesUpToDate(t *testing.T) {
	defs := "../../../../shared/fhir/definitions"
	if _, err := os.Stat(defs); err != nil {
		t.Skip("definitions not available at " + defs)
	}
	out := filepath.Join(t.TempDir(), "tables_gen.go")
	if err := run(defs, out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want, err := os.ReadFile("../tables_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("tables_gen.go is stale: run go generate ./internal/fhir")
	}
}
