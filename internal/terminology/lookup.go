package terminology

import (
	"context"
	"slices"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// LookupRequest asks for the details of a code
// (http://hl7.org/fhir/R4/codesystem-operation-lookup.html).
type LookupRequest struct {
	System, Version, Code string
	// DisplayLanguage picks the display among the designations, e.g.
	// "zh-HK"; the default display when there is none in that language.
	DisplayLanguage string
	// Properties limits the properties returned (codes such as "parent",
	// "child", "definition", "designation", "inactive"); all when empty.
	Properties []string
}

// LookupResult is the answer to $lookup.
type LookupResult struct {
	Name         string // the code system's name
	Version      string
	Display      string // in the requested language when a designation exists
	Abstract     bool
	Inactive     bool
	Definition   string
	Designations []Designation
	Parents      []string
	Children     []string
	Properties   []Property
}

// LookupCode returns the details of a code of a code system we hold, or of
// a well-formed code of a system with a grammar (UCUM, BCP 47 …). The error
// is an *outcome.Error: NotFound for an unknown system or code, Invalid
// for a request without system and code.
func (t *Tables) LookupCode(req LookupRequest) (*LookupResult, error) {
	if req.System == "" || req.Code == "" {
		return nil, outcome.New(outcome.Invalid, "$lookup needs a system and a code (or a coding)")
	}
	cs, ok := t.systems.get(req.System, req.Version)
	if !ok || cs.Content == "supplement" {
		return lookupExternal(req)
	}
	c, ok := cs.Lookup(req.Code)
	if !ok {
		return nil, outcome.New(outcome.NotFound, "code %q is not in code system %s", req.Code, req.System)
	}
	res := &LookupResult{Name: first(cs.Name, cs.Title, cs.URL), Version: cs.Version, Display: t.displayOf(cs, c, req.DisplayLanguage),
		Abstract: c.Abstract, Inactive: c.Inactive, Definition: c.Definition, Designations: t.designations(cs, c),
		Properties: c.Properties}
	for _, p := range c.Parents {
		res.Parents = append(res.Parents, cs.Concepts[p].Code)
	}
	for _, ch := range c.Children {
		res.Children = append(res.Children, cs.Concepts[ch].Code)
	}
	return res, nil
}

// lookupExternal answers $lookup for a system we do not hold.
func lookupExternal(req LookupRequest) (*LookupResult, error) {
	ext, ok := externalSystem(req.System)
	if !ok {
		return nil, outcome.New(outcome.NotFound, "code system %s is not known here", req.System)
	}
	checked, err := ext.Check(req.Code)
	switch {
	case !checked:
		return nil, outcome.New(outcome.NotFound, "code system %s (%s) is not available here, so code %q cannot be looked up", req.System, ext.Name, req.Code)
	case err != nil:
		return nil, outcome.New(outcome.NotFound, "code %q is not valid in %s: %v", req.Code, ext.Name, err)
	}
	return &LookupResult{Name: ext.Name, Display: req.Code}, nil
}

// Lookup is CodeSystem/$lookup: a Parameters resource in (code, system,
// version, coding, displayLanguage, property) and out (name, version,
// display, designation, property). For CodeSystem/[id]/$lookup pass the
// stored resource's url as system.
func (s *Service) Lookup(_ context.Context, in map[string]any) (map[string]any, error) {
	p, err := readParams("$lookup", in)
	if err != nil {
		return nil, err
	}
	req := LookupRequest{System: p.str("system"), Version: p.str("version"), Code: p.str("code"),
		DisplayLanguage: p.str("displayLanguage"), Properties: p.strs("property")}
	if c, ok := p.coding("coding"); ok {
		req.System, req.Version, req.Code = first(c.System, req.System), first(c.Version, req.Version), c.Code
	}
	res, err := s.Tables().LookupCode(req)
	if err != nil {
		return nil, err
	}
	return res.parameters(req.Properties), nil
}

// parameters renders the result as the $lookup output Parameters.
func (r *LookupResult) parameters(want []string) map[string]any {
	wanted := func(code string) bool { return len(want) == 0 || slices.Contains(want, code) }
	var o out
	o.add("name", "String", r.Name)
	if r.Version != "" {
		o.add("version", "String", r.Version)
	}
	o.add("display", "String", r.Display)
	if r.Abstract {
		o.add("abstract", "Boolean", true)
	}
	if wanted("designation") {
		for _, d := range r.Designations {
			var part out
			if d.Language != "" {
				part.add("language", "Code", d.Language)
			}
			if d.Use != "" {
				part.add("use", "Coding", useCoding(d.Use))
			}
			part.add("value", "String", d.Value)
			o.addPart("designation", &part)
		}
	}
	prop := func(code, typ string, value any) {
		if wanted(code) {
			var part out
			part.add("code", "Code", code)
			part.add("value", typ, value)
			o.addPart("property", &part)
		}
	}
	if r.Definition != "" {
		prop("definition", "String", r.Definition)
	}
	if r.Inactive {
		prop("inactive", "Boolean", true)
	}
	for _, c := range r.Parents {
		prop("parent", "Code", c)
	}
	for _, c := range r.Children {
		prop("child", "Code", c)
	}
	for _, p := range r.Properties {
		typ, value := propertyValue(p)
		prop(p.Code, typ, value)
	}
	return o.parameters()
}

// propertyValue is the value[x] suffix and value of a concept property.
func propertyValue(p Property) (string, any) {
	switch p.Type {
	case "boolean":
		return "Boolean", p.Value == "true"
	case "Coding":
		system, code, _ := cutLast(p.Value, "|")
		return "Coding", codingValue(Coding{System: system, Code: code})
	case "code", "string", "integer", "decimal", "dateTime":
		return upperFirst(p.Type), p.Value
	}
	return "String", p.Value
}

// SubsumesCodes tells how codeA and codeB of a hierarchical code system
// are related (http://hl7.org/fhir/R4/codesystem-operation-subsumes.html):
// "equivalent", "subsumes" (A is an ancestor of B), "subsumed-by" or
// "not-subsumed". The hierarchy is the one of concept nesting and the
// parent, child and subsumedBy properties. The error is an *outcome.Error:
// NotFound for a system we do not hold, Invalid for an unknown code.
func (t *Tables) SubsumesCodes(system, version, codeA, codeB string) (string, error) {
	if system == "" || codeA == "" || codeB == "" {
		return "", outcome.New(outcome.Invalid, "$subsumes needs a system and two codes (or two codings)")
	}
	cs, ok := t.systems.get(system, version)
	if !ok || cs.Content == "supplement" || cs.Content == "not-present" {
		return "", outcome.New(outcome.NotFound, "code system %s is not known here, so subsumption cannot be tested", system)
	}
	a, okA := cs.find(codeA)
	b, okB := cs.find(codeB)
	switch {
	case !okA:
		return "", outcome.New(outcome.Invalid, "code %q is not in code system %s", codeA, system)
	case !okB:
		return "", outcome.New(outcome.Invalid, "code %q is not in code system %s", codeB, system)
	case a == b:
		return "equivalent", nil
	case slices.Contains(cs.walk(b, parents), a):
		return "subsumes", nil
	case slices.Contains(cs.walk(a, parents), b):
		return "subsumed-by", nil
	}
	return "not-subsumed", nil
}

// Subsumes is CodeSystem/$subsumes: a Parameters resource in (codeA,
// codeB, system, version, codingA, codingB) and out (outcome).
func (s *Service) Subsumes(_ context.Context, in map[string]any) (map[string]any, error) {
	p, err := readParams("$subsumes", in)
	if err != nil {
		return nil, err
	}
	system, version, a, b := p.str("system"), p.str("version"), p.str("codeA"), p.str("codeB")
	for _, pair := range []struct {
		name string
		code *string
	}{{"codingA", &a}, {"codingB", &b}} {
		if c, ok := p.coding(pair.name); ok {
			if system != "" && c.System != "" && c.System != system {
				return nil, outcome.New(outcome.Invalid, "$subsumes: %s has system %s, not %s", pair.name, c.System, system)
			}
			system, *pair.code = first(system, c.System), c.Code
			version = first(version, c.Version)
		}
	}
	rel, err := s.Tables().SubsumesCodes(system, version, a, b)
	if err != nil {
		return nil, err
	}
	var o out
	o.add("outcome", "Code", rel)
	return o.parameters(), nil
}
