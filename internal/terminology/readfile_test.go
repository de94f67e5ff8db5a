package terminology

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hkCSV = `# url: http://ehealth.example/CodeSystem/hk-vaccines
# version: 1
# title: Hong Kong vaccine codes
code,display,display-zh,parent
VAC,Vaccine,疫苗,
FLUVAC,Influenza vaccine,流感疫苗,VAC
"COVVAC","COVID-19 vaccine, mRNA",新冠疫苗,VAC
`

func TestReadCSV(t *testing.T) {
	res, err := ReadCSV(strings.NewReader(hkCSV), "hk-vaccines.csv")
	if err != nil {
		t.Fatal(err)
	}
	if res["id"] != "hk-vaccines" || res["name"] != "HkVaccines" || res["version"] != "1" || res["title"] != "Hong Kong vaccine codes" {
		t.Errorf("metadata: %v %v %v %v", res["id"], res["name"], res["version"], res["title"])
	}
	s := NewService(tables(t))
	if err := s.Put(res); err != nil {
		t.Fatal(err)
	}
	out, err := s.Lookup(context.Background(), in("system", "Uri", "http://ehealth.example/CodeSystem/hk-vaccines", "code", "Code", "COVVAC", "displayLanguage", "Code", "zh-HK"))
	if err != nil || get(out, "display") != "新冠疫苗" {
		t.Errorf("lookup: %v %v", out, err)
	}
	if rel, err := s.Tables().SubsumesCodes("http://ehealth.example/CodeSystem/hk-vaccines", "", "VAC", "FLUVAC"); rel != "subsumes" || err != nil {
		t.Errorf("subsumes: %v %v", rel, err)
	}
	if d, _ := s.Tables().Display("http://ehealth.example/CodeSystem/hk-vaccines", "COVVAC", ""); d != "COVID-19 vaccine, mRNA" {
		t.Errorf("quoted display: %q", d)
	}
}

func TestReadCSVErrors(t *testing.T) {
	const url = "# url: http://x\n"
	tests := []struct{ name, csv, want string }{
		{"no url", "A,a\n", "url"},
		{"empty code", url + ",a\n", "empty code"},
		{"duplicate", url + "A,a\nA,b\n", "twice"},
		{"unknown parent", url + "A,a,,B\n", "not in the file"},
		{"cycle", url + "A,a,,B\nB,b,,A\n", "own ancestor"},
		{"too many fields", url + "A,a,b,,x\n", "fields"},
		{"bad quoting", url + "\"A,a\n", "csv"},
	}
	for _, tc := range tests {
		if _, err := ReadCSV(strings.NewReader(tc.csv), "x.csv"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bundle := `{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": ` + hkCodeSystem + `}, {"resource": ` + hkValueSet +
		`}, {"resource": {"resourceType": "Patient", "id": "p"}}]}`
	tests := []struct {
		path string
		n    int
	}{
		{write("bundle.json", bundle), 2},
		{write("cm.json", hkConceptMap), 1},
		{write("all.ndjson", strings.ReplaceAll(hkCodeSystem, "\n", "")+"\n"+strings.ReplaceAll(hkValueSet, "\n", "")+"\n"), 2},
		{write("hk.csv", hkCSV), 1},
	}
	for _, tc := range tests {
		res, err := ReadFile(tc.path)
		if err != nil || len(res) != tc.n {
			t.Errorf("%s: %d resources, %v; want %d", tc.path, len(res), err, tc.n)
		}
	}
	if _, err := ReadFile(write("p.json", `{"resourceType": "Patient"}`)); err == nil {
		t.Error("a Patient file was accepted")
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file was accepted")
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add(hkCSV)
	f.Add("# url: http://x\nA,a,,B\nB,b,,A\n")
	f.Add("# url: http://x\ncode,display,display-zh-TW,parent\nA,\"a\"\"b\",甲,\n")
	f.Fuzz(func(t *testing.T, data string) {
		res, err := ReadCSV(strings.NewReader(data), "fuzz.csv")
		if err != nil {
			return
		}
		// Whatever ReadCSV accepts is a CodeSystem the service takes.
		s := NewService(newTables())
		if err := s.Put(res); err != nil {
			t.Fatalf("ReadCSV output rejected by Put: %v", err)
		}
		cs, ok := s.Tables().CodeSystem(res["url"].(string))
		if !ok || len(cs.Concepts) != len(res["concept"].([]any)) {
			t.Fatalf("code system lost concepts")
		}
		// Parents were checked to form no cycle, so some concept is a root.
		roots := 0
		for _, c := range cs.Concepts {
			if len(c.Parents) == 0 {
				roots++
			}
		}
		if len(cs.Concepts) > 0 && roots == 0 {
			t.Fatalf("no root concept: the hierarchy has a cycle")
		}
	})
}
