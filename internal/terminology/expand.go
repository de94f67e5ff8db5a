package terminology

import (
	"fmt"
	"regexp"
	"strings"
)

// expansion returns the expansion of the value set ref ("url" or
// "url|version"), computing and memoising it on first use; nil when the
// value set is unknown.
func (t *Tables) expansion(ref string) *ValueSet {
	if v, ok := t.cache.Load(ref); ok {
		return v.(*ValueSet)
	}
	def, ok := t.resolveValueSet(ref)
	if !ok {
		return nil
	}
	vs := (&expander{t: t, active: map[string]bool{}}).valueSet(def)
	t.cache.Store(ref, vs)
	return vs
}

// resolveValueSet finds the value set ref names; a version we do not have
// falls back to the current one, as the R4 definitions cite their own
// version (|4.0.1) and stored value sets may be cited with one.
func (t *Tables) resolveValueSet(ref string) (*ValueSetDefinition, bool) {
	if def, ok := t.valueSets.get(ref, ""); ok {
		return def, true
	}
	return t.valueSets.get(stripVersion(ref), "")
}

// expandDefinition expands a value set that need not be in the tables (one
// given inline to $expand); it is not memoised.
func (t *Tables) expandDefinition(def *ValueSetDefinition) *ValueSet {
	e := &expander{t: t, active: map[string]bool{}}
	return e.compute(def)
}

// expander evaluates value set definitions against one Tables.
type expander struct {
	t      *Tables
	active map[string]bool // value sets being expanded, for import cycles
}

// valueSet returns the memoised expansion of def, computing it if needed.
func (e *expander) valueSet(def *ValueSetDefinition) *ValueSet {
	key := def.URL + "|" + def.Version
	if v, ok := e.t.cache.Load(key); ok {
		return v.(*ValueSet)
	}
	if e.active[def.URL] {
		return &ValueSet{URL: def.URL, NotEnumerable: "value set " + def.URL + " imports itself", undecidable: true,
			deps: map[string]bool{def.URL: true}}
	}
	e.active[def.URL] = true
	defer delete(e.active, def.URL)
	vs := e.compute(def)
	e.t.cache.Store(key, vs)
	return vs
}

// compute evaluates ValueSet.compose: the union of the includes minus the
// excludes.
func (e *expander) compute(def *ValueSetDefinition) *ValueSet {
	vs := &ValueSet{URL: def.URL, Version: def.Version, Name: def.Name, Title: def.Title,
		deps: map[string]bool{def.URL: true}}
	set := newCodeSet()
	reason := def.Missing
	if reason == "" && len(def.Compose.Include) == 0 {
		reason = "value set " + def.URL + " has no compose"
	}
	vs.undecidable = reason != ""
	for _, inc := range def.Compose.Include {
		p := e.include(vs, def, inc)
		set.union(p.set)
		vs.external = appendNew(vs.external, p.external...)
		vs.open = appendNew(vs.open, p.open...)
		vs.undecidable = vs.undecidable || p.undecidable
		reason = first(reason, p.reason)
	}
	for _, exc := range def.Compose.Exclude {
		p := e.include(vs, def, exc)
		if p.reason != "" || len(p.external) > 0 {
			// What the exclude removes is unknown, so nothing is certain.
			set, reason = newCodeSet(), first(p.reason, "value set "+def.URL+": an exclude cannot be evaluated")
			vs.external, vs.open, vs.undecidable = nil, nil, true
			break
		}
		set.subtract(p.set)
	}
	vs.members = set.members()
	switch {
	case reason != "":
		vs.NotEnumerable = reason
	case len(vs.external) > 0:
		vs.NotEnumerable = "code system " + vs.external[0] + " is not enumerated"
	}
	return vs
}

// part is what one include or exclude selects.
type part struct {
	set         *codeSet
	external    []string // systems included whole, decided by their grammar
	open        []string // systems whose selected codes are unknown
	undecidable bool     // the selection is unknown whatever the system
	reason      string   // why the selection cannot be listed; "" when it can
}

