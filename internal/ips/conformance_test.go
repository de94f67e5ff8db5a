package ips_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/ips"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// igDir is the IPS 2.0.0 package, beside the repository.
const igDir = "../../../shared/testdata/ips/hl7.fhir.uv.ips-2.0.0"

// sd is the part of a StructureDefinition the checks read: its
// differential's elements.
type sd struct {
	URL          string `json:"url"`
	Type         string `json:"type"`
	Differential struct {
		Element []element `json:"element"`
	} `json:"differential"`
}

// element is one ElementDefinition of a differential.
type element struct {
	ID      string `json:"id"`
	Path    string `json:"path"`
	Min     *int   `json:"min"`
	Max     string `json:"max"`
	Binding *struct {
		Strength string `json:"strength"`
		ValueSet string `json:"valueSet"`
	} `json:"binding"`
	Type []struct {
		Code          string   `json:"code"`
		Profile       []string `json:"profile"`
		TargetProfile []string `json:"targetProfile"`
	} `json:"type"`
	Constraint []struct {
		Key string `json:"key"`
	} `json:"constraint"`
	raw map[string]any
}

// ig is the IPS package's profiles by URL and its value sets' codes.
type ig struct {
	profiles  map[string]*sd
	valueSets map[string]map[string]bool // url → "system|code", or "system|*" for a whole system
}

// loadIG reads the package's profiles and value sets, skipping the test
// where ../shared is absent.
func loadIG(t *testing.T) *ig {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(igDir, "conformance", "*.json"))
	if len(files) == 0 {
		t.Skipf("the IPS package is not at %s", igDir)
	}
	g := &ig{profiles: map[string]*sd{}, valueSets: map[string]map[string]bool{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch base := filepath.Base(f); {
		case strings.HasPrefix(base, "StructureDefinition-"):
			var s sd
			if err := json.Unmarshal(data, &s); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var raw struct {
				Differential struct {
					Element []map[string]any `json:"element"`
				} `json:"differential"`
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			for i := range s.Differential.Element {
				s.Differential.Element[i].raw = raw.Differential.Element[i]
			}
			g.profiles[s.URL] = &s
		case strings.HasPrefix(base, "ValueSet-"):
			var vs struct {
				URL     string `json:"url"`
				Compose struct {
					Include []struct {
						System  string `json:"system"`
						Concept []struct {
							Code string `json:"code"`
						} `json:"concept"`
					} `json:"include"`
				} `json:"compose"`
			}
			if err := json.Unmarshal(data, &vs); err != nil {
				t.Fatal(err)
			}
			codes := map[string]bool{}
			for _, inc := range vs.Compose.Include {
				if len(inc.Concept) == 0 {
					codes[inc.System+"|*"] = true
				}
				for _, c := range inc.Concept {
					codes[inc.System+"|"+c.Code] = true
				}
			}
			g.valueSets[vs.URL] = codes
		}
	}
	return g
}

// nodes are the values at a dotted path below root (arrays flattened; a
// choice name[x] matches every nameType).
func nodes(root any, parts []string) []any {
	cur := []any{root}
	for _, p := range parts {
		var next []any
		for _, n := range cur {
			m, ok := n.(map[string]any)
			if !ok {
				continue
			}
			for k, v := range m {
				if k != p && !(strings.HasSuffix(p, "[x]") && strings.HasPrefix(k, strings.TrimSuffix(p, "[x]")) && !strings.HasPrefix(k, "_")) {
					continue
				}
				if list, ok := v.([]any); ok {
					next = append(next, list...)
				} else {
					next = append(next, v)
				}
			}
		}
		cur = next
	}
	return cur
}

// checkElements checks res against a profile's differential elements
// that are not inside slices: cardinalities, fixed and pattern values,
// required bindings.
func (g *ig) checkElements(res map[string]any, p *sd, at string) []string {
	var problems []string
	for _, e := range p.Differential.Element {
		if strings.Contains(e.ID, ":") {
			continue
		}
		parts := strings.Split(e.Path, ".")[1:]
		if len(parts) == 0 {
			continue
		}
		parents := nodes(res, parts[:len(parts)-1])
		for _, parent := range parents {
			n := len(nodes(parent, parts[len(parts)-1:]))
			if e.Min != nil && n < *e.Min {
				problems = append(problems, fmt.Sprintf("%s: %s has %d, %s needs at least %d", at, e.Path, n, p.URL, *e.Min))
			}
			if max, err := strconv.Atoi(e.Max); err == nil && n > max {
				problems = append(problems, fmt.Sprintf("%s: %s has %d, %s allows %d", at, e.Path, n, p.URL, max))
			}
		}
		values := nodes(res, parts)
		for k, want := range e.raw {
			if !strings.HasPrefix(k, "fixed") && !strings.HasPrefix(k, "pattern") {
				continue
			}
			for _, v := range values {
				if !matches(v, want, strings.HasPrefix(k, "pattern")) {
					problems = append(problems, fmt.Sprintf("%s: %s is %v, %s has %s %v", at, e.Path, v, p.URL, k, want))
				}
			}
		}
		if e.Binding != nil && e.Binding.Strength == "required" {
			codes := g.valueSets[strings.Split(e.Binding.ValueSet, "|")[0]]
			for _, v := range values {
				if code, ok := v.(string); ok && codes != nil && !anyCode(codes, code) {
					problems = append(problems, fmt.Sprintf("%s: %s %q is not in %s", at, e.Path, code, e.Binding.ValueSet))
				}
			}
		}
	}
	return problems
}

// anyCode reports whether a value set lists code in any system (or
// includes a whole system).
func anyCode(codes map[string]bool, code string) bool {
	for k := range codes {
		if strings.HasSuffix(k, "|"+code) || strings.HasSuffix(k, "|*") {
			return true
		}
	}
	return false
}

// matches compares a value with a fixed value (exactly) or a pattern
// (every element of the pattern is in the value; list items each match
// some item).
func matches(v, want any, pattern bool) bool {
	switch w := want.(type) {
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			if !matches(m[k], wv, pattern) {
				return false
			}
		}
		return pattern || len(m) == len(w)
	case []any:
		list, _ := v.([]any)
		for _, wi := range w {
			if !slices.ContainsFunc(list, func(x any) bool { return matches(x, wi, pattern) }) {
				return false
			}
		}
		return true
	}
	return fmt.Sprint(v) == fmt.Sprint(want)
}

