package search

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestIndexerObservation(t *testing.T) {
	var obs map[string]any
	src := `{"resourceType":"Observation","id":"o1","status":"final",
	 "code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic BP"}]},
	 "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-05-06T10:00:00+08:00",
	 "valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"},
	 "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":80,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`
	d := json.NewDecoder(stringsReader(src))
	d.UseNumber()
	if err := d.Decode(&obs); err != nil {
		t.Fatal(err)
	}
	ix := NewIndexer(NewRegistry(), Extractor{})
	entries, skipped, err := ix.Index(context.Background(), obs, "p1")
	if err != nil || len(skipped) > 0 {
		t.Fatalf("Index: %v %v", err, skipped)
	}
	got := map[string]int{}
	for _, e := range entries {
		if e.PatientKey != "p1" || e.ResourceID != "o1" || e.ResourceType != "Observation" {
			t.Errorf("entry %+v lacks the shared columns", e)
		}
		got[e.Code]++
	}
	for _, code := range []string{"code", "subject", "patient", "date", "value-quantity", "status", "code-value-quantity", "component-code-value-quantity", "combo-code"} {
		if got[code] == 0 {
			t.Errorf("no rows for %s; got %v", code, got)
		}
	}
	// subject.where(resolve() is Patient) resolves through the reference stub.
	for _, e := range entries {
		if e.Code == "patient" {
			r := e.Row.(ReferenceRow)
			if r.Type != "Patient" || r.ID != "p1" {
				t.Errorf("patient row %+v", r)
			}
		}
	}
}

// TestIndexerOfficialExamples indexes every official R4 example: no
// parameter expression may fail on a valid resource.
func TestIndexerOfficialExamples(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/fhir/examples/*.json")
	if len(files) == 0 {
		t.Skip("../shared/fhir/examples not present")
	}
	ix := NewIndexer(NewRegistry(), Extractor{})
	total := 0
	for _, f := range files {
		if filepath.Base(f) == "package.json" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var res map[string]any
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		if err := d.Decode(&res); err != nil {
			t.Fatal(err)
		}
		entries, skipped, err := ix.Index(context.Background(), res, "")
		if err != nil || len(skipped) > 0 {
			t.Errorf("%s: %v %v", filepath.Base(f), err, skipped)
		}
		total += len(entries)
	}
	t.Logf("%d index rows from %d examples", total, len(files)-1)
}

// BenchmarkIndexSynthea indexes the resources of Synthea patient bundles:
// the write-time cost of search, in resources/s and rows per resource.
func BenchmarkIndexSynthea(b *testing.B) {
	files, _ := filepath.Glob("../../../shared/testdata/synthea/smart-sample/[A-Z]*_*.json.gz")
	if len(files) == 0 {
		b.Skip("../shared/testdata/synthea not present")
	}
	var resources []map[string]any
	for _, f := range files[:3] {
		fh, err := os.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		gz, err := gzip.NewReader(fh)
		if err != nil {
			b.Fatal(err)
		}
		var bundle struct {
			Entry []struct {
				Resource map[string]any `json:"resource"`
			} `json:"entry"`
		}
		d := json.NewDecoder(gz)
		d.UseNumber()
		if err := d.Decode(&bundle); err != nil {
			b.Fatal(err)
		}
		fh.Close()
		for _, e := range bundle.Entry {
			resources = append(resources, e.Resource)
		}
	}
	ix := NewIndexer(NewRegistry(), Extractor{})
	rows := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rows = 0
		for _, r := range resources {
			entries, _, err := ix.Index(context.Background(), r, "p")
			if err != nil {
				b.Fatal(err)
			}
			rows += len(entries)
		}
	}
	b.ReportMetric(float64(b.N*len(resources))/b.Elapsed().Seconds(), "resources/s")
	b.ReportMetric(float64(rows)/float64(len(resources)), "rows/resource")
}
