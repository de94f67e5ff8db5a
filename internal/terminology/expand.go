package terminology

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Builder assembles Tables from code systems and value set definitions,
// expanding every value set (http://hl7.org/fhir/R4/valueset.html#expansion).
type Builder struct {
	systems map[string]*CodeSystem
	defs    map[string]*ValueSetDefinition
	unknown map[string]string // url → why it is not enumerable
	// synthetic marks the fragments made by addFragments.
	synthetic map[string]bool
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{systems: map[string]*CodeSystem{}, defs: map[string]*ValueSetDefinition{}, unknown: map[string]string{}, synthetic: map[string]bool{}}
}

// AddCodeSystem adds a code system; a later one with the same URL replaces it.
func (b *Builder) AddCodeSystem(cs *CodeSystem) { b.systems[cs.URL] = cs }

// AddValueSet adds a value set definition; a later one with the same URL replaces it.
func (b *Builder) AddValueSet(def *ValueSetDefinition) { b.defs[def.URL] = def }

// AddNotEnumerable records a value set we know of but whose content we do
// not have, so lookups report it as known to exist but not enumerable.
func (b *Builder) AddNotEnumerable(url, reason string) {
	if _, ok := b.defs[url]; !ok {
		b.unknown[url] = reason
	}
}

// Build expands every value set and returns the tables, with warnings about
// definitions that refer to codes the code systems do not define or whose
// published expansion differs from the compose.
func (b *Builder) Build() (*Tables, []string) {
	b.addFragments()
	e := &expander{b: b, done: map[string]*ValueSet{}, active: map[string]bool{}}
	urls := make([]string, 0, len(b.defs))
	for u := range b.defs {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	for _, u := range urls {
		e.valueSet(u)
	}
	for u, reason := range b.unknown {
		e.done[u] = &ValueSet{URL: u, NotEnumerable: reason}
	}
	t := &Tables{systems: b.systems, valueSets: e.done}
	return t, e.warnings
}

// addFragments creates a code system of content "fragment" for each system
// we do not have whose codes value sets list one by one (UCUM in
// units-of-time, say), so those value sets can be enumerated. A whole-system
// include or a filter on a fragment stays not enumerable.
func (b *Builder) addFragments() {
	for _, u := range sortedKeys(b.defs) {
		for _, inc := range b.defs[u].Compose.Include {
			if inc.System == "" || len(inc.Concepts) == 0 {
				continue
			}
			cs, ok := b.systems[inc.System]
			if !ok {
				cs = &CodeSystem{URL: inc.System, Content: "fragment"}
				b.systems[inc.System] = cs
				b.synthetic[inc.System] = true
			}
			if cs.Content != "fragment" {
				continue
			}
			for _, c := range inc.Concepts {
				if _, ok := cs.find(c.Code); !ok {
					cs.Concepts = append(cs.Concepts, CodeConcept{Code: c.Code, Display: c.Display})
					cs.reindex()
				}
			}
		}
	}
}

// codeSet is a set of codes, a bit set per code system.
type codeSet map[*CodeSystem]bitset

func (s codeSet) union(o codeSet) {
	for cs, bits := range o {
		dst, ok := s[cs]
		if !ok {
			dst = newBitset(len(cs.Concepts))
			s[cs] = dst
		}
		for i, w := range bits {
			dst[i] |= w
		}
	}
}

func (s codeSet) subtract(o codeSet) {
	for cs, bits := range o {
		if dst, ok := s[cs]; ok {
			for i, w := range bits {
				dst[i] &^= w
			}
		}
	}
}

func (s codeSet) intersect(o codeSet) {
	for cs, dst := range s {
		bits := o[cs]
		for i := range dst {
			if i < len(bits) {
				dst[i] &= bits[i]
			} else {
				dst[i] = 0
			}
		}
	}
}

func (vs *ValueSet) codeSet() codeSet {
	s := codeSet{}
	for _, m := range vs.members {
		s[m.system] = append(bitset(nil), m.bits...)
	}
	return s
}

// expander evaluates value set definitions, memoising each result.
type expander struct {
	b        *Builder
	done     map[string]*ValueSet
	active   map[string]bool // for cycles in valueSet imports
	warnings []string
}

func (e *expander) warn(format string, args ...any) {
	e.warnings = append(e.warnings, fmt.Sprintf(format, args...))
}

func (e *expander) valueSet(url string) *ValueSet {
	url = stripVersion(url)
	if vs, ok := e.done[url]; ok {
		return vs
	}
	def, ok := e.b.defs[url]
	if !ok {
		reason := e.b.unknown[url]
		if reason == "" {
			reason = "value set " + url + " is not defined"
		}
		return &ValueSet{URL: url, NotEnumerable: reason}
	}
	if e.active[url] {
		return &ValueSet{URL: url, NotEnumerable: "value set " + url + " imports itself"}
	}
	e.active[url] = true
	defer delete(e.active, url)
	vs := &ValueSet{URL: url, Version: def.Version, Name: def.Name}
	set, reason := e.compose(def)
	if reason == "" && def.Expansion != nil {
		set = e.published(def, set)
	}
	vs.NotEnumerable = reason
	if reason == "" {
		vs.members = members(set)
	}
	e.done[url] = vs
	return vs
}

// published turns a published expansion into a codeSet, warning where it
// differs from the one computed from the compose. The published one wins,
// unless it names a code the code systems lack.
func (e *expander) published(def *ValueSetDefinition, computed codeSet) codeSet {
	set := codeSet{}
	for _, c := range def.Expansion {
		cs, ok := e.b.systems[c.System]
		var i int32
		if ok {
			i, ok = cs.find(c.Code)
		}
		if !ok {
			e.warn("%s: published expansion has %s|%s, which is not defined; using the compose", def.URL, c.System, c.Code)
			return computed
		}
		if set[cs] == nil {
			set[cs] = newBitset(len(cs.Concepts))
		}
		set[cs].set(i)
	}
	if a, b := count(set), count(computed); a != b {
		e.warn("%s: published expansion has %d codes, compose gives %d", def.URL, a, b)
	}
	return set
}

func count(s codeSet) int {
	n := 0
	for _, b := range s {
		n += b.count()
	}
	return n
}

// members orders a codeSet by system URL, dropping empty systems.
func members(s codeSet) []memberSet {
	var out []memberSet
	for cs, bits := range s {
		if !bits.empty() {
			out = append(out, memberSet{system: cs, bits: bits})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].system.URL < out[j].system.URL })
	return out
}

