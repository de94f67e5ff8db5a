package search

import (
	"context"
	"fmt"
	"slices"

	"github.com/ehealthplus/ehealth/internal/fhirpath"
)

// Contained resources (https://hl7.org/fhir/R4/search.html#contained).
//
// _contained says which resources a search matches: false (the default)
// only resources that stand alone, true only resources contained in
// another, both either. Every clause must hold on one and the same
// contained resource. _containedType says what a contained match returns:
// its container (the default; each container once) or the contained
// resource itself, whose Bundle fullUrl is the container's followed by
// "#" and its id ("…/MedicationRequest/23#m1").
//
// At write time the Indexer also extracts the rows of each contained
// resource, by the parameters of its own type, into entries tagged with
// its position (Entry.Contained), and gives each one a row of "_id"
// holding its local id, so every contained resource has a row a store
// can start from. The access predicate applies to the container: its
// patient key is the one every row carries.
//
// What contained search does not offer is refused when the query is
// parsed (checkContained), never silently widened or narrowed.

// SearchesTopLevel reports whether q matches resources that are not
// contained in another: _contained false (the default) or both.
func (q *Query) SearchesTopLevel() bool { return q.Contained != "true" }

// SearchesContained reports whether q matches contained resources:
// _contained true or both.
func (q *Query) SearchesContained() bool { return q.Contained == "true" || q.Contained == "both" }

// ReturnsContained reports whether a contained match is returned as the
// contained resource itself (_containedType=contained) rather than as its
// container.
func (q *Query) ReturnsContained() bool {
	return q.SearchesContained() && q.ContainedType == "contained"
}

// checkContained refuses, for a query that matches contained resources,
// what cannot be answered right: _sort (a container's order by the values
// of whichever contained resources matched is not defined, and contained
// resources have no lastUpdated), _include and _revinclude, _has (nothing
// outside a container can refer to what it contains), and parameters that
// have no rows for contained resources (composites, special and full-text
// parameters, _lastUpdated and _list).
func (p *parser) checkContained() error {
	q := p.query
	if !q.SearchesContained() {
		return nil
	}
	with := "with _contained=" + q.Contained
	switch {
	case len(q.Sort) > 0:
		return invalid("_sort", "_sort is not supported %s: contained resources have no order of their own", with)
	case len(q.Include) > 0:
		return invalid("_include", "_include is not supported %s", with)
	case len(q.RevInclude) > 0:
		return invalid("_revinclude", "_revinclude is not supported %s", with)
	}
	for _, c := range q.Clauses {
		if err := containable(c, with); err != nil {
			return err
		}
	}
	return nil
}

// containable is nil when clause c can be decided on a contained
// resource's rows.
func containable(c Clause, with string) error {
	switch {
	case c.Has != nil:
		return invalid("_has", "_has is not supported %s: nothing outside a container can refer to a contained resource", with)
	case c.Chain != nil:
		return nil // the chain starts from the contained resource's reference rows
	}
	switch name := c.Param.Code; {
	case name == "_lastUpdated":
		return invalid(name, "_lastUpdated is not supported %s: contained resources carry no lastUpdated", with)
	case !indexedWhenContained(c.Param) && name != "_id":
		return invalid(name, "search parameter %s (%s) is not supported %s", name, c.Param.Type, with)
	}
	return nil
}

// indexedWhenContained reports whether the Indexer extracts p's rows from
// contained resources: the parameters whose values are plain rows of one
// table. Composite parts would need a combination of their own, and the
// server-computed, full-text and special parameters have no expression to
// evaluate on a contained resource.
func indexedWhenContained(p *Param) bool {
	switch p.Type {
	case String, Token, Date, Number, Quantity, Reference, URI:
		return p.Expression != "" && !answeredByStore[p.Code] && !fullText[p.Code]
	}
	return false
}

// indexContained appends the entries of the resources res contains to
// entries: each one's rows under the parameters of its own type (only
// those of codes, when codes is not nil), evaluated with the contained
// resource as %resource and res as %rootResource, and, for a full index
// (codes nil), its "_id" row. Entries carry res's id and patient key.
func (ix *Indexer) indexContained(ctx context.Context, res map[string]any, patientKey string, codes []string,
	entries []Entry, skipped []error) ([]Entry, []error, error) {
	list, _ := res["contained"].([]any)
	id, _ := res["id"].(string)
	var buf fhirpath.Collection
	for i, item := range list {
		c, _ := item.(map[string]any)
		typ, _ := c["resourceType"].(string)
		if typ == "" {
			continue
		}
		at := Entry{ResourceType: typ, ResourceID: id, PatientKey: patientKey, Contained: i + 1}
		if codes == nil {
			local, _ := c["id"].(string)
			at.Code, at.Row = "_id", TokenRow{Code: local}
			entries = append(entries, at)
		}
		opts := &fhirpath.Options{Resource: c, RootResource: res, Resolver: referenceStub}
		for _, p := range ix.reg.ForType(typ) {
			if !indexedWhenContained(p) || codes != nil && !slices.Contains(codes, p.Code) {
				continue
			}
			var rows []Row
			var err error
			rows, buf, err = ix.rows(ctx, p, c, opts, buf[:0])
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				skipped = append(skipped, fmt.Errorf("%s contained[%d] %s.%s: %w", id, i, typ, p.Code, err))
				continue
			}
			at.Code = p.Code
			for _, r := range rows {
				at.Row = r
				entries = append(entries, at)
			}
		}
	}
	return entries, skipped, nil
}

// Held is one resource a stored resource holds for search: the resource
// itself (Contained 0) or one of its contained resources (Contained k, the
// k-th of Resource.contained), with its index rows by parameter code.
type Held struct {
	Type      string
	Contained int
	Rows      map[string][]Row
}

// HeldIn sorts the index entries of one stored resource of type typ by
// the resource they describe: the resource itself first, then its
// contained resources in order (those that have rows).
func HeldIn(typ string, entries []Entry) []Held {
	out := []Held{{Type: typ, Rows: map[string][]Row{}}}
	at := map[int]int{0: 0}
	for _, e := range entries {
		i, ok := at[e.Contained]
		if !ok {
			i = len(out)
			at[e.Contained] = i
			out = append(out, Held{Type: e.ResourceType, Contained: e.Contained, Rows: map[string][]Row{}})
		}
		out[i].Rows[e.Code] = append(out[i].Rows[e.Code], e.Row)
	}
	slices.SortStableFunc(out, func(a, b Held) int { return a.Contained - b.Contained })
	return out
}

// Matches reports whether h is a match of q by the rows alone: of a
// searched type, standing alone or contained as _contained asks, and
// meeting every clause (Match on its rows of the clause's parameter).
// Clauses the rows cannot decide (chains, _has, and the _id or
// _lastUpdated of a resource that stands alone, which the store answers
// from the resource itself) do not match.
func (q *Query) Matches(h Held) bool {
	switch {
	case h.Contained == 0 && !q.SearchesTopLevel(), h.Contained > 0 && !q.SearchesContained():
		return false
	case q.ResourceType != "" && h.Type != q.ResourceType:
		return false
	case q.ResourceType == "" && len(q.Types) > 0 && !slices.Contains(q.Types, h.Type):
		return false
	}
	for _, c := range q.Clauses {
		if !Match(c, h.Rows[c.Param.Code]) {
			return false
		}
	}
	return true
}
