package terminology

import (
	"strings"
	"sync"
)

// ValueSet is the expansion of a value set, computed from its compose
// (http://hl7.org/fhir/R4/valueset.html#expansion). The enumerable part is
// held as one bit set per code system over that system's Concepts, so
// membership is a map lookup and a bit test.
type ValueSet struct {
	URL     string
	Version string
	Name    string
	Title   string
	// NotEnumerable says why the expansion cannot be listed (for example
	// "code system urn:ietf:bcp:13 is not enumerated"); empty when it can.
	NotEnumerable string
	// Warnings are problems met while expanding, such as listed codes the
	// code system does not define.
	Warnings []string

	members []memberSet
	// external lists the systems included whole that we cannot enumerate
	// but whose codes have a grammar, so membership is decided by syntax.
	external []string
	// open lists the systems some of whose codes may be in the value set
	// but can be neither listed nor decided (SNOMED CT, a filter we do not
	// support): a code of one of them not found in members is of unknown
	// membership.
	open []string
	// undecidable is set when the content is unknown whatever the system
	// (a missing or cyclic import, an exclude we cannot evaluate).
	undecidable bool
	// extra holds displays and designations the compose gives for listed
	// concepts, by conceptKey.
	extra map[string]conceptExtra
	// deps are the URLs of the code systems and value sets the expansion
	// was computed from; a change to any of them invalidates it.
	deps map[string]bool

	entriesOnce sync.Once
	entries     []entryRef // the enumerable part in order
	textOnce    sync.Once
	text        []string // lower-cased code, display and designations of each entry
}

// memberSet is the part of an expansion drawn from one code system.
type memberSet struct {
	system *CodeSystem
	bits   bitset
}

// conceptExtra is what a value set's compose adds to a listed concept.
type conceptExtra struct {
	display      string
	designations []Designation
}

// entryRef is one concept of an expansion.
type entryRef struct {
	system *CodeSystem
	index  int32
}

func conceptKey(system, code string) string { return system + "\x00" + code }

// Enumerable reports whether the expansion of the value set is known.
func (vs *ValueSet) Enumerable() bool { return vs.NotEnumerable == "" }

// Contains reports whether (system, code) is in the enumerable part of the
// expansion; system "" matches a code of any system.
func (vs *ValueSet) Contains(system, code string) bool {
	_, _, ok := vs.find(system, code)
	return ok
}

func (vs *ValueSet) find(system, code string) (*CodeSystem, int32, bool) {
	for i := range vs.members {
		m := &vs.members[i]
		if system != "" && m.system.URL != system {
			continue
		}
		if idx, ok := m.system.find(code); ok && m.bits.has(idx) {
			return m.system, idx, true
		}
	}
	return nil, 0, false
}

// check decides membership: in the enumerable part, by the grammar of an
// external system included whole, or not at all (known false).
func (vs *ValueSet) check(system, code string) (member, known bool) {
	if vs.Contains(system, code) {
		return true, true
	}
	for _, s := range vs.external {
		if system != "" && system != s {
			continue
		}
		if ext, ok := externalSystem(s); ok && ext.check != nil && ext.check(code) == nil {
			return true, true
		}
	}
	return false, !vs.unknownFor(system)
}

// unknownFor reports whether codes of system may be members we cannot see.
func (vs *ValueSet) unknownFor(system string) bool {
	if vs.undecidable || system == "" && len(vs.open) > 0 {
		return true
	}
	for _, s := range vs.open {
		if s == system {
			return true
		}
	}
	return false
}

// Codes returns the enumerable part of the expansion, grouped by code
// system in the order the compose names them and, within a system, in
// definition order.
func (vs *ValueSet) Codes() []Concept {
	refs := vs.list()
	out := make([]Concept, len(refs))
	for i, r := range refs {
		c := &r.system.Concepts[r.index]
		out[i] = Concept{System: r.system.URL, Code: c.Code, Display: vs.display(r.system, c)}
	}
	return out
}

