package terminology

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// FromDefinitions builds tables from the FHIR R4 definitions in dir (the
// *.json.gz files of the official package): every CodeSystem and ValueSet in
// valuesets.json, v3-codesystems.json and v2-tables.json, every ConceptMap
// in conceptmaps.json, and a not-enumerable entry for every value set named
// by an element binding of the core resources and data types that the
// definitions lack. Expansions are computed from the compose; the published
// ones (expansions.json, see PublishedExpansions) are not used. Concept
// definitions, and the properties kept as flags (status, deprecationDate,
// notSelectable), are left out: they would double the embedded table and
// the time Load takes, and nothing but $lookup shows them. The warnings are as
// for Builder.Build.
func FromDefinitions(dir string) (*Tables, []string, error) {
	b := NewBuilder()
	for _, name := range []string{"valuesets", "v3-codesystems", "v2-tables", "conceptmaps"} {
		entries, err := readBundle(filepath.Join(dir, name+".json.gz"))
		if err != nil {
			return nil, nil, err
		}
		for _, raw := range entries {
			if err := addDefinition(b, raw); err != nil {
				return nil, nil, fmt.Errorf("terminology: %s: %w", name, err)
			}
		}
	}
	bindings, err := ReadBindings(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, bd := range bindings {
		b.AddNotEnumerable(bd.ValueSet, "value set "+bd.ValueSet+" is not in the FHIR R4 definitions")
	}
	t, warnings := b.Build()
	return t, warnings, nil
}

// flagProperty reports whether a property is kept as a concept flag
// (Abstract, Inactive, Deprecated) rather than stored.
func flagProperty(p Property) bool {
	switch p.Code {
	case "status", "deprecationDate", "notSelectable", "inactive":
		return true
	}
	return false
}

// addDefinition parses one bundle entry into the builder.
func addDefinition(b *Builder, raw json.RawMessage) error {
	var head struct{ ResourceType string }
	if err := json.Unmarshal(raw, &head); err != nil {
		return err
	}
	switch head.ResourceType {
	case "CodeSystem":
		cs, err := ParseCodeSystem(raw)
		if err != nil {
			return err
		}
		for i := range cs.Concepts {
			c := &cs.Concepts[i]
			c.Definition = ""
			c.Properties = slices.DeleteFunc(c.Properties, flagProperty)
		}
		b.AddCodeSystem(cs)
	case "ValueSet":
		def, err := ParseValueSet(raw)
		if err != nil {
			return err
		}
		def.Expansion = nil
		b.AddValueSet(def)
	case "ConceptMap":
		cm, err := ParseConceptMap(raw)
		if err != nil {
			return err
		}
		b.AddConceptMap(cm)
	}
	return nil
}

// PublishedExpansions returns the complete expansions published in
// expansions.json of the definitions in dir, by value set URL, for
// comparison with the computed ones.
func PublishedExpansions(dir string) (map[string][]Concept, error) {
	entries, err := readBundle(filepath.Join(dir, "expansions.json.gz"))
	if err != nil {
		return nil, err
	}
	out := map[string][]Concept{}
	for _, raw := range entries {
		def, err := ParseValueSet(raw)
		if err != nil {
			return nil, fmt.Errorf("terminology: expansions: %w", err)
		}
		if def.Expansion != nil {
			out[def.URL] = def.Expansion
		}
	}
	return out, nil
}

func readBundle(path string) ([]json.RawMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("terminology: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("terminology: %s: %w", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("terminology: %s: %w", path, err)
	}
	var bundle struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &bundle); err != nil {
		return nil, fmt.Errorf("terminology: %s: %w", path, err)
	}
	out := make([]json.RawMessage, 0, len(bundle.Entry))
	for _, e := range bundle.Entry {
		out = append(out, e.Resource)
	}
	return out, nil
}

// Binding is an element's binding to a value set in a StructureDefinition
// (ElementDefinition.binding).
type Binding struct {
	Path     string // element path, e.g. "Patient.gender"
	Strength string // required, extensible, preferred, example
	ValueSet string // canonical URL, version stripped
}

// ReadBindings returns the value set bindings of every element of the core
// resources and data types (profiles-resources.json, profiles-types.json),
// skipping constraint profiles.
func ReadBindings(dir string) ([]Binding, error) {
	var out []Binding
	for _, name := range []string{"profiles-resources", "profiles-types"} {
		entries, err := readBundle(filepath.Join(dir, name+".json.gz"))
		if err != nil {
			return nil, err
		}
		for _, raw := range entries {
			var sd struct {
				ResourceType string
				Derivation   string
				Snapshot     struct {
					Element []struct {
						Path    string
						Binding struct{ Strength, ValueSet string }
					}
				}
			}
			if err := json.Unmarshal(raw, &sd); err != nil {
				return nil, fmt.Errorf("terminology: %s: %w", name, err)
			}
			if sd.ResourceType != "StructureDefinition" || sd.Derivation == "constraint" {
				continue
			}
			for _, el := range sd.Snapshot.Element {
				if u := stripVersion(el.Binding.ValueSet); u != "" {
					out = append(out, Binding{Path: el.Path, Strength: el.Binding.Strength, ValueSet: u})
				}
			}
		}
	}
	return out, nil
}
