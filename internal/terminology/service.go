package terminology

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// DefaultMaxExpansion is the most codes $expand returns without paging.
const DefaultMaxExpansion = 10000

// Service is the terminology service: the built-in R4 tables plus the
// CodeSystem, ValueSet and ConceptMap resources stored on the server,
// versioned by url|version, and the operations on them ($lookup,
// $validate-code, $subsumes, $expand, $translate). It is safe for
// concurrent use. Readers work on an immutable snapshot (Tables) loaded
// with one atomic read, so validation on every write never waits for a
// lock; a writer builds a new snapshot and swaps it in, keeping the cached
// expansions that do not depend on what changed.
type Service struct {
	mu           sync.Mutex // serialises writers
	cur          atomic.Pointer[Tables]
	maxExpansion int
	now          func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithMaxExpansion sets the most codes $expand returns without paging
// (count); larger expansions fail with outcome.TooCostly.
func WithMaxExpansion(n int) Option { return func(s *Service) { s.maxExpansion = n } }

// WithClock sets the clock that stamps expansions (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns a service over base, the built-in tables (Load).
func NewService(base *Tables, opts ...Option) *Service {
	s := &Service{maxExpansion: DefaultMaxExpansion, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.cur.Store(base)
	return s
}

// Tables returns the current snapshot: a consistent view for several
// questions in a row.
func (s *Service) Tables() *Tables { return s.cur.Load() }

// CheckCode is Tables.CheckCode on the current snapshot; it makes the
// Service a fhir.CodeChecker that sees stored value sets too.
func (s *Service) CheckCode(valueSet, system, code string) (member, known bool) {
	return s.cur.Load().CheckCode(valueSet, system, code)
}

// Put adds or replaces a CodeSystem, ValueSet or ConceptMap resource (FHIR
// JSON in generic form, as from fhir.Parse) stored on the server. The
// server calls it when such a resource is created or updated, and at start
// for every stored one (PutAll is faster for many). A resource replaces
// the stored one with the same url and version; it takes precedence over
// a built-in one with the same url. An error is an *outcome.Error of kind
// Invalid.
func (s *Service) Put(res map[string]any) error { return s.PutAll([]map[string]any{res}) }

// PutAll is Put for many resources at once, building one new snapshot.
// Nothing is added when any resource is invalid.
func (s *Service) PutAll(resources []map[string]any) error {
	parsed := make([]parsedResource, 0, len(resources))
	for i, res := range resources {
		p, err := parseResource(res)
		if err != nil {
			if len(resources) > 1 {
				return outcome.Wrap(outcome.Invalid, fmt.Sprintf("terminology resource %d", i), err)
			}
			return err
		}
		parsed = append(parsed, p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	c := newChange(old)
	for _, p := range parsed {
		c.put(p)
	}
	s.cur.Store(c.commit())
	return nil
}

// Remove takes away the stored CodeSystem, ValueSet or ConceptMap (typ) at
// canonical: "url|version" removes that version, "url" every stored
// version. Built-in resources stay. The server calls it when such a
// resource is deleted, and before Put when an update changes its url or
// version. Removing what is not there does nothing.
func (s *Service) Remove(typ, canonical string) error {
	url, version := splitCanonical(canonical)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := newChange(s.cur.Load())
	if err := c.remove(typ, url, version); err != nil {
		return err
	}
	s.cur.Store(c.commit())
	return nil
}

// parsedResource is one terminology resource ready to add.
type parsedResource struct {
	cs  *CodeSystem
	vs  *ValueSetDefinition
	cm  *ConceptMap
	url string
}

// parseResource reads a resource in generic form.
func parseResource(res map[string]any) (parsedResource, error) {
	typ, _ := res["resourceType"].(string)
	url, _ := res["url"].(string)
	if url == "" {
		return parsedResource{}, outcome.At(outcome.Invalid, typ+".url", "a %s needs a url to be used as terminology", typ)
	}
	data, err := json.Marshal(res)
	if err != nil {
		return parsedResource{}, outcome.New(outcome.Invalid, "%s %s: %v", typ, url, err)
	}
	p := parsedResource{url: url}
	switch typ {
	case "CodeSystem":
		p.cs, err = ParseCodeSystem(data)
	case "ValueSet":
		p.vs, err = ParseValueSet(data)
		if err == nil {
			p.vs.Expansion = nil
		}
	case "ConceptMap":
		p.cm, err = ParseConceptMap(data)
	default:
		return p, outcome.New(outcome.Invalid, "%s is not a terminology resource (CodeSystem, ValueSet or ConceptMap)", typ)
	}
	if err != nil {
		return p, outcome.New(outcome.Invalid, "%s %s: %v", typ, url, err)
	}
	return p, nil
}

// change builds the snapshot that follows old.
type change struct {
	old, t  *Tables
	changed map[string]bool // URLs of code systems and value sets added, replaced or removed
	listed  map[string]bool // systems whose fragment must be rebuilt
}

func newChange(old *Tables) *change {
	t := *old
	t.cache = newCache()
	return &change{old: old, t: &t, changed: map[string]bool{}, listed: map[string]bool{}}
}

func (c *change) put(p parsedResource) {
	switch {
	case p.cs != nil:
		c.t.systems = c.t.systems.with(p.cs.URL, p.cs.Version, true, p.cs)
		c.changed[p.cs.URL], c.listed[p.cs.URL] = true, true
		if p.cs.Content == "supplement" && p.cs.Supplements != "" {
			c.t.supplements = withSupplement(c.t.supplements, p.cs)
			c.changed[p.cs.Supplements] = true
		}
	case p.vs != nil:
		if prev, ok := c.t.valueSets.get(p.vs.URL, p.vs.Version); ok {
			c.noteListed(prev)
		}
		c.t.valueSets = c.t.valueSets.with(p.vs.URL, p.vs.Version, true, p.vs)
		c.changed[p.vs.URL] = true
		c.noteListed(p.vs)
	case p.cm != nil:
		c.t.conceptMaps = c.t.conceptMaps.with(p.cm.URL, p.cm.Version, true, p.cm)
	}
}

func (c *change) remove(typ, url, version string) error {
	switch typ {
	case "CodeSystem":
		for _, e := range c.t.systems[url] {
			if e.stored && (version == "" || e.version == version) && e.item.Supplements != "" {
				c.t.supplements = withoutSupplement(c.t.supplements, e.item)
				c.changed[e.item.Supplements] = true
			}
		}
		c.t.systems, _ = c.t.systems.without(url, version)
		c.changed[url], c.listed[url] = true, true
	case "ValueSet":
		for _, e := range c.t.valueSets[url] {
			if e.stored && (version == "" || e.version == version) {
				c.noteListed(e.item)
			}
		}
		c.t.valueSets, _ = c.t.valueSets.without(url, version)
		c.changed[url] = true
	case "ConceptMap":
		c.t.conceptMaps, _ = c.t.conceptMaps.without(url, version)
	default:
		return outcome.New(outcome.Invalid, "%s is not a terminology resource (CodeSystem, ValueSet or ConceptMap)", typ)
	}
	return nil
}

// noteListed marks the systems def lists codes of, whose fragments may change.
func (c *change) noteListed(def *ValueSetDefinition) {
	for _, inc := range def.Compose.Include {
		if inc.System != "" && len(inc.Concepts) > 0 {
			c.listed[inc.System] = true
		}
	}
}

// commit rebuilds the affected fragments and carries over the cached
// expansions that depend on nothing changed.
func (c *change) commit() *Tables {
	if len(c.listed) > 0 {
		c.t.fragments = refreshFragments(c.t, c.listed)
		for u := range c.listed {
			if c.t.fragments[u] != c.old.fragments[u] {
				c.changed[u] = true
			}
		}
	}
	c.old.cache.Range(func(k, v any) bool {
		if !v.(*ValueSet).dependsOn(c.changed) {
			c.t.cache.Store(k, v)
		}
		return true
	})
	return c.t
}

func withSupplement(m map[string][]*CodeSystem, cs *CodeSystem) map[string][]*CodeSystem {
	out := withoutSupplement(m, cs)
	out[cs.Supplements] = append(out[cs.Supplements], cs)
	return out
}

// withoutSupplement returns a copy of m without the supplements with cs's
// url and version.
func withoutSupplement(m map[string][]*CodeSystem, cs *CodeSystem) map[string][]*CodeSystem {
	out := make(map[string][]*CodeSystem, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	var list []*CodeSystem
	for _, s := range m[cs.Supplements] {
		if s.URL != cs.URL || s.Version != cs.Version {
			list = append(list, s)
		}
	}
	out[cs.Supplements] = list
	return out
}