// display is the concept's display in this value set: the compose's when it
// gives one, else the code system's.
func (vs *ValueSet) display(cs *CodeSystem, c *CodeConcept) string {
	if x, ok := vs.extra[conceptKey(cs.URL, c.Code)]; ok && x.display != "" {
		return x.display
	}
	return c.Display
}

// Len returns the number of codes in the enumerable part of the expansion.
func (vs *ValueSet) Len() int {
	n := 0
	for _, m := range vs.members {
		n += m.bits.count()
	}
	return n
}

// list returns the entries of the expansion, computed once.
func (vs *ValueSet) list() []entryRef {
	vs.entriesOnce.Do(func() {
		vs.entries = make([]entryRef, 0, vs.Len())
		for _, m := range vs.members {
			for i := range m.system.Concepts {
				if m.bits.has(int32(i)) {
					vs.entries = append(vs.entries, entryRef{m.system, int32(i)})
				}
			}
		}
	})
	return vs.entries
}

// searchText returns, for each entry, the lower-cased code, display and
// designations (the code system's, its supplements' in t and the
// compose's) the $expand filter searches; built once per expansion, which
// a change to a supplement invalidates.
func (vs *ValueSet) searchText(t *Tables) []string {
	vs.textOnce.Do(func() {
		entries := vs.list()
		vs.text = make([]string, len(entries))
		var b strings.Builder
		for i, r := range entries {
			c := &r.system.Concepts[r.index]
			b.Reset()
			b.WriteString(c.Code)
			b.WriteByte(0)
			b.WriteString(vs.display(r.system, c))
			for _, d := range t.designations(r.system, c) {
				b.WriteByte(0)
				b.WriteString(d.Value)
			}
			if x, ok := vs.extra[conceptKey(r.system.URL, c.Code)]; ok {
				for _, d := range x.designations {
					b.WriteByte(0)
					b.WriteString(d.Value)
				}
			}
			vs.text[i] = strings.ToLower(b.String())
		}
	})
	return vs.text
}

// dependsOn reports whether the expansion was computed from any of urls.
func (vs *ValueSet) dependsOn(urls map[string]bool) bool {
	for u := range urls {
		if vs.deps[u] {
			return true
		}
	}
	return false
}

// codeSet is a set of codes: a bit set per code system, in the order the
// systems were first added.
type codeSet struct {
	order []*CodeSystem
	bits  map[*CodeSystem]bitset
}

func newCodeSet() *codeSet { return &codeSet{bits: map[*CodeSystem]bitset{}} }

func (s *codeSet) add(cs *CodeSystem, bits bitset) {
	dst, ok := s.bits[cs]
	if !ok {
		s.order = append(s.order, cs)
		dst = newBitset(len(cs.Concepts))
		s.bits[cs] = dst
	}
	for i := range dst {
		if i < len(bits) {
			dst[i] |= bits[i]
		}
	}
}

func (s *codeSet) union(o *codeSet) {
	for _, cs := range o.order {
		s.add(cs, o.bits[cs])
	}
}

func (s *codeSet) subtract(o *codeSet) {
	for cs, bits := range o.bits {
		if dst, ok := s.bits[cs]; ok {
			for i := range dst {
				if i < len(bits) {
					dst[i] &^= bits[i]
				}
			}
		}
	}
}

func (s *codeSet) intersect(o *codeSet) {
	for cs, dst := range s.bits {
		bits := o.bits[cs]
		for i := range dst {
			if i < len(bits) {
				dst[i] &= bits[i]
			} else {
				dst[i] = 0
			}
		}
	}
}

func (vs *ValueSet) codeSet() *codeSet {
	s := newCodeSet()
	for _, m := range vs.members {
		s.add(m.system, m.bits)
	}
	return s
}

// members lists the non-empty systems of s in order.
func (s *codeSet) members() []memberSet {
	var out []memberSet
	for _, cs := range s.order {
		if bits := s.bits[cs]; !bits.empty() {
			out = append(out, memberSet{system: cs, bits: bits})
		}
	}
	return out
}