// typeOf is the resource type a profile or core StructureDefinition URL
// constrains.
func (g *ig) typeOf(url string) string {
	if p, ok := g.profiles[url]; ok {
		return p.Type
	}
	return strings.TrimPrefix(url, "http://hl7.org/fhir/StructureDefinition/")
}

// checkSummary checks a summary document against Bundle-uv-ips,
// Composition-uv-ips (section slices by code with their cardinalities,
// ips-comp-1, the entries' target types) and, with entries, the entries'
// profiles (the record's data as stored).
func (g *ig) checkSummary(bundle map[string]any, entries bool) []string {
	bp := g.profiles[ips.BundleProfile]
	problems := g.checkElements(bundle, bp, "Bundle")
	list, _ := bundle["entry"].([]any)
	byRef := map[string]map[string]any{}
	counts := map[string]int{}
	for i, e := range list {
		em := e.(map[string]any)
		res := em["resource"].(map[string]any)
		typ := res["resourceType"].(string)
		counts[typ]++
		byRef[fmt.Sprintf("%s/%s", typ, res["id"])] = res
		if full, _ := em["fullUrl"].(string); full != "" {
			byRef[full] = res
		}
		if typ == "Composition" && i > 0 {
			problems = append(problems, "bdl-ips-1: a Composition after the first entry")
		}
		if url := entryProfile(bp, res); entries && url != "" && g.profiles[url] != nil && url != ips.CompositionProfile {
			problems = append(problems, g.checkElements(res, g.profiles[url], fmt.Sprintf("Bundle.entry[%d]", i))...)
		}
	}
	if counts["Composition"] != 1 || counts["Patient"] != 1 {
		problems = append(problems, fmt.Sprintf("%d Compositions and %d Patients, want one each", counts["Composition"], counts["Patient"]))
	}
	comp := list[0].(map[string]any)["resource"].(map[string]any)
	cp := g.profiles[ips.CompositionProfile]
	problems = append(problems, g.checkElements(comp, cp, "Composition")...)
	secs, _ := comp["section"].([]any)
	for _, e := range cp.Differential.Element {
		name, rest, _ := strings.Cut(strings.TrimPrefix(e.ID, "Composition.section:"), ".")
		if !strings.HasPrefix(e.ID, "Composition.section:") || rest != "" {
			continue
		}
		code := sliceCode(cp, name)
		var in []map[string]any
		for _, s := range secs {
			if sm := s.(map[string]any); matches(sm["code"], map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": code}}}, true) {
				in = append(in, sm)
			}
		}
		if max, err := strconv.Atoi(e.Max); (e.Min != nil && len(in) < *e.Min) || (err == nil && len(in) > max) {
			problems = append(problems, fmt.Sprintf("section %s (%s): %d, want %d..%s", name, code, len(in), *e.Min, e.Max))
		}
		allowed := sliceTargets(g, cp, name)
		for _, s := range in {
			refs, _ := s["entry"].([]any)
			if slices.ContainsFunc(e.Constraint, func(c struct {
				Key string `json:"key"`
			}) bool {
				return c.Key == "ips-comp-1"
			}) && len(refs) == 0 && s["emptyReason"] == nil {
				problems = append(problems, fmt.Sprintf("ips-comp-1: section %s has neither entries nor an emptyReason", name))
			}
			for _, r := range refs {
				ref := r.(map[string]any)["reference"].(string)
				res, ok := byRef[ref]
				switch {
				case !ok:
					problems = append(problems, fmt.Sprintf("section %s: %s is not in the Bundle", name, ref))
				case !slices.Contains(allowed, res["resourceType"].(string)):
					problems = append(problems, fmt.Sprintf("section %s: %s is not one of %v", name, ref, allowed))
				}
			}
		}
	}
	return problems
}

