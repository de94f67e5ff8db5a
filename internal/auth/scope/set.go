package scope

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// maxLen bounds the scope string Parse accepts: far above any real request,
// low enough that a hostile one cannot make the quadratic clean-up costly.
const maxLen = 16 << 10

// Set is a parsed, normalised set of scopes: what a client asked for, is
// registered for, or was granted. The zero Set is empty. A Set is immutable;
// its methods are safe for concurrent use.
//
// Normalisation keeps the meaning and makes the form canonical: v1
// permissions become v2, duplicates go, scopes that differ only in
// permissions merge (patient/Observation.r and patient/Observation.s become
// patient/Observation.rs), and a scope that another in the set already
// covers is dropped (patient/Observation.r under patient/*.rs).
type Set struct {
	names  []string // non-clinical scopes, sorted
	scopes []Scope  // clinical scopes, sorted by String
}

// Parse parses a space-separated scope string, as in an OAuth request or
// token. Extra spaces are ignored. Unknown scopes are errors: the result
// joins a *ParseError for every bad scope, each naming the part at fault.
func Parse(s string) (Set, error) {
	if len(s) > maxLen {
		return Set{}, &ParseError{Scope: s, Part: "scope", Reason: fmt.Sprintf("scope string longer than %d bytes", maxLen)}
	}
	var names []string
	var scopes []Scope
	var errs []error
	for tok := range strings.SplitSeq(s, " ") {
		switch {
		case tok == "":
			continue
		case nonClinical[tok]:
			names = append(names, tok)
			continue
		}
		if c, ok := validToken(tok); !ok {
			errs = append(errs, &ParseError{Scope: tok, Part: "scope", Reason: fmt.Sprintf("character %q is not allowed in a scope", c)})
			continue
		}
		sc, err := parseClinical(tok)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		scopes = append(scopes, sc)
	}
	if len(errs) > 0 {
		return Set{}, errors.Join(errs...)
	}
	return newSet(names, scopes), nil
}

// MustParse is Parse for scope strings fixed in code and tests; it panics on
// an error.
func MustParse(s string) Set {
	set, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return set
}

// newSet normalises names and scopes into a Set; see Set.
func newSet(names []string, scopes []Scope) Set {
	merged := map[string]Scope{} // by context, type and query
	for _, s := range scopes {
		s.Query = normalQuery(s.Query)
		key := Scope{Context: s.Context, ResourceType: s.ResourceType, Query: s.Query}.String()
		if m, ok := merged[key]; ok {
			s.Perms |= m.Perms
		}
		merged[key] = s
	}
	var kept []Scope
	for key, s := range merged {
		redundant := false
		for other, o := range merged {
			if other != key && covers(o, s, s.Perms) {
				redundant = true
				break
			}
		}
		if !redundant {
			kept = append(kept, s)
		}
	}
	slices.SortFunc(kept, func(a, b Scope) int { return strings.Compare(a.String(), b.String()) })
	return Set{names: slices.Compact(slices.Sorted(slices.Values(names))), scopes: kept}
}

// covers reports whether scope g grants permissions ps on everything r
// reaches: same context, g's type is r's or "*", and g's query is no
// stricter than r's (each of g's conditions is also one of r's).
func covers(g, r Scope, ps Perms) bool {
	if g.Context != r.Context || g.Perms&ps != ps {
		return false
	}
	if g.ResourceType != "*" && g.ResourceType != r.ResourceType {
		return false
	}
	for name, values := range g.Query {
		for _, v := range values {
			if !slices.Contains(r.Query[name], v) {
				return false
			}
		}
	}
	return true
}

// String returns the set in canonical form: the scopes, normalised as
// described on Set, sorted and joined by single spaces. Parse(s.String())
// gives back an equal Set.
func (s Set) String() string {
	all := slices.Clone(s.names)
	for _, sc := range s.scopes {
		all = append(all, sc.String())
	}
	slices.Sort(all)
	return strings.Join(all, " ")
}

// Scopes returns the clinical scopes of the set, sorted; the caller may
// modify the result.
func (s Set) Scopes() []Scope {
	out := make([]Scope, len(s.scopes))
	for i, sc := range s.scopes {
		sc.Query = cloneQuery(sc.Query)
		out[i] = sc
	}
	return out
}