// compose evaluates ValueSet.compose; reason is non-empty when the result
// cannot be enumerated.
func (e *expander) compose(def *ValueSetDefinition) (set codeSet, reason string) {
	if len(def.Compose.Include) == 0 {
		if def.Expansion != nil {
			return codeSet{}, ""
		}
		return nil, "value set " + def.URL + " has no compose"
	}
	set = codeSet{}
	for _, inc := range def.Compose.Include {
		s, reason := e.composeSet(def.URL, inc)
		if reason != "" {
			return nil, reason
		}
		set.union(s)
	}
	for _, exc := range def.Compose.Exclude {
		s, reason := e.composeSet(def.URL, exc)
		if reason != "" {
			return nil, reason
		}
		set.subtract(s)
	}
	return set, ""
}

// composeSet evaluates one include or exclude.
func (e *expander) composeSet(url string, in ComposeSet) (codeSet, string) {
	var set codeSet
	if in.System != "" {
		cs, reason := e.system(in.System, len(in.Concepts) > 0)
		if reason != "" {
			return nil, reason
		}
		bits, reason := e.selectCodes(url, cs, in)
		if reason != "" {
			return nil, reason
		}
		set = codeSet{cs: bits}
	}
	for _, u := range in.ValueSets {
		vs := e.valueSet(u)
		if !vs.Enumerable() {
			return nil, vs.NotEnumerable
		}
		if set == nil {
			set = vs.codeSet()
		} else {
			set.intersect(vs.codeSet())
		}
	}
	return set, ""
}