// sliceCode is the LOINC code a Composition section slice fixes.
func sliceCode(cp *sd, name string) string {
	for _, e := range cp.Differential.Element {
		if e.ID == "Composition.section:"+name+".code" {
			codings, _ := e.raw["patternCodeableConcept"].(map[string]any)["coding"].([]any)
			return codings[0].(map[string]any)["code"].(string)
		}
	}
	return ""
}

// sliceTargets are the resource types a section slice's entries may be.
func sliceTargets(g *ig, cp *sd, name string) []string {
	var out []string
	for _, e := range cp.Differential.Element {
		if e.ID == "Composition.section:"+name+".entry" {
			for _, t := range e.Type {
				for _, tp := range t.TargetProfile {
					out = append(out, g.typeOf(tp))
				}
			}
		}
	}
	return out
}

// entryProfile is the IPS profile the Bundle's slicing gives an entry
// resource of its type — for an Observation, the laboratory result
// profile for laboratory results ("" for other Observations, whose
// profiles slice by code).
func entryProfile(bp *sd, res map[string]any) string {
	typ := res["resourceType"].(string)
	if typ == "Observation" {
		if matches(res["category"], []any{map[string]any{"coding": []any{map[string]any{"code": "laboratory"}}}}, true) {
			return "http://hl7.org/fhir/uv/ips/StructureDefinition/Observation-results-laboratory-pathology-uv-ips"
		}
		return ""
	}
	for _, e := range bp.Differential.Element {
		if strings.HasPrefix(e.ID, "Bundle.entry:") && strings.HasSuffix(e.ID, ".resource") && len(e.Type) == 1 && e.Type[0].Code == typ && len(e.Type[0].Profile) == 1 {
			return e.Type[0].Profile[0]
		}
	}
	return ""
}

