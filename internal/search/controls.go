package search

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// controls are the result parameters
// (https://hl7.org/fhir/R4/search.html#return), other than _include and
// _revinclude, keyed by name.
var controls = map[string]func(p *parser, v string) error{
	"_sort":          (*parser).sort,
	"_count":         (*parser).count,
	"_summary":       enumControl("_summary", []string{"true", "text", "data", "count", "false"}, func(q *Query, v string) { q.Summary = v }),
	"_total":         enumControl("_total", []string{"none", "estimate", "accurate"}, func(q *Query, v string) { q.Total = v }),
	"_contained":     enumControl("_contained", []string{"true", "false", "both"}, func(q *Query, v string) { q.Contained = v }),
	"_containedType": enumControl("_containedType", []string{"container", "contained"}, func(q *Query, v string) { q.ContainedType = v }),
	"_elements":      (*parser).elements,
	"_explain":       (*parser).explain,
}

// explain reads _explain=true|false, an operator's tool that adds the
// store's SQL and query plan to the result. Unless Options.AllowExplain
// says the server offers it, it is an unsupported parameter like any other.
func (p *parser) explain(v string) error {
	if !p.opt.AllowExplain {
		p.reject("_explain", "_explain is not enabled on this server")
		return nil
	}
	switch trimLower(v) {
	case "true":
		p.query.Explain = true
	case "false":
		p.query.Explain = false
	default:
		return invalid("_explain", "_explain must be true or false, not %q", v)
	}
	return nil
}

// enumControl reads a parameter that takes one of a few values; another
// value is an error, since ignoring it would change the result's shape.
func enumControl(name string, allowed []string, set func(*Query, string)) func(*parser, string) error {
	return func(p *parser, v string) error {
		v = trimLower(v)
		if !slices.Contains(allowed, v) {
			return invalid(name, "%s must be one of %s, not %q", name, strings.Join(allowed, ", "), v)
		}
		set(p.query, v)
		return nil
	}
}

func (p *parser) count(v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return invalid("_count", "_count must be a whole number, not %q", v)
	}
	if n > p.opt.MaxCount {
		p.notes = append(p.notes, outcome.Issue{Severity: outcome.SeverityWarning, Code: "informational",
			Message: "_count " + v + " is above the maximum; pages hold " + strconv.Itoa(p.opt.MaxCount), Expression: "_count"})
		n = p.opt.MaxCount
	}
	p.query.Count = n
	return nil
}

func (p *parser) elements(v string) error {
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" && !slices.Contains(p.query.Elements, e) {
			p.query.Elements = append(p.query.Elements, e)
		}
	}
	return nil
}

// sort reads "_sort=-date,status"; unknown keys are rejected like unknown
// parameters.
func (p *parser) sort(v string) error {
	for _, key := range strings.Split(v, ",") {
		key = strings.TrimSpace(key)
		desc := strings.HasPrefix(key, "-")
		name := strings.TrimPrefix(key, "-")
		if name == "" {
			continue
		}
		prm, ok := p.lookup(p.searchType(), name)
		switch {
		case !ok:
			p.reject("_sort", "cannot sort by unknown parameter %s", name)
		case prm.Type == Composite || prm.Type == Special || prm.Expression == "" && !strings.HasPrefix(name, "_"):
			p.reject("_sort", "cannot sort by %s", name)
		default:
			p.query.Sort = append(p.query.Sort, SortParam{Param: prm, Desc: desc})
		}
	}
	return nil
}

// includes reads _include and _revinclude values: "Type:param",
// "Type:param:Target", "Type:*" and "*", with :iterate (or :recurse).
func (p *parser) includes(name, mod string, values []string) error {
	key := name
	if mod != "" {
		key += ":" + mod
	}
	iterate := mod == "iterate" || mod == "recurse"
	if mod != "" && !iterate {
		return invalid(key, "%s takes no modifier :%s (only :iterate)", name, mod)
	}
	for _, v := range values {
		for _, one := range strings.Split(v, ",") {
			inc, ok, err := p.include(key, strings.TrimSpace(one), iterate, name == "_revinclude")
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if name == "_include" {
				p.query.Include = append(p.query.Include, inc)
			} else {
				p.query.RevInclude = append(p.query.RevInclude, inc)
			}
		}
	}
	return nil
}

func (p *parser) include(key, v string, iterate, rev bool) (Include, bool, error) {
	if v == "" {
		return Include{}, false, nil
	}
	if v == "*" {
		return Include{Source: "*", Iterate: iterate, Wildcard: true}, true, nil
	}
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || !validTypeName(parts[0]) || parts[1] == "" {
		return Include{}, false, invalid(key, "%s must be Type:parameter[:targetType], not %q", key, v)
	}
	inc := Include{Source: parts[0], Iterate: iterate}
	if len(parts) == 3 {
		if !validTypeName(parts[2]) {
			return Include{}, false, invalid(key, "%q is not a resource type", parts[2])
		}
		inc.Target = parts[2]
	}
	if parts[1] == "*" {
		inc.Wildcard = true
		return inc, true, nil
	}
	prm, ok := p.reg.Lookup(inc.Source, parts[1])
	switch {
	case !ok:
		p.reject(key, "unknown search parameter %s on %s", parts[1], inc.Source)
		return Include{}, false, nil
	case prm.Type != Reference:
		return Include{}, false, invalid(key, "%s is not a reference parameter", prm)
	case inc.Target != "" && !prm.AllowsTarget(inc.Target):
		return Include{}, false, invalid(key, "%s cannot refer to %s", prm, inc.Target)
	}
	inc.Param = prm
	if !iterate && !p.applies(inc, rev) {
		p.reject(key, "%s %s cannot apply to a search of %s", key, v, p.searchType())
		return Include{}, false, nil
	}
	return inc, true, nil
}

// applies reports whether a non-iterating include can find anything: an
// _include must start from a searched type, a _revinclude must point at one.
func (p *parser) applies(inc Include, rev bool) bool {
	types := p.query.Types
	if p.query.ResourceType != "" {
		types = []string{p.query.ResourceType}
	}
	if len(types) == 0 {
		return true // a system search over every type
	}
	for _, t := range types {
		if !rev && inc.Source == t || rev && inc.Param.AllowsTarget(t) && (inc.Target == "" || inc.Target == t) {
			return true
		}
	}
	return false
}
