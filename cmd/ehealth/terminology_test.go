package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/resource"
)

const (
	vaccineCSV = `# url: http://ehealth.example/CodeSystem/hk-vaccines
# version: 1
code,display,display-zh,parent
VAC,Vaccine,疫苗,
FLUVAC,Influenza vaccine,流感疫苗,VAC
`
	vaccineVS = `{"resourceType": "ValueSet", "url": "http://ehealth.example/ValueSet/hk-vaccines", "status": "active",
  "compose": {"include": [{"system": "http://ehealth.example/CodeSystem/hk-vaccines", "filter": [{"property": "concept", "op": "is-a", "value": "VAC"}]}]}}`
)

func writeFiles(t *testing.T, files map[string]string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func TestTerminologyLoad(t *testing.T) {
	paths := writeFiles(t, map[string]string{"hk-vaccines.csv": vaccineCSV, "vs.json": vaccineVS})
	db := "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	var out, errOut bytes.Buffer
	args := append([]string{"terminology", "load", "--quiet", "--db", db}, paths...)
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"read 1 code systems (2 concepts), 1 value sets, 0 concept maps", "wrote 2 of 2 resources"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	svc, st, err := openService(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for typ, id := range map[string]string{"CodeSystem": "hk-vaccines", "ValueSet": "hk-vaccines"} {
		if _, err := svc.Read(context.Background(), resource.Caller{}, typ, id); err != nil {
			t.Errorf("%s/%s not stored: %v", typ, id, err)
		}
	}
	// Loading again updates in place.
	out.Reset()
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("second load: %v", err)
	}
}

func TestTerminologyLoadCheck(t *testing.T) {
	good := writeFiles(t, map[string]string{"hk.csv": vaccineCSV})
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"terminology", "load", "--quiet", "--check"}, good...), &out, &out); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if !strings.Contains(out.String(), "nothing written") {
		t.Errorf("output: %s", out.String())
	}
	bad := writeFiles(t, map[string]string{"bad.csv": "# url: http://x\nA,a,,B\n"})
	if err := run(context.Background(), append([]string{"terminology", "load", "--quiet", "--check"}, bad...), &out, &out); err == nil || !strings.Contains(err.Error(), "not in the file") {
		t.Errorf("bad CSV: %v", err)
	}
	if err := run(context.Background(), []string{"terminology", "frob"}, &out, &out); err == nil {
		t.Error("unknown subcommand accepted")
	}
}

func TestResourceID(t *testing.T) {
	tests := map[string]map[string]any{
		"given":       {"id": "given", "url": "http://x/y"},
		"hk-drugs-2":  {"url": "http://example.org/CodeSystem/hk-drugs", "version": "2"},
		"v2-0203":     {"url": "http://terminology.hl7.org/CodeSystem/v2-0203"},
		"1.2.3":       {"url": "urn:oid:1.2.3"},
		"terminology": {"url": "///"},
	}
	for want, r := range tests {
		if got := resourceID(r); got != want {
			t.Errorf("resourceID(%v) = %q, want %q", r, got, want)
		}
	}
}
