package terminology

import "strings"

// Concept is one member of a value set expansion.
type Concept struct {
	System  string
	Code    string
	Display string
}

// Designation is an additional representation of a concept, typically a
// display in another language (CodeSystem.concept.designation).
type Designation struct {
	Language string // BCP 47 tag, e.g. "de" or "nl-NL"; empty when not stated
	Use      string // the designation use as "system|code"; empty when not stated
	Value    string
}

// CodeConcept is a concept defined by a code system. Parents and Children
// are indices into the Concepts of the same CodeSystem.
type CodeConcept struct {
	Code         string
	Display      string
	Abstract     bool // notSelectable/abstract: a grouping, not for use in data
	Inactive     bool // status retired/deprecated/inactive
	Parents      []int32
	Children     []int32
	Designations []Designation
}

// CodeSystem is a code system with its concepts in definition order.
type CodeSystem struct {
	URL           string
	Version       string
	Name          string
	Content       string // complete, fragment, example, not-present, supplement
	CaseSensitive bool
	Concepts      []CodeConcept

	index map[string]int32 // code → position in Concepts
}

// Lookup returns the concept with the given code.
func (cs *CodeSystem) Lookup(code string) (*CodeConcept, bool) {
	i, ok := cs.find(code)
	if !ok {
		return nil, false
	}
	return &cs.Concepts[i], true
}

func (cs *CodeSystem) find(code string) (int32, bool) {
	i, ok := cs.index[code]
	return i, ok
}

// reindex builds the code index and the Children links from Parents.
func (cs *CodeSystem) reindex() {
	cs.index = make(map[string]int32, len(cs.Concepts))
	for i := range cs.Concepts {
		cs.index[cs.Concepts[i].Code] = int32(i)
		cs.Concepts[i].Children = nil
	}
	for i, c := range cs.Concepts {
		for _, p := range c.Parents {
			cs.Concepts[p].Children = append(cs.Concepts[p].Children, int32(i))
		}
	}
}

// Descendants returns the indices of every concept below code (not code
// itself), following Children transitively.
func (cs *CodeSystem) Descendants(code string) []int32 {
	root, ok := cs.find(code)
	if !ok {
		return nil
	}
	seen := map[int32]bool{root: true}
	var out []int32
	stack := []int32{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range cs.Concepts[n].Children {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
				stack = append(stack, c)
			}
		}
	}
	return out
}

// display returns the concept's display in lang, falling back to the
// language's base tag ("de-CH" → "de") and then to the default display.
func (c *CodeConcept) display(lang string) string {
	if lang == "" {
		return c.Display
	}
	base, _, _ := strings.Cut(lang, "-")
	fallback := ""
	for _, d := range c.Designations {
		switch {
		case strings.EqualFold(d.Language, lang):
			return d.Value
		case fallback == "" && strings.EqualFold(d.Language, base):
			fallback = d.Value
		}
	}
	if fallback != "" {
		return fallback
	}
	return c.Display
}

// ValueSet is a value set and, when it is enumerable, its expansion.
// The expansion is held as one bit set per code system over that system's
// Concepts, so membership is a map lookup and a bit test.
type ValueSet struct {
	URL     string
	Version string
	Name    string
	// NotEnumerable says why the expansion is unknown (for example "code
	// system urn:ietf:bcp:13 is not enumerated"); empty when it is known.
	NotEnumerable string

	members []memberSet
}

// memberSet is the part of an expansion drawn from one code system.
type memberSet struct {
	system *CodeSystem
	bits   bitset
}

// Enumerable reports whether the expansion of the value set is known.
func (vs *ValueSet) Enumerable() bool { return vs.NotEnumerable == "" }

// Contains reports whether (system, code) is in the expansion; system ""
// matches a code of any system in the expansion.
func (vs *ValueSet) Contains(system, code string) bool {
	for i := range vs.members {
		m := &vs.members[i]
		if system != "" && m.system.URL != system {
			continue
		}
		if idx, ok := m.system.find(code); ok && m.bits.has(idx) {
			return true
		}
	}
	return false
}

// Codes returns the expansion, grouped by code system and in each system's
// definition order.
func (vs *ValueSet) Codes() []Concept {
	var out []Concept
	for _, m := range vs.members {
		for i := range m.system.Concepts {
			if m.bits.has(int32(i)) {
				c := &m.system.Concepts[i]
				out = append(out, Concept{System: m.system.URL, Code: c.Code, Display: c.Display})
			}
		}
	}
	return out
}

// Len returns the number of codes in the expansion.
func (vs *ValueSet) Len() int {
	n := 0
	for _, m := range vs.members {
		n += m.bits.count()
	}
	return n
}

// bitset is a set of concept indices.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) has(i int32) bool {
	w := int(i) >> 6
	return w < len(b) && b[w]&(1<<(uint(i)&63)) != 0
}

func (b bitset) set(i int32)   { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) unset(i int32) { b[i>>6] &^= 1 << (uint(i) & 63) }

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
}

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}
