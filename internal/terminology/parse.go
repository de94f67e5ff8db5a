package terminology

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The JSON shapes of the parts of CodeSystem and ValueSet we read
// (http://hl7.org/fhir/R4/codesystem.html, http://hl7.org/fhir/R4/valueset.html).
type (
	codeSystemJSON struct {
		ResourceType  string        `json:"resourceType"`
		URL           string        `json:"url"`
		Version       string        `json:"version"`
		Name          string        `json:"name"`
		Title         string        `json:"title"`
		Content       string        `json:"content"`
		CaseSensitive *bool         `json:"caseSensitive"`
		Supplements   string        `json:"supplements"`
		Concept       []conceptJSON `json:"concept"`
	}
	conceptJSON struct {
		Code        string            `json:"code"`
		Display     string            `json:"display"`
		Definition  string            `json:"definition"`
		Designation []designationJSON `json:"designation"`
		Property    []propertyJSON    `json:"property"`
		Concept     []conceptJSON     `json:"concept"`
	}
	designationJSON struct {
		Language string     `json:"language"`
		Use      codingJSON `json:"use"`
		Value    string     `json:"value"`
	}
	propertyJSON struct {
		Code          string       `json:"code"`
		ValueCode     *string      `json:"valueCode"`
		ValueString   *string      `json:"valueString"`
		ValueBoolean  *bool        `json:"valueBoolean"`
		ValueInteger  *json.Number `json:"valueInteger"`
		ValueDecimal  *json.Number `json:"valueDecimal"`
		ValueDateTime *string      `json:"valueDateTime"`
		ValueCoding   *codingJSON  `json:"valueCoding"`
	}
	codingJSON struct {
		System  string `json:"system"`
		Code    string `json:"code"`
		Display string `json:"display"`
	}
	valueSetJSON struct {
		ResourceType string `json:"resourceType"`
		URL          string `json:"url"`
		Version      string `json:"version"`
		Name         string `json:"name"`
		Title        string `json:"title"`
		Compose      *struct {
			Inactive *bool            `json:"inactive"`
			Include  []composeSetJSON `json:"include"`
			Exclude  []composeSetJSON `json:"exclude"`
		} `json:"compose"`
		Expansion *struct {
			Total     *int                    `json:"total"`
			Extension []struct{ URL string }  `json:"extension"`
			Parameter []struct{ Name string } `json:"parameter"`
			Contains  []expansionContainsJSON `json:"contains"`
		} `json:"expansion"`
	}
	composeSetJSON struct {
		System  string `json:"system"`
		Version string `json:"version"`
		Concept []struct {
			Code        string            `json:"code"`
			Display     string            `json:"display"`
			Designation []designationJSON `json:"designation"`
		} `json:"concept"`
		Filter   []Filter `json:"filter"`
		ValueSet []string `json:"valueSet"`
	}
	expansionContainsJSON struct {
		System   string                  `json:"system"`
		Code     string                  `json:"code"`
		Display  string                  `json:"display"`
		Contains []expansionContainsJSON `json:"contains"`
	}
)

// ParseCodeSystem reads a CodeSystem resource in FHIR JSON. The hierarchy
// comes from concept nesting and from the parent, child and subsumedBy
// concept properties (the v3 code systems use child for a second parent).
func ParseCodeSystem(data []byte) (*CodeSystem, error) {
	var in codeSystemJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("terminology: parse CodeSystem: %w", err)
	}
	if in.ResourceType != "CodeSystem" || in.URL == "" {
		return nil, fmt.Errorf("terminology: parse CodeSystem: not a CodeSystem with a url")
	}
	cs := &CodeSystem{
		URL: in.URL, Version: in.Version, Name: in.Name, Title: in.Title, Content: in.Content,
		CaseSensitive: in.CaseSensitive == nil || *in.CaseSensitive, Supplements: stripVersion(in.Supplements),
	}
	f := flattener{cs: cs, index: map[string]int32{}}
	f.add(in.Concept, -1)
	f.link()
	cs.reindex()
	return cs, nil
}