// include evaluates one include or exclude: the codes it selects from its
// system, intersected with every value set it imports.
func (e *expander) include(vs *ValueSet, def *ValueSetDefinition, in ComposeSet) part {
	p := part{set: newCodeSet()}
	if in.System != "" {
		vs.deps[in.System] = true
		cs, reason := e.system(in)
		switch {
		case cs != nil:
			bits, reason := e.selectCodes(vs, def, cs, in)
			p.set.add(cs, bits)
			if reason != "" {
				p.reason, p.open = reason, []string{in.System}
			}
			if len(in.Concepts) == 0 && cs.Content != "complete" {
				// We list the codes we hold of an example or fragment
				// system; others may exist, so membership stays open.
				p.open = []string{in.System}
			}
		case isGrammarWhole(in):
			p.external = []string{in.System}
		default:
			p.reason, p.open = reason, []string{in.System}
		}
	}
	for i, u := range in.ValueSets {
		vs.deps[stripVersion(u)] = true
		imp := e.importValueSet(u)
		for d := range imp.deps {
			vs.deps[d] = true
		}
		for k, x := range imp.extra {
			vs.setExtra(k, x)
		}
		vs.Warnings = append(vs.Warnings, imp.Warnings...)
		switch {
		case in.System == "" && len(in.ValueSets) == 1:
			p.set, p.external, p.open, p.undecidable = imp.codeSet(), imp.external, imp.open, imp.undecidable
			p.reason = first(p.reason, imp.NotEnumerable)
			if len(imp.external) > 0 && !imp.undecidable && len(imp.open) == 0 {
				p.reason = ""
			}
		case !imp.Enumerable():
			p.reason, p.undecidable = first(p.reason, imp.NotEnumerable), true
		case i == 0 && in.System == "":
			p.set = imp.codeSet()
		default:
			p.set.intersect(imp.codeSet())
		}
	}
	return p
}

// isGrammarWhole reports whether an include takes a whole external system
// whose codes we can check by syntax.
func isGrammarWhole(in ComposeSet) bool {
	ext, ok := externalSystem(in.System)
	return ok && ext.check != nil && len(in.Concepts) == 0 && len(in.Filters) == 0
}

func (e *expander) importValueSet(ref string) *ValueSet {
	def, ok := e.t.resolveValueSet(ref)
	if !ok {
		url := stripVersion(ref)
		return &ValueSet{URL: url, NotEnumerable: "value set " + ref + " is not defined", undecidable: true,
			deps: map[string]bool{url: true}}
	}
	return e.valueSet(def)
}

// system returns the code system an include draws on, if its codes can be
// enumerated: a complete one, or any we hold (a fragment or the synthetic
// one made from value set listings) when the include lists its codes.
func (e *expander) system(in ComposeSet) (*CodeSystem, string) {
	listed := len(in.Concepts) > 0
	cs, ok := e.t.systems.get(in.System, in.Version)
	if !ok && in.Version != "" {
		cs, ok = e.t.systems.get(in.System, "")
	}
	if frag, found := e.t.fragments[in.System]; listed && found && (!ok || cs.Content != "complete") {
		cs, ok = frag, true
	}
	switch {
	case !ok:
		return nil, "code system " + in.System + " is not enumerated"
	case !listed && cs.Content != "complete" && cs.Content != "example" && cs.Content != "fragment":
		return nil, "code system " + in.System + " has content " + cs.Content
	}
	return cs, ""
}

// selectCodes returns the codes of cs an include selects: the listed
// concepts, or the selectable ones passing every filter.
func (e *expander) selectCodes(vs *ValueSet, def *ValueSetDefinition, cs *CodeSystem, in ComposeSet) (bitset, string) {
	bits := newBitset(len(cs.Concepts))
	if len(in.Concepts) > 0 {
		for _, c := range in.Concepts {
			i, ok := cs.find(c.Code)
			if !ok {
				vs.Warnings = append(vs.Warnings, fmt.Sprintf("%s: code %s|%s is not defined", def.URL, cs.URL, c.Code))
				continue
			}
			bits.set(i)
			if c.Display != "" && c.Display != cs.Concepts[i].Display || len(c.Designations) > 0 {
				vs.setExtra(conceptKey(cs.URL, cs.Concepts[i].Code), conceptExtra{display: c.Display, designations: c.Designations})
			}
		}
		return bits, ""
	}
	// Like the published expansions, a whole system or a filter selects only
	// concepts meant for use in data: not abstract (notSelectable)
	// groupings, not deprecated ones; retired ones are in (flagged
	// inactive) unless compose.inactive is false.
	for i, c := range cs.Concepts {
		if !c.Abstract && !c.Deprecated && (!c.Inactive || !def.Compose.ActiveOnly) {
			bits.set(int32(i))
		}
	}
	for _, f := range in.Filters {
		fbits, reason := filter(cs, f)
		if reason != "" {
			return newBitset(len(cs.Concepts)), "value set " + def.URL + ": " + reason
		}
		for i := range bits {
			bits[i] &= fbits[i]
		}
	}
	return bits, ""
}

