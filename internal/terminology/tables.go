package terminology

import (
	"bytes"
	_ "embed"
	"sort"
)

//go:embed tables.gob.gz
var embedded []byte

// Tables is the set of code systems and expanded value sets. It is
// immutable once built and safe for concurrent use; the *CodeSystem and
// *ValueSet it hands out are shared and must not be modified.
type Tables struct {
	systems   map[string]*CodeSystem
	valueSets map[string]*ValueSet
}

// Load decodes the tables generated from the FHIR R4 definitions and
// embedded in the binary.
func Load() (*Tables, error) { return Decode(bytes.NewReader(embedded)) }

// CheckCode reports whether (system, code) is in the value set at url (a
// |version suffix is ignored). System "" matches a code of any system in the
// expansion, as for FHIR code elements, which carry no system. known is false
// when the value set is unknown or not enumerable: the caller cannot decide
// and should accept the code.
func (t *Tables) CheckCode(valueSet, system, code string) (member, known bool) {
	vs, ok := t.valueSets[stripVersion(valueSet)]
	if !ok || !vs.Enumerable() {
		return false, false
	}
	return vs.Contains(system, code), true
}

// Display returns the display of code in system, in language lang when the
// code system has a designation in that language (or its base language),
// else the default display. ok is false when the code is unknown.
func (t *Tables) Display(system, code, lang string) (display string, ok bool) {
	cs, found := t.systems[stripVersion(system)]
	if !found {
		return "", false
	}
	c, found := cs.Lookup(code)
	if !found {
		return "", false
	}
	return c.display(lang), true
}

// ValueSetCodes returns the expansion of the value set at url. ok is false
// when the value set is unknown or not enumerable.
func (t *Tables) ValueSetCodes(url string) (codes []Concept, ok bool) {
	vs, found := t.valueSets[stripVersion(url)]
	if !found || !vs.Enumerable() {
		return nil, false
	}
	return vs.Codes(), true
}

// ValueSet returns the value set at url, enumerable or not.
func (t *Tables) ValueSet(url string) (*ValueSet, bool) {
	vs, ok := t.valueSets[stripVersion(url)]
	return vs, ok
}

// CodeSystem returns the code system at url.
func (t *Tables) CodeSystem(url string) (*CodeSystem, bool) {
	cs, ok := t.systems[stripVersion(url)]
	return cs, ok
}

// ValueSetURLs returns the URLs of every value set, sorted.
func (t *Tables) ValueSetURLs() []string {
	out := make([]string, 0, len(t.valueSets))
	for u := range t.valueSets {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}