// flattener turns the nested concept tree into CodeSystem.Concepts.
type flattener struct {
	cs    *CodeSystem
	index map[string]int32
	links [][2]string // (child, parent) pairs known only by code
}

func (f *flattener) add(list []conceptJSON, parent int32) {
	for _, c := range list {
		i, seen := f.index[c.Code]
		if !seen {
			i = int32(len(f.cs.Concepts))
			f.index[c.Code] = i
			f.cs.Concepts = append(f.cs.Concepts, concept(c))
		}
		if parent >= 0 {
			f.links = append(f.links, [2]string{c.Code, f.cs.Concepts[parent].Code})
		}
		for _, p := range c.Property {
			if p.ValueCode == nil {
				continue
			}
			switch p.Code {
			case "parent", "subsumedBy":
				f.links = append(f.links, [2]string{c.Code, *p.ValueCode})
			case "child":
				f.links = append(f.links, [2]string{*p.ValueCode, c.Code})
			}
		}
		f.add(c.Concept, i)
	}
}

// link resolves the (child, parent) pairs, ignoring unknown codes and duplicates.
func (f *flattener) link() {
	for _, l := range f.links {
		c, ok1 := f.index[l[0]]
		p, ok2 := f.index[l[1]]
		if !ok1 || !ok2 || c == p {
			continue
		}
		cc := &f.cs.Concepts[c]
		if !containsIndex(cc.Parents, p) {
			cc.Parents = append(cc.Parents, p)
		}
	}
}

func containsIndex(list []int32, i int32) bool {
	for _, x := range list {
		if x == i {
			return true
		}
	}
	return false
}

func concept(c conceptJSON) CodeConcept {
	out := CodeConcept{Code: c.Code, Display: c.Display, Definition: c.Definition}
	for _, p := range c.Property {
		prop := property(p)
		switch {
		case p.Code == "notSelectable" && prop.Value == "true":
			out.Abstract = true
		case p.Code == "inactive" && prop.Value == "true",
			p.Code == "status" && (prop.Value == "retired" || prop.Value == "inactive"):
			out.Inactive = true
		case p.Code == "status" && prop.Value == "deprecated", p.Code == "deprecationDate":
			out.Deprecated = true
		}
		switch p.Code {
		case "parent", "child", "subsumedBy":
			// kept as the hierarchy instead
		default:
			if prop.Type != "" {
				out.Properties = append(out.Properties, prop)
			}
		}
	}
	out.Designations = designations(c.Designation)
	return out
}

func designations(in []designationJSON) []Designation {
	var out []Designation
	for _, d := range in {
		use := ""
		if d.Use.Code != "" {
			use = d.Use.System + "|" + d.Use.Code
		}
		out = append(out, Designation{Language: d.Language, Use: use, Value: d.Value})
	}
	return out
}

// property turns a concept property into its type and a string value.
func property(p propertyJSON) Property {
	switch {
	case p.ValueCode != nil:
		return Property{p.Code, "code", *p.ValueCode}
	case p.ValueString != nil:
		return Property{p.Code, "string", *p.ValueString}
	case p.ValueBoolean != nil:
		return Property{p.Code, "boolean", strconv.FormatBool(*p.ValueBoolean)}
	case p.ValueInteger != nil:
		return Property{p.Code, "integer", p.ValueInteger.String()}
	case p.ValueDecimal != nil:
		return Property{p.Code, "decimal", p.ValueDecimal.String()}
	case p.ValueDateTime != nil:
		return Property{p.Code, "dateTime", *p.ValueDateTime}
	case p.ValueCoding != nil:
		return Property{p.Code, "Coding", p.ValueCoding.System + "|" + p.ValueCoding.Code}
	}
	return Property{Code: p.Code}
}