// TestConformance: the summaries of a full record, an empty one and one
// read through narrow scopes, in both languages, are valid R4 (structure,
// bindings, invariants, narrative) and meet the IPS Bundle and
// Composition profiles and their entries' profiles.
func TestConformance(t *testing.T) {
	g := loadIG(t)
	forEachBackend(t, ips.Config{}, func(t *testing.T, s *server) {
		seedRecord(t, s)
		who := callers(s)
		for _, c := range []struct{ name, path, caller string }{
			{"full", "/fhir/Patient/p1/$summary", "operator"},
			{"full-zh", "/fhir/Patient/p1/$summary?_language=zh-Hant", "citizen"},
			{"empty", "/fhir/Patient/p2/$summary", "operator"},
			{"withheld", "/fhir/Patient/p1/$summary", "narrow"},
		} {
			r := s.do("GET", c.path, nil, "Authorization", who[c.caller]).must(t, http.StatusOK)
			issues, err := s.p.Service.Validate("Bundle", r.body)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			for _, is := range issues {
				if is.Severity == outcome.SeverityError || is.Severity == outcome.SeverityFatal {
					t.Errorf("%s: %s at %s", c.name, is.Message, is.Expression)
				}
			}
			for _, p := range g.checkSummary(r.body, true) {
				t.Errorf("%s: %s", c.name, p)
			}
		}
	})
}

// TestConformanceChecks: the IPS checks find what breaks the profiles, so
// a clean summary means something.
func TestConformanceChecks(t *testing.T) {
	g := loadIG(t)
	forEachBackend(t, ips.Config{}, func(t *testing.T, s *server) {
		seedRecord(t, s)
		for _, c := range []struct {
			name   string
			break_ func(b map[string]any)
			want   string
		}{
			{"no identifier", func(b map[string]any) { delete(b, "identifier") }, "Bundle.identifier"},
			{"collection", func(b map[string]any) { b["type"] = "collection" }, "fixedCode"},
			{"no problems section", func(b map[string]any) { dropSection(b, "11450-4") }, "sectionProblems"},
			{"empty without reason", func(b map[string]any) {
				delete(sectionByCode(b, "48765-2"), "entry")
			}, "ips-comp-1"},
			{"wrong type", func(b map[string]any) {
				sectionByCode(b, "48765-2")["entry"] = []any{map[string]any{"reference": "Condition/c1"}}
			}, "is not one of"},
			{"document type", func(b map[string]any) {
				b["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)["type"] = map[string]any{"text": "summary"}
			}, "patternCodeableConcept"},
			{"condition without code", func(b map[string]any) {
				for _, e := range b["entry"].([]any) {
					if res := e.(map[string]any)["resource"].(map[string]any); res["resourceType"] == "Condition" {
						delete(res, "code")
					}
				}
			}, "Condition.code"},
		} {
			b := s.do("GET", "/fhir/Patient/p1/$summary", nil).must(t, http.StatusOK).body
			c.break_(b)
			if p := strings.Join(g.checkSummary(b, true), "\n"); !strings.Contains(p, c.want) {
				t.Errorf("%s: the checks do not say %q: %s", c.name, c.want, p)
			}
		}
	})
}

// sectionByCode is the Composition's section with a LOINC code.
func sectionByCode(b map[string]any, code string) map[string]any {
	comp := b["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)
	for _, s := range comp["section"].([]any) {
		sm := s.(map[string]any)
		if sm["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"] == code {
			return sm
		}
	}
	return nil
}

// dropSection removes a section from the Composition.
func dropSection(b map[string]any, code string) {
	comp := b["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)
	var keep []any
	for _, s := range comp["section"].([]any) {
		if s.(map[string]any)["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"] != code {
			keep = append(keep, s)
		}
	}
	comp["section"] = keep
}
