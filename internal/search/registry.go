package search

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Registry holds the search parameters the server knows: the R4 ones and
// custom SearchParameters added at run time. Readers never block: the
// tables are an immutable snapshot replaced on Add and Remove
// (copy-on-write), so a search that started keeps a consistent view.
type Registry struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[tables]
}

// tables is one immutable state of a Registry.
type tables struct {
	builtin map[string]map[string]*Param // resource type → code → param
	custom  map[string]map[string]*Param // the same, for custom parameters; looked up first
	byURL   map[string]definition        // the R4 definitions by url, shared between snapshots
	customs map[string]definition        // custom definitions by url
	pending map[string]bool              // custom urls indexed at write time but not yet searchable
}

// commonExtras are the common parameters R4 defines in prose rather than
// as SearchParameter resources (https://hl7.org/fhir/R4/search.html#all).
var commonExtras = []definition{
	{URL: "http://hl7.org/fhir/SearchParameter/Resource-list", Code: "_list", Base: []string{"Resource"}, Type: "special"},
	{URL: "http://hl7.org/fhir/SearchParameter/Resource-has", Code: "_has", Base: []string{"Resource"}, Type: "special"},
	{URL: "http://hl7.org/fhir/SearchParameter/Resource-type", Code: "_type", Base: []string{"Resource"}, Type: "token"},
}

// NewRegistry returns a registry holding every R4 SearchParameter and the
// common parameters (_id, _lastUpdated, _tag, _profile, _security,
// _source, _text, _content, _list, _has, _type).
func NewRegistry() *Registry {
	t := &tables{
		builtin: map[string]map[string]*Param{},
		byURL:   map[string]definition{},
		custom:  map[string]map[string]*Param{},
		customs: map[string]definition{},
	}
	all := append(slices.Clip(definitions), commonExtras...)
	for _, d := range all {
		t.byURL[d.URL] = d
	}
	for _, d := range all {
		for _, p := range t.params(d, false) {
			put(t.builtin, p)
		}
	}
	r := &Registry{}
	r.snap.Store(t)
	return r
}

func put(m map[string]map[string]*Param, p *Param) {
	if m[p.ResourceType] == nil {
		m[p.ResourceType] = map[string]*Param{}
	}
	m[p.ResourceType][p.Code] = p
}

// params turns a definition into one Param per base type.
func (t *tables) params(d definition, custom bool) []*Param {
	var comps []Component
	for _, c := range d.Component {
		cd, ok := t.definition(c.Definition)
		comp := Component{Definition: c.Definition, Expression: c.Expression}
		if ok {
			comp.Code, comp.Type = cd.Code, ParamType(cd.Type)
		}
		comps = append(comps, comp)
	}
	mods := defaultModifiers[ParamType(d.Type)]
	if len(d.Modifier) > 0 {
		mods = nil
		for _, m := range d.Modifier {
			mods = append(mods, Modifier(m))
		}
		if !slices.Contains(mods, ModMissing) {
			mods = append(mods, ModMissing) // :missing applies to every parameter
		}
	}
	var cmps []Prefix
	for _, c := range d.Comparator {
		cmps = append(cmps, Prefix(c))
	}
	if len(cmps) == 0 && ParamType(d.Type).takesPrefix() {
		cmps = allPrefixes // R4 lists comparators on few definitions; the spec allows all on these types
	}
	var out []*Param
	for _, base := range d.Base {
		expr := ExpressionFor(d.Expression, base)
		out = append(out, &Param{
			URL: d.URL, Code: d.Code, Type: ParamType(d.Type), ResourceType: base, Base: d.Base,
			Expression: expr, Target: narrowTargets(expr, d.Target), Modifiers: mods,
			Comparators: cmps, MultipleOr: d.MultipleOr.or(true), MultipleAnd: d.MultipleAnd.or(true),
			Chain: d.Chain, Components: comps, Custom: custom,
		})
	}
	return out
}

