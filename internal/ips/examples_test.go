package ips_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/ips"
)

// unbuilt are the IPS sections the summary does not build from the
// record: functional status (its Conditions are problems here, SNOMED CT's
// hierarchy not being loaded), advance directives and the patient story
// (the platform's Consents are its own policy).
var unbuilt = []string{"47420-5", "42348-3", "81338-6"}

// TestExamples: the data under each IPS example document, stored, gives a
// summary with the example's sections and entries: every section the
// summary builds lists the example's entries (and, in problems, the
// Conditions the example files under functional status), a section the
// example leaves empty is empty, and the summary meets the Bundle and
// Composition profiles (the entries are the example's data as stored:
// its DeviceUseStatement has no timing, which its profile requires).
func TestExamples(t *testing.T) {
	g := loadIG(t)
	files, _ := filepath.Glob(filepath.Join(igDir, "example", "Bundle-*.json"))
	if len(files) == 0 {
		t.Skip("no IPS example documents")
	}
	forEachBackend(t, ips.Config{}, func(t *testing.T, s *server) {
		for _, f := range files {
			t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				example, err := fhir.Parse(data)
				if err != nil {
					t.Fatal(err)
				}
				patient, want := loadExample(t, s, example)
				r := s.do("GET", "/fhir/Patient/"+patient+"/$summary", nil).must(t, http.StatusOK)
				got := sectionsOf(t, r.body)
				for code, refs := range want {
					switch {
					case slices.Contains(unbuilt, code):
					case len(refs) == 0:
						if g := got[code]; len(g) > 0 && !strings.HasPrefix(g[0], "empty:") {
							t.Errorf("section %s: the example has no entries, the summary %v", code, g)
						}
					default:
						extra := []string{}
						if code == "11450-4" {
							extra = want["47420-5"]
						}
						if g := got[code]; !sameEntries(g, refs, extra) {
							t.Errorf("section %s: %v, want the example's %v", code, g, refs)
						}
					}
				}
				for _, p := range g.checkSummary(r.body, false) {
					t.Errorf("%s", p)
				}
			})
		}
	})
}

// sameEntries reports whether got holds want and nothing but want and
// some of extra.
func sameEntries(got, want, extra []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) && !slices.Contains(extra, g) {
			return false
		}
	}
	return true
}

// loadExample stores an example document's resources (all but the
// Composition) at their ids, its references rewritten from fullUrls to
// Type/id, in one transaction, and returns the patient's id and the
// example's sections as "Type/id" lists by LOINC code.
func loadExample(t *testing.T, s *server, example map[string]any) (string, map[string][]string) {
	t.Helper()
	entries := example["entry"].([]any)
	local := map[string]string{} // fullUrl → Type/id
	for _, e := range entries {
		em := e.(map[string]any)
		res := em["resource"].(map[string]any)
		local[em["fullUrl"].(string)] = fmt.Sprintf("%s/%s", res["resourceType"], res["id"])
	}
	resolve := func(ref string) string {
		if r, ok := local[ref]; ok {
			return r
		}
		return ref
	}
	var tx []any
	var comp map[string]any
	for _, e := range entries {
		res := e.(map[string]any)["resource"].(map[string]any)
		if res["resourceType"] == "Composition" {
			comp = res
			continue
		}
		rewrite(res, resolve)
		delete(res, "meta")
		ref := fmt.Sprintf("%s/%s", res["resourceType"], res["id"])
		tx = append(tx, map[string]any{"resource": res, "request": map[string]any{"method": "PUT", "url": ref}})
	}
	r := s.do("POST", "/fhir", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": tx})
	if r.status != http.StatusOK {
		t.Fatalf("the example's resources are refused: %d %s", r.status, r.raw)
	}
	patient := strings.TrimPrefix(resolve(comp["subject"].(map[string]any)["reference"].(string)), "Patient/")
	want := map[string][]string{}
	for _, sec := range comp["section"].([]any) {
		sm := sec.(map[string]any)
		code := sm["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
		refs := []string{}
		for _, en := range asList(sm["entry"]) {
			refs = append(refs, resolve(en.(map[string]any)["reference"].(string)))
		}
		want[code] = append(want[code], refs...)
	}
	return patient, want
}

// asList is v as a list (nil when absent).
func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// rewrite replaces every reference in n by resolve's.
func rewrite(n any, resolve func(string) string) {
	switch v := n.(type) {
	case map[string]any:
		if ref, ok := v["reference"].(string); ok {
			v["reference"] = resolve(ref)
		}
		for _, c := range v {
			rewrite(c, resolve)
		}
	case []any:
		for _, c := range v {
			rewrite(c, resolve)
		}
	}
}
