package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoGenerate: the command writes the territory, the same seed the
// same bytes, and refuses what it cannot do.
func TestDemoGenerate(t *testing.T) {
	gen := func(seed string) string {
		t.Helper()
		dir := t.TempDir()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"demo", "generate", "--citizens", "5", "--seed", seed, "--out", dir}, &out, &errOut); err != nil {
			t.Fatalf("demo generate: %v: %s", err, errOut.String())
		}
		if !strings.Contains(out.String(), "wrote 5 citizens") {
			t.Errorf("demo generate said %q", out.String())
		}
		patients, err := os.ReadFile(filepath.Join(dir, "Patient.ndjson"))
		if err != nil {
			t.Fatal(err)
		}
		return string(patients)
	}
	a, b, c := gen("3"), gen("3"), gen("4")
	if a != b {
		t.Error("the same seed wrote different Patients")
	}
	if a == c {
		t.Error("another seed wrote the same Patients")
	}
	if n := strings.Count(a, `"resourceType":"Patient"`); n != 5 {
		t.Errorf("%d Patients for 5 citizens", n)
	}
	for _, args := range [][]string{
		{"demo", "generate", "--citizens", "5"},
		{"demo", "generate", "--citizens", "0", "--out", t.TempDir()},
		{"demo", "nonsense"},
	} {
		if err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