// Has reports whether the set grants the single scope tok: for a
// non-clinical scope such as "openid" or "launch/patient", whether it is in
// the set; for a clinical one, whether the set covers it (see Covers). An
// invalid tok is never granted.
func (s Set) Has(tok string) bool {
	if strings.ContainsRune(tok, ' ') {
		return false
	}
	one, err := Parse(tok)
	if err != nil {
		return false
	}
	return len(one.names)+len(one.scopes) == 1 && s.Covers(one)
}

// Covers reports whether s grants everything requested grants: every
// non-clinical scope, and each permission of each clinical scope through a
// scope of s with the same context, the same type or "*", and a query that
// is the same or looser. A request for patient/Observation.rs is covered by
// patient/*.cruds, and patient/Observation.rs?category=laboratory by
// patient/Observation.rs, but not the other way round.
func (s Set) Covers(requested Set) bool {
	for _, n := range requested.names {
		if _, ok := slices.BinarySearch(s.names, n); !ok {
			return false
		}
	}
	for _, r := range requested.scopes {
		for p := range r.Perms.All() {
			if !slices.ContainsFunc(s.scopes, func(g Scope) bool { return covers(g, r, Perms(p)) }) {
				return false
			}
		}
	}
	return true
}

// Allows reports whether any scope of context ctx grants permission p on
// resourceType, and if so which restrictions the caller must apply. p is one
// permission; for an interaction that needs several (see Needs), call Allows
// for each.
//
// filters is nil when some granting scope has no query: access is
// unrestricted. Otherwise every granting scope carries a query and the
// caller must let through only resources matching at least one of the
// filters (OR across them; within one filter all parameters apply, as in a
// FHIR search), in the order of the scopes in String. A "*" scope grants on every type; for system-wide searches,
// see Types.
//
// Patient context still needs the patient compartment to be enforced by the
// caller: a scope says which kinds of data, not whose.
func (s Set) Allows(ctx Context, p Perm, resourceType string) (allowed bool, filters []url.Values) {
	if resourceType == "" || p == 0 {
		return false, nil
	}
	seen := map[string]bool{}
	for _, g := range s.scopes {
		if g.Context != ctx || !g.Perms.Has(p) || g.ResourceType != "*" && g.ResourceType != resourceType {
			continue
		}
		if len(g.Query) == 0 {
			return true, nil
		}
		allowed = true
		if key := encodeQuery(g.Query); !seen[key] {
			seen[key] = true
			filters = append(filters, cloneQuery(g.Query))
		}
	}
	return allowed, filters
}

// Types returns the resource types on which scopes of context ctx grant
// permission p, sorted, "*" among them if a scope grants it on every type.
// Types granted only under a query are included: Allows gives the filters.
func (s Set) Types(ctx Context, p Perm) []string {
	var types []string
	for _, g := range s.scopes {
		if g.Context == ctx && g.Perms.Has(p) {
			types = append(types, g.ResourceType)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(types)))
}

// Narrow returns what an authorization server may grant: the part of
// requested that granted (what the client is registered for, or what the
// user approved) allows. Non-clinical scopes are kept if both hold them; each
// pair of clinical scopes in the same context yields their overlap: the
// narrower type, the common permissions, and both queries (all conditions
// apply). A request for patient/*.read against a registration of
// patient/Observation.rs and patient/Condition.r yields exactly those two.
func Narrow(requested, granted Set) Set {
	var names []string
	for _, n := range requested.names {
		if _, ok := slices.BinarySearch(granted.names, n); ok {
			names = append(names, n)
		}
	}
	var scopes []Scope
	for _, r := range requested.scopes {
		for _, g := range granted.scopes {
			if sc, ok := overlap(r, g); ok {
				scopes = append(scopes, sc)
			}
		}
	}
	return newSet(names, scopes)
}

// overlap returns the scope that grants what both a and b grant.
func overlap(a, b Scope) (Scope, bool) {
	ps := a.Perms & b.Perms
	if a.Context != b.Context || ps == 0 {
		return Scope{}, false
	}
	typ := a.ResourceType
	switch {
	case typ == "*":
		typ = b.ResourceType
	case b.ResourceType != "*" && b.ResourceType != typ:
		return Scope{}, false
	}
	q := cloneQuery(a.Query)
	for name, values := range b.Query {
		if q == nil {
			q = url.Values{}
		}
		q[name] = append(q[name], values...)
	}
	return Scope{Context: a.Context, ResourceType: typ, Perms: ps, Query: normalQuery(q)}, true
}

func cloneQuery(q url.Values) url.Values {
	if q == nil {
		return nil
	}
	out := make(url.Values, len(q))
	for name, values := range q {
		out[name] = slices.Clone(values)
	}
	return out
}
