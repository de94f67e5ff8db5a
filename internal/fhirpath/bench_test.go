package fhirpath

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
)

const (
	searchParamsFile = "../../../shared/fhir/definitions/search-parameters.json.gz"
	syntheaDir       = "../../../shared/testdata/synthea/smart-sample"
)

func readGzipJSON(t testing.TB, name string) map[string]any {
	t.Helper()
	f, err := os.Open(name)
	if os.IsNotExist(err) {
		t.Skipf("%s not found", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	m, err := fhir.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// searchExpressions compiles the expression of every R4 SearchParameter,
// split at the top-level '|' and grouped by the resource type each part
// starts with, as search indexing does. Parts on Resource and
// DomainResource apply to every type.
func searchExpressions(t testing.TB) map[string][]*Expression {
	t.Helper()
	bundle := readGzipJSON(t, searchParamsFile)
	out := map[string][]*Expression{}
	entries, _ := bundle["entry"].([]any)
	for _, e := range entries {
		sp, _ := e.(map[string]any)["resource"].(map[string]any)
		expr, _ := sp["expression"].(string)
		if expr == "" {
			continue
		}
		for _, part := range splitUnion(expr) {
			typ := leadingType(part)
			x, err := Compile(part)
			if err != nil {
				t.Fatalf("SearchParameter %v: %q: %v", sp["id"], part, err)
			}
			out[typ] = append(out[typ], x)
		}
	}
	return out
}

// splitUnion splits an expression at the '|' operators outside parentheses and strings.
func splitUnion(expr string) []string {
	var parts []string
	depth, start := 0, 0
	inString := false
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case c == '\\' && inString:
			i++
		case c == '\'':
			inString = !inString
		case inString:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			parts = append(parts, strings.TrimSpace(expr[start:i]))
			start = i + 1
		}
	}
	return append(parts, strings.TrimSpace(expr[start:]))
}

// leadingType is the resource type an expression part starts with: "Patient" for "(Patient.x as y)".
func leadingType(part string) string {
	s := strings.TrimLeft(part, "( ")
	i := strings.IndexAny(s, ".( ")
	if i < 0 {
		return s
	}
	return s[:i]
}

// syntheaResources loads the entries of the Synthea bundles, with their bundle.
func syntheaResources(t testing.TB, max int) (res []map[string]any, bundles []map[string]any) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(syntheaDir, "*.json.gz"))
	if len(files) == 0 {
		t.Skipf("no Synthea bundles in %s", syntheaDir)
	}
	for _, f := range files[:min(max, len(files))] {
		b := readGzipJSON(t, f)
		entries, _ := b["entry"].([]any)
		for _, e := range entries {
			if r, ok := e.(map[string]any)["resource"].(map[string]any); ok {
				res = append(res, r)
				bundles = append(bundles, b)
			}
		}
	}
	return res, bundles
}

// indexResource evaluates every search expression for the resource's type,
// reusing one result buffer as search indexing would.
func indexResource(tb testing.TB, exprs map[string][]*Expression, r, bundle map[string]any, buf Collection) (n int, _ Collection) {
	opts := Options{Resource: r, Bundle: bundle}
	typ, _ := r["resourceType"].(string)
	for _, group := range [3][]*Expression{exprs["Resource"], exprs["DomainResource"], exprs[typ]} {
		for _, x := range group {
			var err error
			if buf, err = x.EvaluateAppend(context.Background(), buf[:0], r, &opts); err != nil {
				tb.Fatalf("%s on %s/%v: %v", x, typ, r["id"], err)
			}
			n++
		}
	}
	return n, buf
}

// TestSearchParameterExpressions checks that every R4 search expression
// compiles and evaluates without error over Synthea data.
func TestSearchParameterExpressions(t *testing.T) {
	exprs := searchExpressions(t)
	res, bundles := syntheaResources(t, 3)
	n := 0
	var buf Collection
	for i, r := range res {
		k, b := indexResource(t, exprs, r, bundles[i], buf)
		n, buf = n+k, b
	}
	t.Logf("%d resources, %d evaluations", len(res), n)
}

// BenchmarkSearchIndexing evaluates all R4 search-parameter expressions over
// the resources of Synthea patient bundles: one op is one pass over them.
func BenchmarkSearchIndexing(b *testing.B) {
	exprs := searchExpressions(b)
	res, bundles := syntheaResources(b, 5)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	evals := 0
	var buf Collection
	for i := 0; i < b.N; i++ {
		for j, r := range res {
			k, out := indexResource(b, exprs, r, bundles[j], buf)
			evals, buf = evals+k, out
		}
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(evals)/secs, "expressions/s")
	b.ReportMetric(float64(len(res)*b.N)/secs, "resources/s")
	b.ReportMetric(float64(evals)/float64(b.N), "evals/op")
}

// BenchmarkCompile measures parsing a typical invariant.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile("Patient.name.where(use = 'official' and given.exists()).given.first() | Patient.telecom.where(system = 'phone').value"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSearchParametersOnExamples evaluates every R4 search expression over
// the official R4 examples of its resource type: none may fail.
func TestSearchParametersOnExamples(t *testing.T) {
	exprs := searchExpressions(t)
	files, _ := filepath.Glob("../../../shared/fhir/examples/*.json")
	if len(files) == 0 {
		t.Skip("official examples not found")
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := fhir.Parse(data)
		if err != nil {
			continue // examples the codec rejects are fhir's business
		}
		var bundle map[string]any
		if r["resourceType"] == "Bundle" {
			bundle = r
		}
		k, _ := indexResource(t, exprs, r, bundle, nil)
		n += k
	}
	t.Logf("%d example files, %d evaluations", len(files), n)
}
