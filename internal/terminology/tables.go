package terminology

import (
	"bytes"
	_ "embed"
	"sync"
)

//go:embed tables.gob.gz
var embedded []byte

// Tables is one consistent set of code systems, value set definitions and
// concept maps. Its content is immutable and it is safe for concurrent
// use: value sets are expanded from their compose on first use and the
// expansion is memoised. The *CodeSystem and *ValueSet it hands out are
// shared and must not be modified. A Service swaps in a new Tables when a
// resource is added or removed.
type Tables struct {
	systems     catalog[*CodeSystem]
	valueSets   catalog[*ValueSetDefinition]
	conceptMaps catalog[*ConceptMap]
	// fragments holds, by system URL, the codes value sets list for systems
	// we do not have, so those value sets can be enumerated.
	fragments map[string]*CodeSystem
	// supplements holds the supplement code systems by the URL they supplement.
	supplements map[string][]*CodeSystem

	cache *sync.Map // value set reference (url or url|version) → *ValueSet
}

func newTables() *Tables {
	return &Tables{
		systems: catalog[*CodeSystem]{}, valueSets: catalog[*ValueSetDefinition]{}, conceptMaps: catalog[*ConceptMap]{},
		fragments: map[string]*CodeSystem{}, supplements: map[string][]*CodeSystem{}, cache: newCache(),
	}
}

func newCache() *sync.Map { return &sync.Map{} }

// Load decodes the code systems, value sets and concept maps of FHIR R4
// embedded in the binary.
func Load() (*Tables, error) { return Decode(bytes.NewReader(embedded)) }

// CheckCode reports whether (system, code) is in the value set at url (a
// |version suffix selects that version). System "" matches a code of any
// system in the value set, as for FHIR code elements, which carry no
// system. known is false when the value set is unknown or its content
// cannot be decided here (a code system we do not have, such as SNOMED
// CT): the caller cannot decide and should accept the code. Codes of
// systems with a grammar (UCUM, BCP 47 language tags, MIME types, ISO 4217
// currencies) are decided by syntax. It implements fhir.CodeChecker and is
// what validation asks for every coded element with a binding; use the
// answer as an error for required bindings and a warning for extensible
// and preferred ones.
func (t *Tables) CheckCode(valueSet, system, code string) (member, known bool) {
	vs := t.expansion(valueSet)
	if vs == nil {
		return false, false
	}
	return vs.check(system, code)
}

// Display returns the display of code in system, in language lang when the
// code system (or a supplement of it) has a designation in that language
// or its base language, else the default display. ok is false when the
// code is unknown.
func (t *Tables) Display(system, code, lang string) (display string, ok bool) {
	cs, found := t.codeSystem(system)
	if !found {
		return "", false
	}
	c, found := cs.Lookup(code)
	if !found {
		return "", false
	}
	return t.displayOf(cs, c, lang), true
}

// displayOf is the display of c in lang, looking in supplements too.
func (t *Tables) displayOf(cs *CodeSystem, c *CodeConcept, lang string) string {
	if d, ok := designationIn(t.designations(cs, c), lang); ok {
		return d
	}
	return c.Display
}

// designations returns c's designations followed by those supplements add.
func (t *Tables) designations(cs *CodeSystem, c *CodeConcept) []Designation {
	sups := t.supplements[cs.URL]
	if len(sups) == 0 {
		return c.Designations
	}
	out := append([]Designation(nil), c.Designations...)
	for _, s := range sups {
		if sc, ok := s.Lookup(c.Code); ok {
			out = append(out, sc.Designations...)
		}
	}
	return out
}

// ValueSetCodes returns the expansion of the value set at url. ok is false
// when the value set is unknown or not enumerable.
func (t *Tables) ValueSetCodes(url string) (codes []Concept, ok bool) {
	vs := t.expansion(url)
	if vs == nil || !vs.Enumerable() {
		return nil, false
	}
	return vs.Codes(), true
}

// ValueSet returns the expansion of the value set at url (|version
// optional), enumerable or not.
func (t *Tables) ValueSet(url string) (*ValueSet, bool) {
	vs := t.expansion(url)
	return vs, vs != nil
}

// CodeSystem returns the code system at url (|version optional): a
// complete, fragment or supplement one we hold, not a synthetic fragment.
func (t *Tables) CodeSystem(url string) (*CodeSystem, bool) {
	return t.systems.get(url, "")
}

// codeSystem is CodeSystem falling back to the synthetic fragments.
func (t *Tables) codeSystem(url string) (*CodeSystem, bool) {
	if cs, ok := t.systems.get(url, ""); ok {
		return cs, true
	}
	cs, ok := t.fragments[stripVersion(url)]
	return cs, ok
}

// ValueSetDefinition returns the definition of the value set at url
// (|version optional).
func (t *Tables) ValueSetDefinition(url string) (*ValueSetDefinition, bool) {
	return t.valueSets.get(url, "")
}

// ConceptMap returns the concept map at url (|version optional).
func (t *Tables) ConceptMap(url string) (*ConceptMap, bool) {
	return t.conceptMaps.get(url, "")
}

// ValueSetURLs returns the URLs of every value set, sorted.
func (t *Tables) ValueSetURLs() []string { return sortedKeys(t.valueSets) }

// CodeSystemURLs returns the URLs of every code system, sorted.
func (t *Tables) CodeSystemURLs() []string { return sortedKeys(t.systems) }

// ConceptMapURLs returns the URLs of every concept map, sorted.
func (t *Tables) ConceptMapURLs() []string { return sortedKeys(t.conceptMaps) }
