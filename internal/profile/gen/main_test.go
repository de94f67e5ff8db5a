package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const defsDir = "../../../../shared/fhir/definitions"

// TestSnapshotsUpToDate regenerates the snapshots and compares them with
// the committed ../snapshot, so a changed differential or generator
// without `go generate ./internal/profile` fails here.
func TestSnapshotsUpToDate(t *testing.T) {
	if _, err := os.Stat(defsDir); err != nil {
		t.Skip("definitions not available at " + defsDir)
	}
	out := t.TempDir()
	if err := run(defsDir, "../ig", out); err != nil {
		t.Fatal(err)
	}
	got, _ := filepath.Glob(filepath.Join(out, "*.json"))
	want, _ := filepath.Glob("../snapshot/*.json")
	if len(got) != len(want) {
		t.Fatalf("%d snapshots generated, %d committed: run go generate ./internal/profile", len(got), len(want))
	}
	for _, p := range got {
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join("../snapshot", filepath.Base(p)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s is stale: run go generate ./internal/profile", filepath.Base(p))
		}
	}
}

// TestSnapshot checks the merge on a small differential: a slice placed
// after its sliced element's subtree with the datatype expanded under it,
// constraints added to the base's with their source, and loosening refused.
func TestSnapshot(t *testing.T) {
	if _, err := os.Stat(defsDir); err != nil {
		t.Skip("definitions not available at " + defsDir)
	}
	base := definitions{}
	for _, name := range []string{"profiles-types.json.gz", "profiles-resources.json.gz"} {
		if err := base.read(filepath.Join(defsDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	sd := func(els ...string) map[string]any {
		var m map[string]any
		src := `{"resourceType":"StructureDefinition","id":"t","url":"https://example.org/t","type":"Observation",
			"baseDefinition":"http://hl7.org/fhir/StructureDefinition/Observation","derivation":"constraint",
			"differential":{"element":[` + strings.Join(els, ",") + `]}}`
		if err := decode([]byte(src), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	full, err := snapshotOf(sd(
		`{"id":"Observation.identifier","path":"Observation.identifier","slicing":{"discriminator":[{"type":"value","path":"system"}],"rules":"open"}}`,
		`{"id":"Observation.identifier:a","path":"Observation.identifier","sliceName":"a","min":1}`,
		`{"id":"Observation.identifier:a.system","path":"Observation.identifier.system","min":1,"constraint":[{"key":"t-1","severity":"error","human":"h","expression":"true"}]}`,
		`{"id":"Observation.identifier.value","path":"Observation.identifier.value","min":1}`,
	), base)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	byID := map[string]element{}
	for _, e := range elementsOf(full, "snapshot") {
		ids = append(ids, e["id"].(string))
		byID[e["id"].(string)] = e
	}
	joined := strings.Join(ids, " ")
	for _, want := range []string{
		"Observation.identifier Observation.identifier.id Observation.identifier.extension",
		"Observation.identifier.period Observation.identifier.assigner Observation.identifier:a Observation.identifier:a.id",
		"Observation.identifier:a.assigner Observation.basedOn",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("snapshot order lacks %q:\n%s", want, joined)
		}
	}
	if m := byID["Observation.identifier.value"]["min"]; num(m) != 1 {
		t.Errorf("identifier.value min %v, want 1", m)
	}
	cs := byID["Observation.identifier:a.system"]["constraint"].([]any)
	last := cs[len(cs)-1].(map[string]any)
	if len(cs) < 2 || last["key"] != "t-1" || last["source"] != "https://example.org/t" {
		t.Errorf("constraints %v: want the base's then t-1 with its source", cs)
	}
	for _, bad := range []string{
		`{"id":"Observation.code","path":"Observation.code","min":0,"max":"2"}`,
		`{"id":"Observation.status","path":"Observation.status","type":[{"code":"string"}]}`,
		`{"id":"Observation.code:x","path":"Observation.code","sliceName":"x"}`,
		`{"id":"Observation.nothing","path":"Observation.nothing"}`,
	} {
		if _, err := snapshotOf(sd(bad), base); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