// system returns the code system at url if the include can be enumerated
// from it: a complete one, or a fragment when the include lists its codes.
func (e *expander) system(url string, listed bool) (*CodeSystem, string) {
	cs, ok := e.b.systems[url]
	switch {
	case !ok || e.b.synthetic[url] && !listed:
		return nil, "code system " + url + " is not enumerated"
	case cs.Content != "complete" && !(cs.Content == "fragment" && listed):
		return nil, "code system " + url + " has content " + cs.Content
	}
	return cs, ""
}

// selectCodes returns the codes of cs an include selects: the listed
// concepts, or the active, selectable ones passing every filter.
func (e *expander) selectCodes(url string, cs *CodeSystem, in ComposeSet) (bitset, string) {
	bits := newBitset(len(cs.Concepts))
	if len(in.Concepts) > 0 {
		for _, c := range in.Concepts {
			if i, ok := cs.find(c.Code); ok {
				bits.set(i)
			} else {
				e.warn("%s: code %s|%s is not defined", url, cs.URL, c.Code)
			}
		}
		return bits, ""
	}
	// Like the published expansions, a whole system or a filter selects only
	// concepts meant for use in data: not abstract groupings, not retired.
	for i, c := range cs.Concepts {
		if !c.Abstract && !c.Inactive {
			bits.set(int32(i))
		}
	}
	for _, f := range in.Filters {
		fbits, reason := filter(cs, f)
		if reason != "" {
			return nil, "value set " + url + ": " + reason
		}
		for i := range bits {
			bits[i] &= fbits[i]
		}
	}
	return bits, ""
}

// filter evaluates one filter over the hierarchy and codes of cs
// (http://hl7.org/fhir/R4/valueset-filter-operator.html).
func filter(cs *CodeSystem, f Filter) (bitset, string) {
	bits := newBitset(len(cs.Concepts))
	root, found := cs.find(f.Value)
	switch {
	case (f.Property == "concept" || f.Property == "code") && f.Op == "is-a",
		(f.Property == "concept" || f.Property == "code") && f.Op == "is-not-a":
		if found {
			bits.set(root)
			for _, d := range cs.Descendants(f.Value) {
				bits.set(d)
			}
		}
		if f.Op == "is-not-a" {
			for i := range cs.Concepts {
				if bits.has(int32(i)) {
					bits.unset(int32(i))
				} else {
					bits.set(int32(i))
				}
			}
		}
	case (f.Property == "concept" || f.Property == "code") && f.Op == "descendent-of":
		for _, d := range cs.Descendants(f.Value) {
			bits.set(d)
		}
	case (f.Property == "concept" || f.Property == "code") && f.Op == "=":
		if found {
			bits.set(root)
		}
	case (f.Property == "concept" || f.Property == "code") && f.Op == "in":
		for _, code := range strings.Split(f.Value, ",") {
			if i, ok := cs.find(strings.TrimSpace(code)); ok {
				bits.set(i)
			}
		}
	case (f.Property == "concept" || f.Property == "code") && f.Op == "regex":
		re, err := regexp.Compile("^(?:" + f.Value + ")$")
		if err != nil {
			return nil, fmt.Sprintf("bad regex filter %q: %v", f.Value, err)
		}
		for i, c := range cs.Concepts {
			if re.MatchString(c.Code) {
				bits.set(int32(i))
			}
		}
	case f.Property == "parent" && f.Op == "=":
		if found {
			for _, c := range cs.Concepts[root].Children {
				bits.set(c)
			}
		}
	default:
		return nil, fmt.Sprintf("filter %s %s %s on %s is not supported", f.Property, f.Op, f.Value, cs.URL)
	}
	return bits, ""
}

func stripVersion(url string) string {
	u, _, _ := strings.Cut(url, "|")
	return u
}
