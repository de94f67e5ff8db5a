package terminology

import (
	"bytes"
	"os"
	"sort"
	"testing"
)

// defsDir is where the official definitions live relative to this package.
const defsDir = "../../../shared/fhir/definitions"

func needDefinitions(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(defsDir); err != nil {
		t.Skipf("FHIR definitions not available: %v", err)
	}
}

// TestRequiredBindingsCovered checks that every required binding of the R4
// core resources and data types names a value set the tables either expand
// or list as not enumerable, and reports the coverage.
func TestRequiredBindingsCovered(t *testing.T) {
	needDefinitions(t)
	bindings, err := ReadBindings(defsDir)
	if err != nil {
		t.Fatal(err)
	}
	tb := tables(t)
	var elements, enumerable, notEnumerable int
	sets := map[string]bool{}
	reasons := map[string]string{}
	for _, bd := range bindings {
		if bd.Strength != "required" {
			continue
		}
		elements++
		vs, ok := tb.ValueSet(bd.ValueSet)
		switch {
		case !ok:
			t.Errorf("%s: required value set %s is missing", bd.Path, bd.ValueSet)
		case vs.Enumerable():
			enumerable++
			if vs.Len() == 0 {
				t.Errorf("%s: required value set %s is empty", bd.Path, bd.ValueSet)
			}
		default:
			notEnumerable++
			reasons[bd.ValueSet] = vs.NotEnumerable
		}
		sets[bd.ValueSet] = ok && vs.Enumerable()
	}
	known := 0
	for _, ok := range sets {
		if ok {
			known++
		}
	}
	t.Logf("required bindings: %d elements, %d to enumerable value sets, %d to not enumerable ones", elements, enumerable, notEnumerable)
	t.Logf("required value sets: %d distinct, %d enumerable, %d not enumerable", len(sets), known, len(sets)-known)
	urls := make([]string, 0, len(reasons))
	for u := range reasons {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	for _, u := range urls {
		t.Logf("  not enumerable: %s: %s", u, reasons[u])
	}
	if elements < 300 || known < 200 {
		t.Errorf("coverage too low: %d required bindings, %d enumerable value sets", elements, known)
	}
}

// TestEmbeddedUpToDate rebuilds the tables from the definitions and checks
// the embedded file is what go generate would write.
func TestEmbeddedUpToDate(t *testing.T) {
	needDefinitions(t)
	if testing.Short() {
		t.Skip("rebuilds from the definitions")
	}
	built, _, err := FromDefinitions(defsDir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := built.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), embedded) {
		t.Error("tables.gob.gz is stale: run go generate ./internal/terminology")
	}
}
