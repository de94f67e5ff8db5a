package resource

import (
	"context"
	"maps"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Codes expands token values for :in, :not-in, :above and :below
// (the terminology service).
type Codes interface {
	InValueSet(url string) (map[string][]string, error)
	Below(system, code string) ([]string, bool)
	Above(system, code string) ([]string, bool)
}

// WithSearch enables search over reg's parameters, with codes expanding
// hierarchical and value-set token modifiers.
func WithSearch(reg *search.Registry, codes Codes) Option {
	return func(s *Service) { s.registry, s.codes = reg, codes }
}

// SearchOptions are the request's settings beyond its parameters.
type SearchOptions struct {
	Strict  bool   // Prefer: handling=strict
	BaseURL string // this server's base, so absolute references to it read as local
	Cursor  string // the page cursor from a next link ("" for the first page)
	Patient string // compartment search: only this patient's compartment
	// Explain offers _explain (an operator setting, rest.Config.AllowExplain):
	// with it _explain=true adds the store's SQL and plan to the result;
	// without it _explain is an unsupported parameter (a warning, or 400
	// when strict).
	Explain bool
}

// SearchResult is one page of a search.
type SearchResult struct {
	Query *search.Query
	// Matches are the page's matches. Under _containedType=contained a
	// match with Contained k is the k-th resource its version contains
	// (ContainedMatch), not the version's resource.
	Matches  []store.Version
	Included []store.Version
	Total    int64  // -1 when not counted
	Next     string // the next page's cursor, "" on the last
	Previous string // the previous page's cursor, "" on the first
	Issues   []outcome.Issue
	Capped   bool   // includes stopped at their limit
	Explain  string // _explain: the store's SQL (placeholders, no values) and plan; "" when not asked
}

// maxIncluded bounds the resources _include and _revinclude add to a page.
const maxIncluded = 1000

// Search runs a type-level (typ set) or system-level search
// (https://hl7.org/fhir/R4/search.html) under the caller's access predicate.
func (s *Service) Search(ctx context.Context, c Caller, typ string, params url.Values, opts SearchOptions) (SearchResult, error) {
	if s.registry == nil {
		return SearchResult{}, outcome.New(outcome.NotAllowed, "search is not available on this server")
	}
	if typ != "" {
		if err := checkType(typ); err != nil {
			return SearchResult{}, err
		}
	}
	if typ == "" && opts.Patient != "" && params.Get("_type") == "" {
		// Patient/x/*: every type of the record the caller may search.
		all := url.Values{}
		maps.Copy(all, params)
		params = all
		params.Set("_type", strings.Join(c.searchable(patientRecordTypes()), ","))
	}
	q, issues, err := search.ParseWith(typ, params, s.registry, search.Options{Strict: opts.Strict, BaseURL: opts.BaseURL, AllowExplain: opts.Explain})
	if err != nil {
		return SearchResult{}, err
	}
	access, err := s.searchAccess(c, typ, q)
	if err != nil {
		return SearchResult{}, err
	}
	if err := s.expandCodes(q.Clauses); err != nil {
		return SearchResult{}, err
	}
	patient := opts.Patient
	if patient == "" && !q.SearchesContained() {
		// A contained match's compartment is its container's, which its
		// own references do not name.
		patient = impliedPatient(q)
		if patient != "" {
			// A linked or merged record's resources are filed under the
			// record it defers to.
			if patient, err = resolveKey(ctx, s.store, patient); err != nil {
				return SearchResult{}, err
			}
		}
	}
	if broadSearch(q, patient) {
		leave, err := s.broad.enter(ctx)
		if err != nil {
			return SearchResult{}, err
		}
		defer leave()
	} else {
		s.broad.narrow()
	}
	sq := store.SearchQuery{Plan: q, Access: access, After: opts.Cursor, Patient: patient}
	page, err := s.store.Search(ctx, sq)
	if err != nil {
		return SearchResult{}, err
	}
	res := SearchResult{Query: q, Matches: page.Versions, Total: page.Total, Next: page.Next, Previous: page.Previous, Issues: issues}
	if q.Explain {
		if res.Explain, err = s.store.Explain(ctx, sq); err != nil {
			return SearchResult{}, err
		}
	}
	if q.Summary != "count" {
		if res.Included, res.Capped, err = s.include(ctx, s.store, q, page.Versions, access); err != nil {
			return SearchResult{}, err
		}
		res.Included, err = s.readable(ctx, c, res.Included)
	}
	return res, err
}

// include gathers _include and _revinclude targets of the page, following
// :iterate ones over what was included until nothing new comes.
func (s *Service) include(ctx context.Context, searcher store.Searcher, q *search.Query, matches []store.Version, access store.Access) ([]store.Version, bool, error) {
	seen := map[string]bool{}
	for _, v := range matches {
		seen[v.Type+"/"+v.ID] = true
	}
	var out []store.Version
	from := matches
	for round := 0; len(from) > 0 && round < search.MaxChainDepth; round++ {
		var next []store.Version
		for _, set := range []struct {
			incs []search.Include
			rev  bool
		}{{q.Include, false}, {q.RevInclude, true}} {
			for _, inc := range set.incs {
				if round > 0 && !inc.Iterate {
					continue
				}
				found, err := searcher.Include(ctx, from, inc, set.rev, access, maxIncluded-len(out)+1)
				if err != nil {
					return nil, false, err
				}
				for _, v := range found {
					key := v.Type + "/" + v.ID
					if seen[key] {
						continue
					}
					if len(out) == maxIncluded {
						return out, true, nil
					}
					seen[key] = true
					out = append(out, v)
					next = append(next, v)
				}
			}
		}
		from = next
	}
	return out, false, nil
}

// expandCodes fills the codes of :in, :not-in, :above and :below token
// values from the terminology service, in chains and _has too.
func (s *Service) expandCodes(clauses []search.Clause) error {
	for i := range clauses {
		cl := &clauses[i]
		if cl.Chain != nil {
			if err := s.expandCodes([]search.Clause{cl.Chain.Clause}); err != nil {
				return err
			}
		}
		if cl.Has != nil {
			if err := s.expandCodes([]search.Clause{cl.Has.Clause}); err != nil {
				return err
			}
		}
		for j := range cl.Values {
			if err := s.expandValue(cl.Modifier, &cl.Values[j].Token); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) expandValue(m search.Modifier, t *search.TokenValue) error {
	switch m {
	case search.ModIn, search.ModNotIn:
		if s.codes == nil {
			return outcome.New(outcome.NotAllowed, ":%s needs the terminology service", m)
		}
		bySystem, err := s.codes.InValueSet(t.Code)
		if err != nil {
			return err
		}
		for system, codes := range bySystem {
			for _, code := range codes {
				t.Expanded = append(t.Expanded, search.Coding{System: system, Code: code})
			}
		}
	case search.ModAbove, search.ModBelow:
		related := []string{t.Code}
		if s.codes != nil {
			expand := s.codes.Below
			if m == search.ModAbove {
				expand = s.codes.Above
			}
			if codes, ok := expand(t.System, t.Code); ok {
				related = codes
			}
		}
		for _, code := range related {
			t.Expanded = append(t.Expanded, search.Coding{System: t.System, Code: code})
		}
	}
	return nil
}

// Everything pages through a patient's record
// (https://hl7.org/fhir/R4/patient-operation-everything.html): the Patient,
// every resource in its compartment, and the resources they refer to (as
// includes). params may hold _since, _type and _count, and the cursor of a
// next page.
func (s *Service) Everything(ctx context.Context, c Caller, id string, params url.Values, opts SearchOptions) (SearchResult, error) {
	if _, err := s.Read(ctx, c, "Patient", id); err != nil {
		return SearchResult{}, err
	}
	q := url.Values{}
	types := params.Get("_type")
	if types == "" {
		types = strings.Join(c.searchable(patientRecordTypes()), ",")
	}
	q.Set("_type", types)
	if since := params.Get("_since"); since != "" {
		q.Set("_lastUpdated", "ge"+since)
	}
	if n := params.Get("_count"); n != "" {
		q.Set("_count", n)
	}
	q.Set("_include", "*")
	opts.Patient = id
	return s.Search(ctx, c, "", q, opts)
}

// patientRecordTypes are the resource types of a patient's record: the
// Patient and every type of the patient compartment.
func patientRecordTypes() []string {
	out := []string{"Patient"}
	for _, t := range fhir.ResourceTypes() {
		if t != "Patient" && fhir.IsInPatientCompartment(t) {
			out = append(out, t)
		}
	}
	return out
}

// SearchParameterInfo describes a search parameter for the CapabilityStatement.
type SearchParameterInfo struct {
	Name, Type, Definition string
}

// SearchParameters lists the parameters a search on typ understands.
func (s *Service) SearchParameters(typ string) []SearchParameterInfo {
	if s.registry == nil {
		return nil
	}
	params := s.registry.ForType(typ)
	out := make([]SearchParameterInfo, 0, len(params))
	for _, p := range params {
		if p.Custom && s.registry.Pending(p.URL) {
			continue
		}
		out = append(out, SearchParameterInfo{Name: p.Code, Type: string(p.Type), Definition: p.URL})
	}
	return out
}

// impliedPatient is the patient compartment a query is confined to by one
// of its clauses, so the store can start from its patient-keyed indexes:
// a reference clause naming one local Patient on the parameter that reads
// the type's first patient-compartment element, when that element is
// single-valued (Observation.subject for Observation?patient=X). A
// resource's patient key is made of the patient that element names
// (fhir.PatientRefs, compartmentKey: the patient's own key, or its
// restricted or private key, which the store's compartment search covers
// too), so every match of the clause carries one of the compartment's
// keys and the added restriction removes nothing. "" when no clause
// implies one.
func impliedPatient(q *search.Query) string {
	paths := fhir.PatientCompartmentPaths(q.ResourceType)
	if q.ResourceType == "" || q.ResourceType == "Patient" || len(paths) == 0 {
		return ""
	}
	first := paths[0]
	if !singleValued(q.ResourceType, first) {
		return ""
	}
	for _, c := range q.Clauses {
		if c.Param == nil || c.Param.Type != search.Reference || c.Chain != nil || c.Has != nil || len(c.Values) != 1 {
			continue
		}
		if c.Modifier != search.ModNone && !(c.Modifier == search.ModType && c.TargetType == "Patient") {
			continue
		}
		if elementPath(q.ResourceType, c.Param.Expression) != first {
			continue
		}
		r := c.Values[0].Ref
		onlyPatients := len(c.Param.Target) == 1 && c.Param.Target[0] == "Patient"
		if r.ID != "" && r.Base == "" && (r.Type == "Patient" || r.Type == "" && (onlyPatients || c.TargetType == "Patient")) {
			return r.ID
		}
	}
	return ""
}

// singleValued reports whether path names at most one element in a
// resource of typ: no step of it repeats. Appointment.participant.actor
// does not (several participants), so the first patient it names, whose
// compartment the resource is filed in, need not be the one searched for.
func singleValued(typ, path string) bool {
	steps := strings.Split(path, ".")
	for i := range steps {
		def, _, ok := fhir.LookupElement(typ + "." + strings.Join(steps[:i+1], "."))
		if !ok || def.IsArray() {
			return false
		}
	}
	return true
}

// elementPath reduces a search expression such as
// "Observation.subject.where(resolve() is Patient)" to the element path it
// reads ("subject"); "" when it is not that simple.
func elementPath(typ, expr string) string {
	p, ok := strings.CutPrefix(strings.TrimSpace(expr), typ+".")
	if !ok {
		return ""
	}
	p = strings.TrimSuffix(p, ".where(resolve() is Patient)")
	if strings.ContainsAny(p, "()| ") {
		return ""
	}
	return p
}
