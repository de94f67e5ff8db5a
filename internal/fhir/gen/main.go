// Command gen reads the official FHIR R4 definitions (StructureDefinitions,
// SearchParameters, CompartmentDefinitions) and writes tables_gen.go for
// package fhir: the element tables of every resource and complex datatype,
// the primitive types with their regexes, and the patient compartment.
//
// Run it with `go generate ./internal/fhir` from the repository root.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	defs := flag.String("defs", "../../../shared/fhir/definitions", "directory holding the official definitions (*.json.gz)")
	out := flag.String("out", "tables_gen.go", "output Go file")
	flag.Parse()
	if err := run(*defs, *out); err != nil {
		log.Fatal(err)
	}
}

func run(defs, out string) error {
	types, err := readBundle(filepath.Join(defs, "profiles-types.json.gz"))
	if err != nil {
		return err
	}
	resources, err := readBundle(filepath.Join(defs, "profiles-resources.json.gz"))
	if err != nil {
		return err
	}
	params, err := readBundle(filepath.Join(defs, "search-parameters.json.gz"))
	if err != nil {
		return err
	}
	var g generator
	for _, e := range append(types.Entry, resources.Entry...) {
		if err := g.add(e.Resource); err != nil {
			return err
		}
	}
	if err := g.compartment(resources, params); err != nil {
		return err
	}
	src, err := format.Source(g.source())
	if err != nil {
		return fmt.Errorf("gofmt generated code: %w", err)
	}
	return os.WriteFile(out, src, 0o644)
}

type bundle struct {
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

func readBundle(path string) (*bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var b bundle
	if err := json.NewDecoder(zr).Decode(&b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &b, nil
}

type extension struct {
	URL         string `json:"url"`
	ValueURL    string `json:"valueUrl"`
	ValueString string `json:"valueString"`
}

type typeRef struct {
	Code      string      `json:"code"`
	Extension []extension `json:"extension"`
}

type elementDef struct {
	Path             string    `json:"path"`
	Min              int       `json:"min"`
	Max              string    `json:"max"`
	Type             []typeRef `json:"type"`
	ContentReference string    `json:"contentReference"`
	IsSummary        bool      `json:"isSummary"`
	IsModifier       bool      `json:"isModifier"`
	Binding          *struct {
		Strength string `json:"strength"`
		ValueSet string `json:"valueSet"`
	} `json:"binding"`
}

type structureDef struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Abstract     bool   `json:"abstract"`
	Type         string `json:"type"`
	Derivation   string `json:"derivation"`
	BaseDef      string `json:"baseDefinition"`
	Snapshot     struct {
		Element []elementDef `json:"element"`
	} `json:"snapshot"`
}

type generator struct {
	buf        bytes.Buffer
	types      []*structureDef
	primitives [][2]string // name, regex
	compart    [][2]string // resource type, element paths joined by ","
	skipped    []string
}

const (
	extRegex    = "http://hl7.org/fhir/StructureDefinition/regex"
	extFhirType = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
)

func (g *generator) add(raw json.RawMessage) error {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.ResourceType != "StructureDefinition" {
		return err
	}
	var sd structureDef
	if err := json.Unmarshal(raw, &sd); err != nil {
		return err
	}
	if sd.ResourceType != "StructureDefinition" || sd.Derivation == "constraint" || sd.Kind == "logical" {
		return nil
	}
	if sd.Kind == "primitive-type" {
		for _, el := range sd.Snapshot.Element {
			if el.Path == sd.ID+".value" && len(el.Type) > 0 {
				g.primitives = append(g.primitives, [2]string{sd.ID, extValue(el.Type[0].Extension, extRegex)})
			}
		}
		return nil
	}
	g.types = append(g.types, &sd)
	return nil
}

func extValue(exts []extension, url string) string {
	for _, x := range exts {
		if x.URL == url {
			if x.ValueURL != "" {
				return x.ValueURL
			}
			return x.ValueString
		}
	}
	return ""
}

// typeCodes maps the type list of an element to FHIR type codes: the
// FHIRPath System.* types used for id/url/value elements become their FHIR
// type, and a resource's own id is of type id (json.html#resources).
func typeCodes(sd *structureDef, el elementDef) []string {
	var codes []string
	for _, t := range el.Type {
		code := t.Code
		if strings.HasPrefix(code, "http://hl7.org/fhirpath/System.") {
			if ft := extValue(t.Extension, extFhirType); ft != "" {
				code = ft
			} else {
				code = strings.ToLower(strings.TrimPrefix(code, "http://hl7.org/fhirpath/System."))
			}
		}
		if sd.Kind == "resource" && el.Path == sd.Type+".id" {
			code = "id"
		}
		codes = append(codes, code)
	}
	return codes
}

func (g *generator) compartment(resources, params *bundle) error {
	exprs := map[string]string{} // "Base.code" -> expression
	for _, e := range params.Entry {
		var sp struct {
			Code       string   `json:"code"`
			Base       []string `json:"base"`
			Expression string   `json:"expression"`
		}
		if err := json.Unmarshal(e.Resource, &sp); err != nil {
			return err
		}
		for _, b := range sp.Base {
			exprs[b+"."+sp.Code] = sp.Expression
		}
	}
	for _, e := range resources.Entry {
		if !bytes.Contains(e.Resource[:min(len(e.Resource), 64)], []byte(`"CompartmentDefinition"`)) {
			continue
		}
		var cd struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
			Resource     []struct {
				Code  string   `json:"code"`
				Param []string `json:"param"`
			} `json:"resource"`
		}
		if err := json.Unmarshal(e.Resource, &cd); err != nil {
			return err
		}
		if cd.ResourceType != "CompartmentDefinition" || cd.ID != "patient" {
			continue
		}
		for _, r := range cd.Resource {
			var paths []string
			for _, p := range r.Param {
				ps, ok := reducePaths(r.Code, exprs[r.Code+"."+p])
				if !ok {
					g.skipped = append(g.skipped, r.Code+"."+p)
					continue
				}
				paths = appendNew(paths, ps...)
			}
			if len(paths) > 0 {
				g.compart = append(g.compart, [2]string{r.Code, strings.Join(paths, ",")})
			}
		}
	}
	return nil
}

