package oracle

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhirpath"
)

// Resource is one current resource as the oracle sees it, or one
// resource contained in such a resource (contained.go).
type Resource struct {
	Type       string
	ID         string // for a contained resource, its local id
	PatientKey string // the first patient of its patient compartment; "" for none; a contained resource's is its container's
	Body       map[string]any
	Container  string // for a contained resource, its container "Type/id"; "" for a resource that stands alone
	Position   int    // for a contained resource, its place (1-based) in the container's contained list
}

// Param is a search parameter as the oracle needs it: its code, its R4
// type ("token", "string", ...) and the FHIRPath that finds its values.
type Param struct {
	Code       string
	Type       string
	Expression string
}

// Oracle answers searches over a fixed set of resources by brute force.
// It is not safe for concurrent use (it caches what it evaluates).
type Oracle struct {
	byType map[string][]*Resource
	params map[string]map[string]Param // type → code → param
	exprs  map[string]*fhirpath.Expression
	cache  map[valuesKey][]Item
	// contained holds, by type, the resources contained in the resources.
	contained map[string][]*Resource
}

type valuesKey struct {
	typ, code, id, container string
	position                 int
}

// New returns an oracle over resources, with params listing the
// parameters of each resource type.
func New(resources []Resource, params map[string][]Param) *Oracle {
	o := &Oracle{
		byType: map[string][]*Resource{},
		params: map[string]map[string]Param{},
		exprs:  map[string]*fhirpath.Expression{},
		cache:  map[valuesKey][]Item{},
	}
	for i := range resources {
		r := &resources[i]
		o.byType[r.Type] = append(o.byType[r.Type], r)
	}
	o.contained = containedIn(o.byType)
	for _, rs := range o.byType {
		slices.SortFunc(rs, func(a, b *Resource) int { return cmp.Compare(a.ID, b.ID) })
	}
	for typ, ps := range params {
		m := map[string]Param{}
		for _, p := range ps {
			m[p.Code] = p
		}
		o.params[typ] = m
	}
	return o
}

// Resources returns the resources of typ, by id.
func (o *Oracle) Resources(typ string) []*Resource { return o.byType[typ] }