func (vs *ValueSet) setExtra(key string, x conceptExtra) {
	if vs.extra == nil {
		vs.extra = map[string]conceptExtra{}
	}
	vs.extra[key] = x
}

// filter evaluates one filter over the codes, hierarchy and properties of
// cs (http://hl7.org/fhir/R4/valueset-filter-operator.html).
func filter(cs *CodeSystem, f Filter) (bitset, string) {
	bits := newBitset(len(cs.Concepts))
	root, found := cs.find(f.Value)
	byCode := f.Property == "concept" || f.Property == "code"
	switch {
	case byCode && (f.Op == "is-a" || f.Op == "is-not-a"):
		if found {
			bits.set(root)
			for _, d := range cs.walk(root, children) {
				bits.set(d)
			}
		}
		if f.Op == "is-not-a" {
			invert(bits, len(cs.Concepts))
		}
	case byCode && f.Op == "descendent-of":
		if found {
			for _, d := range cs.walk(root, children) {
				bits.set(d)
			}
		}
	case byCode && f.Op == "generalizes":
		if found {
			bits.set(root)
			for _, d := range cs.walk(root, parents) {
				bits.set(d)
			}
		}
	case byCode && f.Op == "=":
		if found {
			bits.set(root)
		}
	case byCode && (f.Op == "in" || f.Op == "not-in"):
		for _, code := range strings.Split(f.Value, ",") {
			if i, ok := cs.find(strings.TrimSpace(code)); ok {
				bits.set(i)
			}
		}
		if f.Op == "not-in" {
			invert(bits, len(cs.Concepts))
		}
	case byCode && f.Op == "regex":
		re, err := regexp.Compile("^(?:" + f.Value + ")$")
		if err != nil {
			return nil, fmt.Sprintf("bad regex filter %q: %v", f.Value, err)
		}
		for i, c := range cs.Concepts {
			if re.MatchString(c.Code) {
				bits.set(int32(i))
			}
		}
	case (f.Property == "parent" || f.Property == "child") && f.Op == "=":
		if found {
			for _, c := range related(&cs.Concepts[root], f.Property == "parent") {
				bits.set(c)
			}
		}
	default:
		return propertyFilter(cs, f)
	}
	return bits, ""
}

func children(c *CodeConcept) []int32 { return c.Children }
func parents(c *CodeConcept) []int32  { return c.Parents }

// related is, for "parent = X", X's children; for "child = X", X's parents.
func related(c *CodeConcept, parentFilter bool) []int32 {
	if parentFilter {
		return c.Children
	}
	return c.Parents
}

func invert(bits bitset, n int) {
	for i := 0; i < n; i++ {
		if bits.has(int32(i)) {
			bits.unset(int32(i))
		} else {
			bits.set(int32(i))
		}
	}
}

// propertyFilter evaluates a filter on a concept property: =, in, not-in,
// regex and exists.
func propertyFilter(cs *CodeSystem, f Filter) (bitset, string) {
	bits := newBitset(len(cs.Concepts))
	var match func(string) bool
	switch f.Op {
	case "=":
		match = func(v string) bool { return v == f.Value }
	case "in", "not-in":
		set := map[string]bool{}
		for _, v := range strings.Split(f.Value, ",") {
			set[strings.TrimSpace(v)] = true
		}
		match = func(v string) bool { return set[v] }
	case "regex":
		re, err := regexp.Compile("^(?:" + f.Value + ")$")
		if err != nil {
			return nil, fmt.Sprintf("bad regex filter %q: %v", f.Value, err)
		}
		match = re.MatchString
	case "exists":
		match = func(string) bool { return true }
	default:
		return nil, fmt.Sprintf("filter %s %s %s on %s is not supported", f.Property, f.Op, f.Value, cs.URL)
	}
	known := false
	for i := range cs.Concepts {
		has := false
		for _, p := range cs.Concepts[i].Properties {
			if p.Code == f.Property {
				known = true
				if match(p.Value) {
					has = true
				}
			}
		}
		if f.Op == "exists" {
			has = has == (f.Value != "false")
		}
		if f.Op == "not-in" {
			has = !has
		}
		if has {
			bits.set(int32(i))
		}
	}
	if !known && f.Op != "exists" && f.Op != "not-in" {
		return nil, fmt.Sprintf("filter %s %s %s on %s is not supported: no concept has property %s", f.Property, f.Op, f.Value, cs.URL, f.Property)
	}
	return bits, ""
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, x := range list {
			found = found || x == it
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}
