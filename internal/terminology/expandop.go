package terminology

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// ExpandRequest asks for the expansion of a value set
// (http://hl7.org/fhir/R4/valueset-operation-expand.html).
type ExpandRequest struct {
	ValueSet   string              // url or url|version
	Definition *ValueSetDefinition // a value set given inline, instead of ValueSet
	// Filter keeps the codes whose code, display or any designation
	// contains every word of it, ignoring case.
	Filter string
	Offset int
	// Count is the most codes to return; -1 for all, which fails with
	// outcome.TooCostly above Max.
	Count int
	// DisplayLanguage picks each display among the designations, e.g. "zh-HK".
	DisplayLanguage     string
	IncludeDesignations bool
	ActiveOnly          bool // leave out inactive codes
	Max                 int  // 0: DefaultMaxExpansion
}

// Expansion is a value set expansion: Total codes match, Contains holds
// those from Offset on.
type Expansion struct {
	URL, Version, Name, Title string
	Total                     int
	Offset                    int
	Contains                  []ExpansionEntry
}

// ExpansionEntry is one code of an expansion (ValueSet.expansion.contains).
type ExpansionEntry struct {
	System, Version, Code, Display string
	Abstract, Inactive             bool
	Designations                   []Designation
}

// ExpandValueSet expands a value set from its compose. The error is an
// *outcome.Error: NotFound for an unknown value set, TooCostly when the
// value set draws on codes we cannot enumerate (SNOMED CT, UCUM …) or has
// more than Max codes and no Count, Unprocessable when its definition is
// broken (an unsupported filter, a missing import).
func (t *Tables) ExpandValueSet(req ExpandRequest) (*Expansion, error) {
	vs, err := t.expansionFor(req.ValueSet, req.Definition)
	if err != nil {
		return nil, err
	}
	if !vs.Enumerable() {
		kind := outcome.Unprocessable
		if len(vs.external) > 0 || len(vs.open) > 0 {
			kind = outcome.TooCostly
		}
		return nil, outcome.New(kind, "value set %s cannot be expanded: %s", vs.URL, vs.NotEnumerable)
	}
	limit := req.Max
	if limit <= 0 {
		limit = DefaultMaxExpansion
	}
	matched := t.matching(vs, req)
	start := min(req.Offset, len(matched))
	end := len(matched)
	switch {
	case req.Count >= 0:
		end = min(end, start+min(req.Count, limit))
	case end-start > limit:
		return nil, outcome.New(outcome.TooCostly, "value set %s has %d codes, more than the %d returned at once: use count and offset, or a filter", vs.URL, len(matched), limit)
	}
	exp := &Expansion{URL: vs.URL, Version: vs.Version, Name: vs.Name, Title: vs.Title, Total: len(matched), Offset: req.Offset}
	for _, r := range matched[start:end] {
		exp.Contains = append(exp.Contains, t.entry(vs, r, req))
	}
	return exp, nil
}

func (t *Tables) expansionFor(ref string, def *ValueSetDefinition) (*ValueSet, error) {
	switch {
	case def != nil:
		return t.expandDefinition(def), nil
	case ref == "":
		return nil, outcome.New(outcome.Invalid, "$expand needs a value set (url or valueSet)")
	}
	vs := t.expansion(ref)
	if vs == nil {
		return nil, outcome.New(outcome.NotFound, "value set %s is not known here", ref)
	}
	return vs, nil
}

// matching returns the entries passing the request's filter and activeOnly.
func (t *Tables) matching(vs *ValueSet, req ExpandRequest) []entryRef {
	all := vs.list()
	words := strings.Fields(strings.ToLower(req.Filter))
	if len(words) == 0 && !req.ActiveOnly {
		return all
	}
	text := vs.searchText(t)
	var out []entryRef
	for i, r := range all {
		if req.ActiveOnly && r.system.Concepts[r.index].Inactive {
			continue
		}
		if containsAll(text[i], words) {
			out = append(out, r)
		}
	}
	return out
}