// ValueSetDefinition is what defines a value set's content: its compose.
type ValueSetDefinition struct {
	URL     string
	Version string
	Name    string
	Title   string
	Compose Compose
	// Missing says why the content is unknown, for value sets we know of
	// (from a binding) but do not have; empty otherwise.
	Missing string
	// Expansion is the published expansion, kept only for comparison with
	// the computed one; nil when there is none or it is partial.
	Expansion []Concept
}

// Compose is ValueSet.compose: the union of the includes minus the excludes.
type Compose struct {
	Include []ComposeSet
	Exclude []ComposeSet
	// ActiveOnly leaves inactive codes out of a whole system or a filter;
	// it is set by compose.inactive false. By default (compose.inactive
	// absent or true) they are in, flagged inactive, as in the published
	// R4 expansions.
	ActiveOnly bool
}

// ComposeSet is one ValueSet.compose.include or exclude: codes of System
// (all of them, the listed Concepts, or those passing every Filter),
// intersected with every value set in ValueSets.
type ComposeSet struct {
	System    string
	Version   string
	Concepts  []ComposeConcept
	Filters   []Filter
	ValueSets []string // canonical URLs, possibly with |version
}

// ComposeConcept is ValueSet.compose.include.concept.
type ComposeConcept struct {
	Code         string
	Display      string
	Designations []Designation
}

// Filter is ValueSet.compose.include.filter.
type Filter struct {
	Property string `json:"property"`
	Op       string `json:"op"`
	Value    string `json:"value"`
}

// ParseValueSet reads a ValueSet resource in FHIR JSON.
func ParseValueSet(data []byte) (*ValueSetDefinition, error) {
	var in valueSetJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("terminology: parse ValueSet: %w", err)
	}
	if in.ResourceType != "ValueSet" || in.URL == "" {
		return nil, fmt.Errorf("terminology: parse ValueSet: not a ValueSet with a url")
	}
	def := &ValueSetDefinition{URL: in.URL, Version: in.Version, Name: in.Name, Title: in.Title}
	if in.Compose != nil {
		def.Compose.Include = composeSets(in.Compose.Include)
		def.Compose.Exclude = composeSets(in.Compose.Exclude)
		def.Compose.ActiveOnly = in.Compose.Inactive != nil && !*in.Compose.Inactive
	}
	if e := in.Expansion; e != nil && completeExpansion(e.Parameter, e.Extension) {
		def.Expansion = flattenContains(e.Contains, []Concept{})
	}
	return def, nil
}

func composeSets(in []composeSetJSON) []ComposeSet {
	out := make([]ComposeSet, 0, len(in))
	for _, s := range in {
		cs := ComposeSet{System: s.System, Version: s.Version, Filters: s.Filter, ValueSets: s.ValueSet}
		for _, c := range s.Concept {
			cs.Concepts = append(cs.Concepts, ComposeConcept{Code: c.Code, Display: c.Display, Designations: designations(c.Designation)})
		}
		out = append(out, cs)
	}
	return out
}

// completeExpansion reports whether a published expansion lists every
// code: the tooling marks partial ones with a limitedExpansion parameter or
// the valueset-toocostly / valueset-unclosed extensions.
func completeExpansion(params []struct{ Name string }, exts []struct{ URL string }) bool {
	for _, p := range params {
		if p.Name == "limitedExpansion" {
			return false
		}
	}
	for _, e := range exts {
		if strings.HasSuffix(e.URL, "valueset-toocostly") || strings.HasSuffix(e.URL, "valueset-unclosed") {
			return false
		}
	}
	return true
}

func flattenContains(in []expansionContainsJSON, out []Concept) []Concept {
	for _, c := range in {
		if c.Code != "" {
			out = append(out, Concept{System: c.System, Code: c.Code, Display: c.Display})
		}
		out = flattenContains(c.Contains, out)
	}
	return out
}
