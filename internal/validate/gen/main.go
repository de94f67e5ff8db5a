// Command gen reads the official FHIR R4 StructureDefinitions of the
// resources and datatypes and writes invariants_gen.go for package validate:
// every constraint (key, severity, human text, FHIRPath expression) of every
// snapshot element, with the element path it sits on.
//
// Constraints that package fhir checks natively are left out (see native);
// so are the abstract types (Resource, DomainResource, Element,
// BackboneElement, MetadataResource), whose constraints every concrete
// snapshot repeats. The profiles SimpleQuantity and MoneyQuantity are not
// types of their own: their extra constraints (sqty-1, mqty-1) are attached
// to the elements whose type names the profile, restricted to Quantity values.
//
// Run it with `go generate ./internal/validate` from the repository root.
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
	"slices"
	"strings"
)

func main() {
	defs := flag.String("defs", "../../../shared/fhir/definitions", "directory holding the official definitions (*.json.gz)")
	out := flag.String("out", "invariants_gen.go", "output Go file")
	flag.Parse()
	if err := run(*defs, *out); err != nil {
		log.Fatal(err)
	}
}

// native lists the constraints package fhir checks itself (fhir.Validate),
// faster and with better messages than a FHIRPath evaluation.
var native = map[string]bool{
	"ele-1": true,                                              // every element has a value or children
	"ext-1": true,                                              // an extension has a value or extensions, not both
	"dom-2": true, "dom-3": true, "dom-4": true, "dom-5": true, // contained resources
	"ref-1": true,                // a local reference points at a contained resource
	"txt-1": true, "txt-2": true, // the narrative's XHTML
}

func run(defs, out string) error {
	var g generator
	for _, name := range []string{"profiles-types.json.gz", "profiles-resources.json.gz"} {
		sds, err := readDefinitions(filepath.Join(defs, name))
		if err != nil {
			return err
		}
		g.sds = append(g.sds, sds...)
	}
	if err := g.collect(); err != nil {
		return err
	}
	src, err := format.Source(g.source())
	if err != nil {
		return fmt.Errorf("gofmt generated code: %w", err)
	}
	return os.WriteFile(out, src, 0o644)
}

type constraint struct {
	Key        string `json:"key"`
	Severity   string `json:"severity"`
	Human      string `json:"human"`
	Expression string `json:"expression"`
}

type typeRef struct {
	Code    string   `json:"code"`
	Profile []string `json:"profile"`
}

type elementDef struct {
	Path       string       `json:"path"`
	Type       []typeRef    `json:"type"`
	Constraint []constraint `json:"constraint"`
}

type structureDef struct {
	ResourceType string `json:"resourceType"`
	URL          string `json:"url"`
	Kind         string `json:"kind"`
	Abstract     bool   `json:"abstract"`
	Type         string `json:"type"`
	Derivation   string `json:"derivation"`
	Snapshot     struct {
		Element []elementDef `json:"element"`
	} `json:"snapshot"`
}

func readDefinitions(path string) ([]*structureDef, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(zr).Decode(&b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var sds []*structureDef
	for _, e := range b.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(e.Resource, &head); err != nil || head.ResourceType != "StructureDefinition" {
			continue // the bundles also hold SearchParameters, OperationDefinitions …
		}
		sd := new(structureDef)
		if err := json.Unmarshal(e.Resource, sd); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		sds = append(sds, sd)
	}
	return sds, nil
}

// row is one generated invariant.
type row struct {
	typ, path, ofType string
	c                 constraint
}

type generator struct {
	sds  []*structureDef
	rows []row
}

// collect gathers the rows: the concrete types' own constraints, then the
// quantity profiles' extra constraints on the elements that use them.
func (g *generator) collect() error {
	profiles := map[string][]constraint{} // profile URL → constraints Quantity lacks
	for _, sd := range g.sds {
		if sd.Derivation == "constraint" && sd.Type == "Quantity" && len(sd.Snapshot.Element) > 0 {
			for _, c := range sd.Snapshot.Element[0].Constraint {
				if c.Key != "qty-3" && !native[c.Key] {
					profiles[sd.URL] = append(profiles[sd.URL], c)
				}
			}
		}
	}
	for _, sd := range g.sds {
		if sd.Derivation == "constraint" || sd.Abstract || sd.Kind == "logical" {
			continue
		}
		for _, el := range sd.Snapshot.Element {
			if !strings.HasPrefix(el.Path+".", sd.Type+".") {
				return fmt.Errorf("%s: element %s outside the type", sd.Type, el.Path)
			}
			for _, c := range el.Constraint {
				if native[c.Key] {
					continue
				}
				if c.Expression == "" || (c.Severity != "error" && c.Severity != "warning") {
					return fmt.Errorf("%s %s: constraint %s has no expression or an odd severity %q", sd.Type, el.Path, c.Key, c.Severity)
				}
				g.rows = append(g.rows, row{typ: sd.Type, path: el.Path, c: c})
			}
			for _, t := range el.Type {
				for _, p := range t.Profile {
					for _, c := range profiles[p] {
						g.rows = append(g.rows, row{typ: sd.Type, path: el.Path, ofType: t.Code, c: c})
					}
				}
			}
		}
	}
	// stable output: by type, then in snapshot order
	slices.SortStableFunc(g.rows, func(a, b row) int { return strings.Compare(a.typ, b.typ) })
	return nil
}

func (g *generator) source() []byte {
	var b bytes.Buffer
	b.WriteString(`// Code generated by go run ./gen; DO NOT EDIT.
// Source: the official FHIR R4 (4.0.1) definitions, CC0.

package validate

// invariantTable lists every constraint of the R4 resources and datatypes
// except those package fhir checks natively (ele-1, ext-1, dom-2, dom-3,
// dom-4, dom-5, ref-1, txt-1, txt-2), by type and in snapshot order.
var invariantTable = []invariantDef{
`)
	for _, r := range g.rows {
		fmt.Fprintf(&b, "\t{Type: %q, Path: %q, ", r.typ, r.path)
		if r.ofType != "" {
			fmt.Fprintf(&b, "OfType: %q, ", r.ofType)
		}
		fmt.Fprintf(&b, "Key: %q, Severity: %q,\n\t\tHuman: %q,\n\t\tExpr: %q},\n",
			r.c.Key, r.c.Severity, r.c.Human, r.c.Expression)
	}
	b.WriteString("}\n")
	return b.Bytes()
}