// Types returns the resource types the oracle holds, sorted.
func (o *Oracle) Types() []string {
	var out []string
	for t := range o.byType {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Param returns the parameter code of typ.
func (o *Oracle) Param(typ, code string) (Param, bool) {
	p, ok := o.params[typ][code]
	return p, ok
}

// Items returns the typed values parameter code finds on r: its
// expression evaluated by the fhirpath engine, each result read as the
// parameter's type reads it.
func (o *Oracle) Items(code string, r *Resource) ([]Item, error) {
	k := valuesKey{r.Type, code, r.ID, r.Container, r.Position}
	if it, ok := o.cache[k]; ok {
		return it, nil
	}
	p, ok := o.params[r.Type][code]
	if !ok {
		return nil, fmt.Errorf("oracle: %s has no parameter %s", r.Type, code)
	}
	var items []Item
	if p.Code == "_id" {
		items = []Item{{FHIRType: "id", Code: r.ID}}
	} else {
		x, err := o.compile(p.Expression)
		if err != nil {
			return nil, err
		}
		col, err := x.Evaluate(context.Background(), r.Body, &fhirpath.Options{Resource: r.Body, Resolver: stubResolver})
		if err != nil {
			return nil, fmt.Errorf("oracle: %s on %s/%s: %w", p.Expression, r.Type, r.ID, err)
		}
		for _, v := range col {
			items = append(items, itemsOf(p.Type, v.TypeName(), v.JSON())...)
		}
	}
	o.cache[k] = items
	return items, nil
}

func (o *Oracle) compile(expr string) (*fhirpath.Expression, error) {
	if x, ok := o.exprs[expr]; ok {
		return x, nil
	}
	x, err := fhirpath.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("oracle: compile %q: %w", expr, err)
	}
	o.exprs[expr] = x
	return x, nil
}

// stubResolver makes resolve() on "Type/id" a resource of that type, so
// "subject.where(resolve() is Patient)" works without the target.
func stubResolver(ref string) map[string]any {
	typ, id, ok := splitRef(ref)
	if !ok {
		return nil
	}
	return map[string]any{"resourceType": typ, "id": id}
}

// Result is the oracle's answer to a search.
type Result struct {
	IDs  []string       // matching ids; in sort-key order when the query sorts
	Sort *SortParam     // the _sort of the query, nil when none
	Keys map[string]Key // each match's sort key when the query sorts
}

// SortParam is the query's _sort (one parameter).
type SortParam struct {
	Code string
	Desc bool
}

// Search returns the ids of the resources of typ that match query and
// that allow (the access predicate, given the patient key) lets through;
// with _contained=true or both, what searchContained returns.
func (o *Oracle) Search(typ string, query url.Values, allow func(patientKey string) bool) (Result, error) {
	var res Result
	var clauses []clause
	var contained, containedType string
	for name, vals := range query {
		switch name {
		case "_count":
			continue
		case "_contained":
			contained = vals[0]
			continue
		case "_containedType":
			containedType = vals[0]
			continue
		case "_sort":
			s := vals[0]
			res.Sort = &SortParam{Code: strings.TrimPrefix(s, "-"), Desc: strings.HasPrefix(s, "-")}
			continue
		}
		code, mod, _ := strings.Cut(name, ":")
		p, ok := o.params[typ][code]
		if !ok {
			return res, fmt.Errorf("oracle: %s has no parameter %s", typ, code)
		}
		for _, v := range vals {
			c, err := parseClause(p, mod, v)
			if err != nil {
				return res, err
			}
			clauses = append(clauses, c)
		}
	}
	if contained == "true" || contained == "both" {
		return o.searchContained(typ, clauses, contained == "both", containedType == "contained", allow)
	}
	for _, r := range o.byType[typ] {
		if !allow(r.PatientKey) {
			continue
		}
		ok, err := o.matchAll(r, clauses)
		if err != nil {
			return res, err
		}
		if ok {
			res.IDs = append(res.IDs, r.ID)
		}
	}
	if res.Sort != nil {
		if err := o.sortResult(typ, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (o *Oracle) matchAll(r *Resource, clauses []clause) (bool, error) {
	for _, c := range clauses {
		items, err := o.Items(c.param.Code, r)
		if err != nil {
			return false, err
		}
		if !c.match(items) {
			return false, nil
		}
	}
	return true, nil
}

// sortResult orders res by the sort key: ascending by each resource's
// smallest value, descending by its largest, resources without one last;
// ties by id (the server's tie order is its own and is not checked).
func (o *Oracle) sortResult(typ string, res *Result) error {
	res.Keys = map[string]Key{}
	for _, id := range res.IDs {
		k, err := o.SortKey(typ, id, *res.Sort)
		if err != nil {
			return err
		}
		res.Keys[id] = k
	}
	slices.SortStableFunc(res.IDs, func(a, b string) int {
		return CompareKeys(res.Keys[a], res.Keys[b], res.Sort.Desc)
	})
	return nil
}

// Lookup returns the resource typ/id, nil when the oracle has none.
func (o *Oracle) Lookup(typ, id string) *Resource {
	i, ok := slices.BinarySearchFunc(o.byType[typ], id, func(r *Resource, id string) int { return cmp.Compare(r.ID, id) })
	if !ok {
		return nil
	}
	return o.byType[typ][i]
}

// SortKey returns the sort key of typ/id under s.
func (o *Oracle) SortKey(typ, id string, s SortParam) (Key, error) {
	r := o.Lookup(typ, id)
	if r == nil {
		return Key{}, fmt.Errorf("oracle: no %s/%s", typ, id)
	}
	items, err := o.Items(s.Code, r)
	if err != nil {
		return Key{}, err
	}
	return sortKeyOf(items, s.Desc), nil
}

// Describe renders what parameter code finds on typ/id, for failure messages.
func (o *Oracle) Describe(typ, id, code string) string {
	r := o.Lookup(typ, id)
	if r == nil {
		return "(not in the oracle's data)"
	}
	items, err := o.Items(code, r)
	if err != nil {
		return err.Error()
	}
	parts := make([]string, len(items))
	for j, it := range items {
		parts[j] = it.String()
	}
	return "patient=" + strconv.Quote(r.PatientKey) + " " + code + "=[" + strings.Join(parts, "; ") + "]"
}