func containsAll(text string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

func (t *Tables) entry(vs *ValueSet, r entryRef, req ExpandRequest) ExpansionEntry {
	cs, c := r.system, &r.system.Concepts[r.index]
	e := ExpansionEntry{System: cs.URL, Version: cs.Version, Code: c.Code, Display: vs.display(cs, c),
		Abstract: c.Abstract, Inactive: c.Inactive}
	ds := t.designations(cs, c)
	if x, ok := vs.extra[conceptKey(cs.URL, c.Code)]; ok {
		ds = append(append([]Designation(nil), x.designations...), ds...)
	}
	if d, ok := designationIn(ds, req.DisplayLanguage); ok {
		e.Display = d
	}
	if req.IncludeDesignations {
		e.Designations = ds
	}
	return e
}

// Expand is ValueSet/$expand: a Parameters resource in (url, valueSet,
// valueSetVersion, filter, offset, count, displayLanguage,
// includeDesignations, activeOnly) and out the ValueSet with its expansion
// (returned as the resource itself, as the operation has a single "return"
// output). For ValueSet/[id]/$expand pass the stored resource's url.
func (s *Service) Expand(_ context.Context, in map[string]any) (map[string]any, error) {
	req, echo, err := expandRequest(in)
	if err != nil {
		return nil, err
	}
	req.Max = s.maxExpansion
	exp, err := s.Tables().ExpandValueSet(req)
	if err != nil {
		return nil, err
	}
	return exp.resource(s.now(), echo), nil
}

// expandRequest reads the $expand parameters, and those to echo in
// expansion.parameter.
func expandRequest(in map[string]any) (ExpandRequest, *out, error) {
	p, err := readParams("$expand", in)
	if err != nil {
		return ExpandRequest{}, nil, err
	}
	req := ExpandRequest{ValueSet: p.str("url"), Filter: p.str("filter"), DisplayLanguage: p.str("displayLanguage")}
	if v := p.str("valueSetVersion"); v != "" && req.ValueSet != "" {
		req.ValueSet = stripVersion(req.ValueSet) + "|" + v
	}
	if r := p.resource("valueSet"); r != nil {
		parsed, err := parseResource(r)
		if err != nil || parsed.vs == nil {
			return req, nil, outcome.New(outcome.Invalid, "$expand: parameter valueSet must be a ValueSet with a url")
		}
		req.Definition = parsed.vs
	}
	if req.Offset, err = p.integer("offset", 0); err != nil {
		return req, nil, err
	}
	if req.Count, err = p.integer("count", -1); err != nil {
		return req, nil, err
	}
	if req.IncludeDesignations, err = p.boolean("includeDesignations"); err != nil {
		return req, nil, err
	}
	if req.ActiveOnly, err = p.boolean("activeOnly"); err != nil {
		return req, nil, err
	}
	echo := &out{}
	for _, name := range []string{"filter", "displayLanguage"} {
		if v := p.str(name); v != "" {
			echo.add(name, "String", v)
		}
	}
	for _, name := range []string{"offset", "count"} {
		if v := p.str(name); v != "" {
			n, _ := p.integer(name, 0)
			echo.add(name, "Integer", n)
		}
	}
	for _, name := range []string{"includeDesignations", "activeOnly"} {
		if v := p.str(name); v != "" {
			echo.add(name, "Boolean", v == "true")
		}
	}
	return req, echo, nil
}

// resource renders the expansion as a ValueSet resource.
func (e *Expansion) resource(now time.Time, echo *out) map[string]any {
	contains := make([]any, 0, len(e.Contains))
	for _, c := range e.Contains {
		contains = append(contains, c.json())
	}
	exp := map[string]any{
		"identifier": "urn:uuid:" + newUUID(),
		"timestamp":  now.UTC().Format(time.RFC3339),
		"total":      e.Total,
		"offset":     e.Offset,
	}
	if echo != nil && len(echo.list) > 0 {
		exp["parameter"] = echo.list
	}
	if len(contains) > 0 {
		exp["contains"] = contains
	}
	vs := map[string]any{"resourceType": "ValueSet", "url": e.URL, "status": "active", "expansion": exp}
	for k, v := range map[string]string{"version": e.Version, "name": e.Name, "title": e.Title} {
		if v != "" {
			vs[k] = v
		}
	}
	return vs
}

func (c ExpansionEntry) json() map[string]any {
	m := map[string]any{"system": c.System, "code": c.Code}
	if c.Version != "" {
		m["version"] = c.Version
	}
	if c.Display != "" {
		m["display"] = c.Display
	}
	if c.Abstract {
		m["abstract"] = true
	}
	if c.Inactive {
		m["inactive"] = true
	}
	var ds []any
	for _, d := range c.Designations {
		dm := map[string]any{"value": d.Value}
		if d.Language != "" {
			dm["language"] = d.Language
		}
		if d.Use != "" {
			dm["use"] = useCoding(d.Use)
		}
		ds = append(ds, dm)
	}
	if len(ds) > 0 {
		m["designation"] = ds
	}
	return m
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
