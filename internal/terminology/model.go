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
	Language string // BCP 47 tag, e.g. "en" or "zh-HK"; empty when not stated
	Use      string // the designation use as "system|code"; empty when not stated
	Value    string
}

// Property is one CodeSystem.concept.property: Type is the FHIR type of
// the value ("code", "string", "boolean", "integer", "decimal",
// "dateTime" or "Coding"); a Coding value is "system|code".
type Property struct {
	Code, Type, Value string
}

// CodeConcept is a concept defined by a code system. Parents and Children
// are indices into the Concepts of the same CodeSystem.
type CodeConcept struct {
	Code       string
	Display    string
	Definition string
	Abstract   bool // notSelectable/abstract: a grouping, not for use in data
	Inactive   bool // inactive, or status retired or inactive
	// Deprecated is status deprecated or a deprecationDate: still valid,
	// but left out of whole-system and filter expansions, as the published
	// R4 expansions do.
	Deprecated   bool
	Parents      []int32
	Children     []int32
	Designations []Designation
	Properties   []Property
}

// CodeSystem is a code system with its concepts in definition order
// (http://hl7.org/fhir/R4/codesystem.html).
type CodeSystem struct {
	URL     string
	Version string
	Name    string
	Title   string
	Content string // complete, fragment, example, not-present, supplement
	// CaseSensitive is false only when the resource says caseSensitive
	// false; then codes match whatever their case.
	CaseSensitive bool
	Supplements   string // the system a supplement adds designations to
	Concepts      []CodeConcept

	index map[string]int32 // code → position in Concepts
	fold  map[string]int32 // lower-cased code → position, for case-insensitive systems
	// synthetic marks a fragment made from the codes value sets list for a
	// system we do not have (UCUM in units-of-time, say).
	synthetic bool
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
	if !ok && cs.fold != nil {
		i, ok = cs.fold[strings.ToLower(code)]
	}
	return i, ok
}

// reindex builds the code index and the Children links from Parents.
func (cs *CodeSystem) reindex() {
	cs.index = make(map[string]int32, len(cs.Concepts))
	cs.fold = nil
	if !cs.CaseSensitive && !cs.synthetic && cs.Content != "" {
		cs.fold = make(map[string]int32, len(cs.Concepts))
	}
	for i := range cs.Concepts {
		cs.index[cs.Concepts[i].Code] = int32(i)
		if cs.fold != nil {
			cs.fold[strings.ToLower(cs.Concepts[i].Code)] = int32(i)
		}
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
	return cs.walk(root, func(c *CodeConcept) []int32 { return c.Children })
}

// Ancestors returns the indices of every concept above code (not code
// itself), following Parents transitively.
func (cs *CodeSystem) Ancestors(code string) []int32 {
	root, ok := cs.find(code)
	if !ok {
		return nil
	}
	return cs.walk(root, func(c *CodeConcept) []int32 { return c.Parents })
}

// walk returns the concepts reachable from root along next, root excluded.
func (cs *CodeSystem) walk(root int32, next func(*CodeConcept) []int32) []int32 {
	seen := map[int32]bool{root: true}
	var out []int32
	stack := []int32{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range next(&cs.Concepts[n]) {
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
// language's base tag ("zh-HK" → "zh") and then to the default display.
func (c *CodeConcept) display(lang string) string {
	if d, ok := designationIn(c.Designations, lang); ok {
		return d
	}
	return c.Display
}

// designationIn returns the value of the designation in lang, or in its
// base language ("zh-HK" → "zh") when there is none in lang itself.
func designationIn(ds []Designation, lang string) (string, bool) {
	if lang == "" {
		return "", false
	}
	base, _, _ := strings.Cut(lang, "-")
	fallback := ""
	for _, d := range ds {
		switch {
		case strings.EqualFold(d.Language, lang):
			return d.Value, true
		case fallback == "" && strings.EqualFold(d.Language, base):
			fallback = d.Value
		}
	}
	return fallback, fallback != ""
}

// bitset is a set of concept indices.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) has(i int32) bool {
	w := int(i) >> 6
	return i >= 0 && w < len(b) && b[w]&(1<<(uint(i)&63)) != 0
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
