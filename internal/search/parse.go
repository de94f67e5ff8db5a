package search

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Parse reads the search parameters q of a search on resourceType ("" for
// a system-level search) into a Query, with the default Options and the
// given strictness. See ParseWith.
func Parse(resourceType string, q url.Values, reg *Registry, strict bool) (*Query, []outcome.Issue, error) {
	return ParseWith(resourceType, q, reg, Options{Strict: strict})
}

// ParseWith reads the search parameters q into a Query
// (https://hl7.org/fhir/R4/search.html). Unknown parameters, unknown
// chain links and includes that cannot apply are, when lenient, left out
// and reported as warning issues; when strict they fail the parse with an
// Invalid error listing them all. Values that cannot be read (a bad date,
// a prefix on a token, an unknown modifier) are always an Invalid error,
// because ignoring them would widen the result. The returned issues are
// the warnings and notes to put in the Bundle's OperationOutcome.
func ParseWith(resourceType string, q url.Values, reg *Registry, opt Options) (*Query, []outcome.Issue, error) {
	p := &parser{reg: reg, opt: opt.withDefaults(), query: &Query{ResourceType: resourceType}}
	p.query.Count = p.opt.DefaultCount
	if resourceType != "" && !validTypeName(resourceType) {
		return nil, nil, outcome.New(outcome.Invalid, "%q is not a resource type", resourceType)
	}
	if err := p.parseTypes(q["_type"]); err != nil {
		return nil, nil, err
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := p.param(k, q[k]); err != nil {
			return nil, nil, err
		}
	}
	if err := p.checkContained(); err != nil {
		return nil, nil, err
	}
	if p.opt.Strict && len(p.rejected) > 0 {
		for i := range p.rejected {
			p.rejected[i].Severity = outcome.SeverityError
		}
		return nil, nil, &outcome.Error{Kind: outcome.Invalid, Op: "search", Issues: p.rejected}
	}
	return p.query, append(p.rejected, p.notes...), nil
}

// parser holds the state of one Parse.
type parser struct {
	reg      *Registry
	opt      Options
	query    *Query
	rejected []outcome.Issue // ignored parameters: warnings, or errors when strict
	notes    []outcome.Issue // warnings that never fail (a capped _count)
}

// serverComputed are the parameters without an expression whose values
// the server itself provides (narrative text, content, list membership)
// or that the parser turns into structure (_has).
var serverComputed = map[string]bool{"_text": true, "_content": true, "_list": true, "_has": true}

// passthrough are parameters the REST layer reads; search ignores them.
var passthrough = map[string]bool{"_format": true, "_pretty": true, "_cursor": true}

// param handles one query parameter name with all its repetitions.
func (p *parser) param(key string, values []string) error {
	name, mod, _ := strings.Cut(key, ":")
	switch {
	case passthrough[key] || key == "_type":
		return nil
	case name == "_include" || name == "_revinclude":
		return p.includes(name, mod, values)
	case controls[key] != nil:
		for _, v := range values {
			if err := controls[key](p, v); err != nil {
				return err
			}
		}
		return nil
	}
	for _, v := range values {
		if v == "" {
			p.reject(key, "parameter %s has no value and is ignored", key)
			continue
		}
		c, ok, err := p.clause(p.searchType(), key, 0)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		leaf := leafOf(&c)
		if leaf.Values, err = p.values(leaf, key, v); err != nil {
			return err
		}
		if len(leaf.Values) > 0 {
			p.query.Clauses = append(p.query.Clauses, c)
		}
	}
	return nil
}

// searchType is the type parameters are looked up on: the searched type,
// the first _type of a system search, or Resource.
func (p *parser) searchType() string {
	switch {
	case p.query.ResourceType != "":
		return p.query.ResourceType
	case len(p.query.Types) > 0:
		return p.query.Types[0]
	}
	return "Resource"
}

// reject records an ignored parameter: a warning, or an error when strict.
func (p *parser) reject(key, format string, args ...any) {
	p.rejected = append(p.rejected, outcome.Issue{
		Severity: outcome.SeverityWarning, Code: "not-supported",
		Message: fmt.Sprintf(format, args...), Expression: key,
	})
}

// invalid is the error for a parameter that cannot be read.
func invalid(key, format string, args ...any) error {
	e := outcome.New(outcome.Invalid, format, args...)
	e.Op = "search"
	e.Issues[0].Expression = key
	return e
}

// lookup finds a parameter on typ; in a system search with _type it must
// exist on every listed type.
func (p *parser) lookup(typ, code string) (*Param, bool) {
	prm, ok := p.reg.Lookup(typ, code)
	if !ok || p.query.ResourceType != "" || typ != p.searchType() {
		return prm, ok
	}
	for _, t := range p.query.Types[min(1, len(p.query.Types)):] {
		if other, ok := p.reg.Lookup(t, code); !ok || other.Type != prm.Type {
			return nil, false
		}
	}
	return prm, true
}

// clause parses a parameter name ("code", "subject:Patient.name:exact",
// "_has:Observation:patient:code") on typ. It returns the clause, the
// innermost clause that takes the values, and ok = false when the
// parameter was rejected as unknown.
func (p *parser) clause(typ, key string, depth int) (Clause, bool, error) {
	if depth > MaxChainDepth {
		e := outcome.New(outcome.TooCostly, "%s chains more than %d levels", key, MaxChainDepth)
		return Clause{}, false, e
	}
	if rest, ok := strings.CutPrefix(key, "_has:"); ok {
		return p.has(typ, key, rest, depth)
	}
	head, tail, chained := strings.Cut(key, ".")
	name, modText, _ := strings.Cut(head, ":")
	prm, ok := p.lookup(typ, name)
	if !ok {
		p.reject(key, "unknown search parameter %s on %s", name, typ)
		return Clause{}, false, nil
	}
	if prm.Expression == "" && !serverComputed[prm.Code] {
		p.reject(key, "search parameter %s is not supported", prm)
		return Clause{}, false, nil
	}
	c := Clause{Param: prm}
	if err := p.modifier(&c, key, modText, chained); err != nil {
		return Clause{}, false, err
	}
	if !chained {
		return c, true, nil
	}
	return p.chain(c, key, tail, depth)
}

// modifier reads the part after ':' of a parameter name into c.
func (p *parser) modifier(c *Clause, key, mod string, chained bool) error {
	prm := c.Param
	switch {
	case mod == "":
		return nil
	case prm.Type == Reference && validTypeName(mod):
		if !prm.AllowsTarget(mod) {
			return invalid(key, "%s cannot refer to %s (targets: %s)", prm, mod, strings.Join(prm.Target, ", "))
		}
		c.Modifier, c.TargetType = ModType, mod
		return nil
	case chained:
		return invalid(key, "only a resource type may modify the chained parameter %s", prm)
	case !prm.AllowsModifier(Modifier(mod)) || Modifier(mod) == ModType:
		return invalid(key, "modifier :%s is not supported on %s (%s)", mod, prm, prm.Type)
	}
	c.Modifier = Modifier(mod)
	return nil
}

// chain resolves the rest of a chained name on the types the reference c
// may point to.
func (p *parser) chain(c Clause, key, tail string, depth int) (Clause, bool, error) {
	if c.Param.Type != Reference {
		return Clause{}, false, invalid(key, "%s is not a reference and cannot be chained", c.Param)
	}
	if tail == "" {
		return Clause{}, false, invalid(key, "chain %s ends with '.'", key)
	}
	next := tail
	if i := strings.IndexAny(next, ".:"); i >= 0 {
		next = next[:i]
	}
	candidates := c.Param.Target
	if c.TargetType != "" {
		candidates = []string{c.TargetType}
	}
	var types []string
	var first *Param
	for _, t := range candidates {
		q, ok := p.reg.Lookup(t, next)
		if ok && (first == nil || q.Type == first.Type) {
			types = append(types, t)
			if first == nil {
				first = q
			}
		}
	}
	if len(types) == 0 {
		p.reject(key, "no resource %s may refer to has a search parameter %s", c.Param, next)
		return Clause{}, false, nil
	}
	sub := &parser{reg: p.reg, opt: p.opt, query: &Query{ResourceType: types[0]}}
	inner, ok, err := sub.clause(types[0], tail, depth+1)
	p.rejected = append(p.rejected, sub.rejected...)
	if err != nil || !ok {
		return Clause{}, ok, err
	}
	c.Chain = &Chain{Types: types, Clause: inner}
	return c, true, nil
}

// has parses "_has:Type:ref:rest".
func (p *parser) has(typ, key, rest string, depth int) (Clause, bool, error) {
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) != 3 || !validTypeName(parts[0]) || parts[1] == "" || parts[2] == "" {
		return Clause{}, false, invalid(key, "_has must be _has:Type:reference:parameter, got %s", key)
	}
	other, refCode, param := parts[0], parts[1], parts[2]
	ref, ok := p.reg.Lookup(other, refCode)
	switch {
	case !ok:
		p.reject(key, "unknown search parameter %s on %s", refCode, other)
		return Clause{}, false, nil
	case ref.Type != Reference:
		return Clause{}, false, invalid(key, "%s is not a reference parameter", ref)
	case typ != "Resource" && !ref.AllowsTarget(typ):
		return Clause{}, false, invalid(key, "%s cannot refer to %s", ref, typ)
	}
	sub := &parser{reg: p.reg, opt: p.opt, query: &Query{ResourceType: other}}
	inner, ok, err := sub.clause(other, param, depth+1)
	p.rejected = append(p.rejected, sub.rejected...)
	if err != nil || !ok {
		return Clause{}, ok, err
	}
	hasParam, _ := p.reg.Lookup(typ, "_has")
	c := Clause{Param: hasParam, Has: &Has{Type: other, Ref: ref, Clause: inner}}
	return c, true, nil
}

// leafOf finds the innermost clause of c, the one that takes the values.
func leafOf(c *Clause) *Clause {
	for {
		switch {
		case c.Chain != nil:
			c = &c.Chain.Clause
		case c.Has != nil:
			c = &c.Has.Clause
		default:
			return c
		}
	}
}

// parseTypes reads _type, the types of a system-level search.
func (p *parser) parseTypes(values []string) error {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			switch {
			case t == "":
			case !validTypeName(t):
				return invalid("_type", "%q is not a resource type", t)
			case !slices.Contains(p.query.Types, t):
				p.query.Types = append(p.query.Types, t)
			}
		}
	}
	if p.query.ResourceType != "" && len(p.query.Types) > 0 {
		p.notes = append(p.notes, outcome.Issue{Severity: outcome.SeverityWarning, Code: "informational",
			Message: "_type is for system-level searches and is ignored on a type search", Expression: "_type"})
		p.query.Types = nil
	}
	return nil
}