// reducePaths turns a search parameter expression into the simple element
// paths (relative to typ) it selects: unions are split, only branches for typ
// are kept, and a trailing `.where(resolve() is Patient)` is dropped since
// PatientRefs only keeps Patient references anyway. It reports false when a
// branch for typ is not a plain dotted path.
func reducePaths(typ, expr string) ([]string, bool) {
	if expr == "" {
		return nil, false
	}
	var paths []string
	for _, branch := range strings.Split(expr, "|") {
		b := strings.TrimSpace(branch)
		if !strings.HasPrefix(b, typ+".") {
			continue
		}
		b = strings.TrimSuffix(strings.TrimPrefix(b, typ+"."), ".where(resolve() is Patient)")
		if strings.ContainsAny(b, "() ") {
			return nil, false
		}
		paths = appendNew(paths, b)
	}
	return paths, len(paths) > 0
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, l := range list {
			found = found || l == it
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}

func (g *generator) p(format string, args ...any) { fmt.Fprintf(&g.buf, format, args...) }

func (g *generator) source() []byte {
	g.p("// Code generated by go run ./gen; DO NOT EDIT.\n// Source: the official FHIR R4 (4.0.1) definitions, CC0.\n\npackage fhir\n\n")
	sort.Slice(g.types, func(i, j int) bool { return g.types[i].ID < g.types[j].ID })
	g.p("// typeTable holds every resource and complex datatype of R4, sorted by name.\nvar typeTable = []TypeDef{\n")
	for _, sd := range g.types {
		kind := map[string]string{"resource": "KindResource", "complex-type": "KindComplex"}[sd.Kind]
		g.p("{Name: %q, Kind: %s, Abstract: %v, Base: %q, Elements: []ElementDef{\n", sd.ID, kind, sd.Abstract, strings.TrimPrefix(sd.BaseDef, "http://hl7.org/fhir/StructureDefinition/"))
		for _, el := range sd.Snapshot.Element[1:] {
			g.element(sd, el)
		}
		g.p("}},\n")
	}
	g.p("}\n\n")
	sort.Slice(g.primitives, func(i, j int) bool { return g.primitives[i][0] < g.primitives[j][0] })
	g.p("// primitiveTable lists the primitive types with the regex of their value.\nvar primitiveTable = []PrimitiveDef{\n")
	for _, p := range g.primitives {
		g.p("{Name: %q, Regex: %q},\n", p[0], p[1])
	}
	g.p("}\n\n")
	g.p("// patientCompartmentTable lists, per resource type, the element paths of the\n// CompartmentDefinition patient parameters, resolved via their search parameters.\n")
	if len(g.skipped) > 0 {
		g.p("// Skipped (expression not reducible to a path): %s.\n", strings.Join(g.skipped, ", "))
	} else {
		g.p("// Every parameter of the definition reduced to simple paths; none skipped.\n")
	}
	g.p("var patientCompartmentTable = []compartmentEntry{\n")
	for _, c := range g.compart {
		g.p("{%q, []string{%s}},\n", c[0], quoteAll(strings.Split(c[1], ",")))
	}
	g.p("}\n")
	return g.buf.Bytes()
}

func (g *generator) element(sd *structureDef, el elementDef) {
	max := -1
	if el.Max != "*" {
		fmt.Sscan(el.Max, &max)
	}
	g.p("{Path: %q, Min: %d, Max: %d", el.Path, el.Min, max)
	if codes := typeCodes(sd, el); len(codes) > 0 {
		g.p(", Types: []string{%s}", quoteAll(codes))
	}
	if el.ContentReference != "" {
		g.p(", ContentRef: %q", strings.TrimPrefix(el.ContentReference, "#"))
	}
	if el.IsSummary {
		g.p(", Summary: true")
	}
	if el.IsModifier {
		g.p(", Modifier: true")
	}
	if b := el.Binding; b != nil && b.ValueSet != "" {
		vs, _, _ := strings.Cut(b.ValueSet, "|")
		g.p(", Binding: Binding{Strength: %q, ValueSet: %q}", b.Strength, vs)
	}
	g.p("},\n")
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
