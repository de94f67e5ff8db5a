package terminology

import "sort"

// Builder assembles Tables from code systems, value set definitions and
// concept maps; the generator uses it for the built-in R4 tables.
type Builder struct {
	t *Tables
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder { return &Builder{t: newTables()} }

// AddCodeSystem adds a code system; a later one with the same URL and
// version replaces it.
func (b *Builder) AddCodeSystem(cs *CodeSystem) {
	insert(b.t.systems, cs.URL, cs.Version, cs)
	if cs.Content == "supplement" && cs.Supplements != "" {
		b.t.supplements[cs.Supplements] = append(b.t.supplements[cs.Supplements], cs)
	}
}

// AddValueSet adds a value set definition; a later one with the same URL
// and version replaces it.
func (b *Builder) AddValueSet(def *ValueSetDefinition) {
	insert(b.t.valueSets, def.URL, def.Version, def)
}

// AddConceptMap adds a concept map; a later one with the same URL and
// version replaces it.
func (b *Builder) AddConceptMap(cm *ConceptMap) { insert(b.t.conceptMaps, cm.URL, cm.Version, cm) }

// AddNotEnumerable records a value set we know of but whose content we do
// not have, so lookups report it as known to exist but not enumerable.
func (b *Builder) AddNotEnumerable(url, reason string) {
	if _, ok := b.t.valueSets.get(url, ""); !ok {
		b.AddValueSet(&ValueSetDefinition{URL: url, Missing: reason})
	}
}

// Build returns the tables with every value set expanded, and warnings
// about definitions that refer to codes their code systems do not define.
func (b *Builder) Build() (*Tables, []string) {
	t := b.t
	b.t = newTables()
	t.fragments = refreshFragments(t, nil)
	var warnings []string
	for _, u := range t.ValueSetURLs() {
		if vs := t.expansion(u); vs != nil {
			warnings = append(warnings, vs.Warnings...)
		}
	}
	t.cache = newCache()
	return t, warnings
}

// insert adds an item to a catalog being built, in place.
func insert[T any](c catalog[T], url, version string, item T) {
	list := c[url]
	for i, e := range list {
		if e.version == version && !e.stored {
			list[i].item = item
			return
		}
	}
	list = append(list, entry[T]{version: version, item: item})
	sortEntries(list)
	c[url] = list
}

// refreshFragments returns the synthetic fragments of t with those of urls
// rebuilt (every system a value set lists codes of when urls is nil),
// sharing the others. A fragment stands for a system we hold no complete
// CodeSystem for (none, or one with content fragment, example or
// not-present): the concepts we hold of it plus every code a value set
// lists for it, so value sets listing its codes can be enumerated.
func refreshFragments(t *Tables, urls map[string]bool) map[string]*CodeSystem {
	out := make(map[string]*CodeSystem, len(t.fragments))
	for u, cs := range t.fragments {
		if urls == nil || !urls[u] {
			out[u] = cs
		}
	}
	building := map[string]*CodeSystem{}
	t.valueSets.each(func(_ string, def *ValueSetDefinition) {
		for _, inc := range def.Compose.Include {
			if inc.System == "" || len(inc.Concepts) == 0 || urls != nil && !urls[inc.System] {
				continue
			}
			cs := building[inc.System]
			if cs == nil {
				if cs = newFragment(t, inc.System); cs == nil {
					continue
				}
				building[inc.System] = cs
			}
			for _, c := range inc.Concepts {
				if _, ok := cs.index[c.Code]; !ok {
					cs.index[c.Code] = int32(len(cs.Concepts))
					cs.Concepts = append(cs.Concepts, CodeConcept{Code: c.Code, Display: c.Display})
				}
			}
		}
	})
	for u, cs := range building {
		cs.reindex()
		out[u] = cs
	}
	return out
}

// newFragment starts the fragment of url from the code system we hold, or
// returns nil when we hold a complete one (or a supplement).
func newFragment(t *Tables, url string) *CodeSystem {
	held, ok := t.systems.get(url, "")
	if ok && (held.Content == "complete" || held.Content == "supplement") {
		return nil
	}
	cs := &CodeSystem{URL: url, Content: "fragment", CaseSensitive: true, synthetic: true}
	if ok {
		cs.Version, cs.Name, cs.Title = held.Version, held.Name, held.Title
		cs.Concepts = append([]CodeConcept(nil), held.Concepts...)
		for i := range cs.Concepts {
			cs.Concepts[i].Parents = append([]int32(nil), cs.Concepts[i].Parents...)
		}
	}
	cs.reindex()
	return cs
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