// notDomainResource are the resource types that derive from Resource but
// not DomainResource, so DomainResource parameters (_text) skip them.
var notDomainResource = map[string]bool{"Bundle": true, "Binary": true, "Parameters": true}

// chainOf lists where a parameter for resourceType may be defined, most
// specific first.
func chainOf(resourceType string) []string {
	switch {
	case resourceType == "Resource":
		return []string{"Resource"}
	case resourceType == "DomainResource" || notDomainResource[resourceType]:
		return []string{resourceType, "Resource"}
	default:
		return []string{resourceType, "DomainResource", "Resource"}
	}
}

// Lookup returns the parameter code of resourceType, including the
// parameters every resource has (_id, _lastUpdated, ...). A custom
// parameter hides an R4 one with the same code and base.
func (r *Registry) Lookup(resourceType, code string) (*Param, bool) {
	t := r.snap.Load()
	for _, typ := range chainOf(resourceType) {
		if p, ok := t.custom[typ][code]; ok && !t.pending[p.URL] {
			return p, true
		}
		if p, ok := t.builtin[typ][code]; ok {
			return p, true
		}
	}
	return nil, false
}

// ForType returns every parameter of resourceType, common ones included,
// sorted by code: the parameters writes index, pending ones included.
func (r *Registry) ForType(resourceType string) []*Param {
	t := r.snap.Load()
	seen := map[string]*Param{}
	for _, typ := range slices.Backward(chainOf(resourceType)) {
		for _, m := range []map[string]*Param{t.builtin[typ], t.custom[typ]} {
			for code, p := range m {
				seen[code] = p
			}
		}
	}
	out := make([]*Param, 0, len(seen))
	for _, p := range seen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Definition returns the parameters of the SearchParameter with the given
// url, one per base.
func (r *Registry) Definition(url string) []*Param {
	t := r.snap.Load()
	d, ok := t.definition(url)
	if !ok {
		return nil
	}
	var out []*Param
	for _, b := range d.Base {
		for _, m := range []map[string]*Param{t.custom[b], t.builtin[b]} {
			if p, ok := m[d.Code]; ok && p.URL == url {
				out = append(out, p)
			}
		}
	}
	return out
}

// Add registers a custom SearchParameter, given as a parsed resource, as
// pending: writes index it at once, searches use it after Ready. It
// needs url, code, base, type and (except for special parameters) an
// expression; a composite needs components whose definitions are known.
// A custom parameter may replace an R4 one of the same code and base, or
// an earlier version of itself (same url); it may not clash with another
// custom parameter.
func (r *Registry) Add(sp map[string]any) error {
	d, err := definitionOf(sp)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	for _, b := range d.Base {
		if p, ok := old.custom[b][d.Code]; ok && p.URL != d.URL {
			return outcome.New(outcome.Invalid, "search parameter %s on %s is already defined by %s", d.Code, b, p.URL)
		}
	}
	customs := cloneMap(old.customs)
	customs[d.URL] = d
	next, err := old.withCustoms(customs)
	if err != nil {
		return err
	}
	next.pending = cloneMap(old.pending)
	next.pending[d.URL] = true
	r.snap.Store(next)
	return nil
}

// Ready makes the custom parameter with the given url searchable: call it
// once every existing resource of its base types has been reindexed. Until
// then Lookup does not find it (queries ignore it, as an unknown
// parameter) while writes already index it.
func (r *Registry) Ready(url string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	if !old.pending[url] {
		return
	}
	next := *old
	next.pending = cloneMap(old.pending)
	delete(next.pending, url)
	r.snap.Store(&next)
}

// Pending reports whether the custom parameter with the given url is
// waiting for its reindex.
func (r *Registry) Pending(url string) bool { return r.snap.Load().pending[url] }

// Remove unregisters the custom SearchParameter with the given url; an R4
// parameter it replaced comes back. It reports whether one was removed.
func (r *Registry) Remove(url string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	if _, ok := old.customs[url]; !ok {
		return false
	}
	customs := cloneMap(old.customs)
	delete(customs, url)
	next, err := old.withCustoms(customs)
	if err != nil {
		return false // cannot happen: the remaining customs were valid before
	}
	next.pending = cloneMap(old.pending)
	delete(next.pending, url)
	r.snap.Store(next)
	return true
}

// definition finds a definition by url, custom ones first.
func (t *tables) definition(url string) (definition, bool) {
	if d, ok := t.customs[url]; ok {
		return d, true
	}
	d, ok := t.byURL[url]
	return d, ok
}

// withCustoms returns a new snapshot sharing the built-in tables.
func (t *tables) withCustoms(customs map[string]definition) (*tables, error) {
	next := &tables{builtin: t.builtin, custom: map[string]map[string]*Param{}, customs: customs, byURL: t.byURL}
	for _, d := range customs {
		for _, c := range d.Component {
			if _, ok := next.definition(c.Definition); !ok {
				return nil, outcome.New(outcome.Invalid, "search parameter %s: component definition %s is unknown", d.URL, c.Definition)
			}
		}
		for _, p := range next.params(d, true) {
			put(next.custom, p)
		}
	}
	return next, nil
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// definitionOf reads and checks a SearchParameter resource.
func definitionOf(sp map[string]any) (definition, error) {
	var d definition
	bad := func(format string, args ...any) (definition, error) {
		return definition{}, outcome.At(outcome.Invalid, "SearchParameter", "invalid SearchParameter: "+format, args...)
	}
	if rt, _ := sp["resourceType"].(string); rt != "SearchParameter" {
		return bad("resourceType is %q", rt)
	}
	d.URL, _ = sp["url"].(string)
	d.Code, _ = sp["code"].(string)
	d.Type, _ = sp["type"].(string)
	d.Expression, _ = sp["expression"].(string)
	d.Base = stringList(sp["base"])
	d.Target = stringList(sp["target"])
	d.Comparator = stringList(sp["comparator"])
	d.Modifier = stringList(sp["modifier"])
	d.Chain = stringList(sp["chain"])
	d.MultipleOr = triOf(sp["multipleOr"])
	d.MultipleAnd = triOf(sp["multipleAnd"])
	switch {
	case d.URL == "":
		return bad("url is required")
	case d.Code == "" || !validCode(d.Code):
		return bad("code %q is missing or not a name", d.Code)
	case len(d.Base) == 0:
		return bad("base is required")
	case !ParamType(d.Type).valid():
		return bad("type %q is not a search parameter type", d.Type)
	case d.Expression == "" && d.Type != string(Special):
		return bad("expression is required")
	}
	for _, b := range d.Base {
		if !validTypeName(b) {
			return bad("base %q is not a resource type", b)
		}
	}
	comps, _ := sp["component"].([]any)
	for _, c := range comps {
		m, _ := c.(map[string]any)
		def, _ := m["definition"].(string)
		ex, _ := m["expression"].(string)
		if def == "" || ex == "" {
			return bad("component needs definition and expression")
		}
		d.Component = append(d.Component, componentDefinition{def, ex})
	}
	if d.Type == string(Composite) && len(d.Component) < 2 {
		return bad("a composite needs at least two components")
	}
	return d, nil
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

func triOf(v any) tri {
	b, ok := v.(bool)
	switch {
	case !ok:
		return unset
	case b:
		return yes
	}
	return no
}

// validCode reports whether s can be a parameter name in a query: no
// characters that the query syntax uses (: . $ , | =).
func validCode(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isIdentChar(c) && c != '-' {
			return false
		}
	}
	return true
}

// validTypeName reports whether s looks like a resource type: a letter
// then letters and digits, capitalised.
func validTypeName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isIdentChar(c) || c == '_' {
			return false
		}
	}
	return true
}

// String names the parameter for messages: "Observation.code".
func (p *Param) String() string { return fmt.Sprintf("%s.%s", p.ResourceType, p.Code) }
