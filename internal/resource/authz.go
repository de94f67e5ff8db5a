package resource

import (
	"context"
	"fmt"
	"net/url"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Grants is what an access token lets its bearer do: its SMART scopes
// (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html)
// and, for patient/ scopes, the patient in context. A Caller without
// Grants is the platform's own code (imports, reindexing) or the
// platform operator; the HTTP edge never builds one for a request.
type Grants struct {
	Scopes scope.Set
	// Patient is the patient whose compartment patient/ scopes reach: the
	// launch patient, or the citizen signed in. With none, patient/ scopes
	// reach nothing.
	Patient string
}

// Who is the person or system behind a request, as its access token says:
// what the consent decision needs to build the caller's access predicate.
type Who struct {
	Operator bool   // the platform operator
	FHIRUser string // "Patient/ID", "RelatedPerson/ID", "Practitioner/ID"; "" for a system
	Org      string // "Organization/ID": the provider acted for
	// Patient is the launch patient the authorization server let the user
	// choose (SMART's patient context).
	Patient string
}

// protected are the policy-bearing resource types no token writes
// directly, whatever its scopes: Consents come from the registration and
// consent operations (a Consent written by a provider could grant it
// access), SearchParameters from the operator (they change what every
// write indexes).
var protected = map[string]bool{"Consent": true, "SearchParameter": true}

// writes are the interactions that change resources.
var writes = map[scope.Interaction]bool{
	scope.InteractionCreate: true, scope.InteractionUpdate: true, scope.InteractionPatch: true, scope.InteractionDelete: true,
	scope.InteractionConditionalCreate: true, scope.InteractionConditionalUpdate: true,
	scope.InteractionConditionalPatch: true, scope.InteractionConditionalDelete: true,
}

// permit is what one interaction on one resource type is allowed under c's
// grants.
type permit struct {
	// patient, when set, confines the interaction to that patient's
	// compartment (granted only by patient/ scopes).
	patient string
	// filters, when not nil, are the finer scopes' queries: a resource
	// reached must match one of them (OR), each a set of search parameters
	// that all apply.
	filters []url.Values
}

// permits checks that c may perform interaction i on type typ and returns
// how far. The user/ and system/ scopes are taken first: one without a
// query grants the whole type. Otherwise patient/ scopes grant the
// patient's compartment. An interaction no scope covers is refused with
// outcome.Forbidden (403: the token does not cover the interaction at
// all); whether one resource is visible is decided later, answering 404.
func (c Caller) permits(i scope.Interaction, typ string) (permit, error) {
	if err := c.View.permits(i, typ); err != nil {
		return permit{}, err
	}
	if c.Grants == nil {
		return permit{}, nil
	}
	if protected[typ] && writes[i] {
		return permit{}, outcome.New(outcome.Forbidden, "%s resources are written only by the platform's operations or the operator", typ)
	}
	needs, ok := scope.Needs(i)
	if !ok {
		return permit{}, outcome.New(outcome.Forbidden, "the interaction %s is not allowed to this token", i)
	}
	var p permit
	covered := true
	for perm := range needs.All() {
		got, ok := c.grant(perm, typ)
		if !ok {
			covered = false
			break
		}
		p = p.narrow(got)
	}
	if !covered {
		return permit{}, outcome.New(outcome.Forbidden, "the token's scopes do not allow %s on %s", i, typeName(typ))
	}
	return p, nil
}

// grant is what one permission on typ is granted, ok false when none.
func (c Caller) grant(perm scope.Perm, typ string) (permit, bool) {
	var filters []url.Values
	anyFiltered := false
	for _, ctx := range []scope.Context{scope.User, scope.System} {
		allowed, f := c.Grants.Scopes.Allows(ctx, perm, typ)
		if allowed && f == nil {
			return permit{}, true
		}
		if allowed {
			anyFiltered = true
			filters = append(filters, f...)
		}
	}
	if anyFiltered {
		return permit{filters: filters}, true
	}
	if c.Grants.Patient == "" {
		return permit{}, false
	}
	allowed, f := c.Grants.Scopes.Allows(scope.Patient, perm, typ)
	if !allowed {
		return permit{}, false
	}
	return permit{patient: c.Grants.Patient, filters: f}, true
}

// narrow combines what two permissions grant: both must hold.
func (p permit) narrow(q permit) permit {
	if q.patient != "" {
		p.patient = q.patient
	}
	switch {
	case p.filters == nil:
		p.filters = q.filters
	case q.filters != nil:
		// Both restricted: a resource must match a filter of each. Combine
		// pairwise (all parameters of both apply).
		var out []url.Values
		for _, a := range p.filters {
			for _, b := range q.filters {
				m := url.Values{}
				for k, vs := range a {
					m[k] = append(m[k], vs...)
				}
				for k, vs := range b {
					m[k] = append(m[k], vs...)
				}
				out = append(out, m)
			}
		}
		p.filters = out
	}
	return p
}

func typeName(typ string) string {
	if typ == "" {
		return "the system"
	}
	return typ
}

// notKnown is the error for a resource the caller may not see: word for
// word the store's for one that does not exist, so nothing is revealed.
func notKnown(typ, id string) error {
	return outcome.New(outcome.NotFound, "%s/%s is not known", typ, id)
}

// visible reports whether c may see version v under p: the caller's
// access predicate, the compartment patient/ scopes confine it to
// (resources outside every compartment — Practitioner, Medication … — stay
// readable), and the finer scopes' filters, evaluated on v's own search
// index. A delete marker carries no body to filter, so under filters it is
// not visible (404, never 410).
func (s *Service) visible(ctx context.Context, c Caller, p permit, v store.Version) (bool, error) {
	if !c.View.Sees(v.Type) {
		return false, nil
	}
	if ok, err := s.store.Visible(ctx, c.access(), v.PatientKey, v.Writer); err != nil || !ok {
		return false, err
	}
	if p.patient != "" && v.PatientKey != "" && store.BaseKey(v.PatientKey) != p.patient {
		return false, nil
	}
	if p.filters == nil {
		return true, nil
	}
	if v.Deleted || s.indexer == nil || s.registry == nil {
		return false, nil
	}
	res, err := fhir.Parse(v.Body)
	if err != nil {
		return false, fmt.Errorf("scope filter: %w", err)
	}
	for _, f := range p.filters {
		ok, err := s.matchesFilter(ctx, v, res, f)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// matchesFilter reports whether res (version v) matches every parameter of
// one scope filter, as a search of its type would.
func (s *Service) matchesFilter(ctx context.Context, v store.Version, res map[string]any, f url.Values) (bool, error) {
	q, _, err := search.ParseWith(v.Type, f, s.registry, search.Options{Strict: true})
	if err != nil {
		return false, outcome.New(outcome.Forbidden, "the token's scope filter %q cannot be applied to %s: %v", f.Encode(), v.Type, err)
	}
	for _, cl := range q.Clauses {
		if cl.Param == nil || cl.Chain != nil || cl.Has != nil {
			return false, outcome.New(outcome.Forbidden, "the token's scope filter %q uses a chain or _has, which scopes cannot", f.Encode())
		}
	}
	entries, _, err := s.indexer.Index(ctx, res, v.PatientKey)
	if err != nil {
		return false, fmt.Errorf("scope filter: %w", err)
	}
	for _, cl := range q.Clauses {
		var rows []search.Row
		for _, e := range entries {
			if e.Code == cl.Param.Code {
				rows = append(rows, e.Row)
			}
		}
		if !search.Match(cl, rows) {
			return false, nil
		}
	}
	return true, nil
}

// mayWrite checks that c, granted p, may write res as the new content of a
// resource: patient/ scopes write only in their patient's compartment, and
// under finer scopes the resource must match one of their filters.
func (s *Service) mayWrite(ctx context.Context, c Caller, p permit, res map[string]any) error {
	if c.Grants == nil {
		return nil
	}
	typ, _ := res["resourceType"].(string)
	key := patientKey(res)
	if typ == "Binary" {
		// A Binary belongs to the record its securityContext names, where
		// the write files it (compartment.go).
		sc, _ := res["securityContext"].(map[string]any)
		ref, _ := sc["reference"].(string)
		if t, id, ok := referenceTarget(ref); ok && t == "Patient" {
			key = id
		}
	}
	if p.patient != "" && key != p.patient {
		return outcome.New(outcome.Forbidden, "this token writes only in the record of Patient/%s", p.patient)
	}
	if p.filters == nil {
		return nil
	}
	if s.indexer == nil || s.registry == nil {
		return outcome.New(outcome.Forbidden, "the token's scope filters cannot be checked on this server")
	}
	v := store.Version{Type: typ, PatientKey: key}
	for _, f := range p.filters {
		ok, err := s.matchesFilter(ctx, v, res, f)
		if err != nil || ok {
			return err
		}
	}
	return outcome.New(outcome.Forbidden, "the %s is outside what the token's scopes allow to write", typ)
}

// mayChange checks that c, granted p, may change (update, patch or
// delete) the resource whose current version is cur: one it cannot see
// answers as if it did not exist.
func (s *Service) mayChange(ctx context.Context, c Caller, p permit, cur store.Version) error {
	if c.Grants == nil && c.Access == nil {
		return nil
	}
	ok, err := s.visible(ctx, c, p, cur)
	if err != nil {
		return err
	}
	if !ok {
		return notKnown(cur.Type, cur.ID)
	}
	return nil
}

// searchAccess checks that c may search what q asks — every searched type,
// and every type a chain or _has reaches — and returns the access
// predicate the store applies: the caller's, confined to the patient's
// compartment (and resources outside every compartment) where only
// patient/ scopes grant. A finer scope's filter on the searched type
// becomes clauses of q; several different filters on one search, or any on
// a system-level search, are refused (403): a search cannot OR them.
func (s *Service) searchAccess(c Caller, typ string, q *search.Query) (store.Access, error) {
	access := c.access()
	if c.Grants == nil {
		return access, nil
	}
	interaction, types := scope.InteractionSearchType, []string{typ}
	if typ == "" {
		interaction, types = scope.InteractionSearchSystem, q.Types
		if len(types) == 0 {
			return store.Access{}, outcome.New(outcome.Forbidden, "a system-level search with this token must name its types (_type)")
		}
	}
	var patient string
	for _, t := range types {
		p, err := c.permits(interaction, t)
		if err != nil {
			return store.Access{}, err
		}
		if p.patient != "" {
			patient = p.patient
		}
		if p.filters == nil {
			continue
		}
		if typ == "" || len(p.filters) > 1 {
			return store.Access{}, outcome.New(outcome.Forbidden, "the token's scopes restrict %s by several filters or on a system-level search; search each type with one filter", t)
		}
		fq, _, err := search.ParseWith(t, p.filters[0], s.registry, search.Options{Strict: true})
		if err != nil {
			return store.Access{}, outcome.New(outcome.Forbidden, "the token's scope filter on %s cannot be applied: %v", t, err)
		}
		q.Clauses = append(q.Clauses, fq.Clauses...)
	}
	if err := c.reaches(q.Clauses); err != nil {
		return store.Access{}, err
	}
	if q.SearchesContained() {
		// A contained match may be returned as its container, of any type.
		if p, err := c.permits(interaction, "*"); err != nil || p.filters != nil {
			return store.Access{}, outcome.New(outcome.Forbidden, "_contained searches need a token that may search every resource type")
		}
	}
	if patient != "" {
		// The compartment's restricted records are the patient's too; the
		// caller's predicate still decides whether they show.
		access = intersect(access, store.Access{Patients: []string{patient, store.RestrictedKey(patient)}, NonPatient: true})
	}
	return access, nil
}

// reaches checks c may search the types chains and _has in clauses read.
func (c Caller) reaches(clauses []search.Clause) error {
	for _, cl := range clauses {
		var types []string
		var inner *search.Clause
		switch {
		case cl.Chain != nil:
			types, inner = cl.Chain.Types, &cl.Chain.Clause
		case cl.Has != nil:
			types, inner = []string{cl.Has.Type}, &cl.Has.Clause
		default:
			continue
		}
		for _, t := range types {
			if _, err := c.permits(scope.InteractionSearchType, t); err != nil {
				return err
			}
		}
		if err := c.reaches([]search.Clause{*inner}); err != nil {
			return err
		}
	}
	return nil
}

// readable keeps the versions c may read: included resources of types the
// token cannot read, or that its filters exclude, are left out.
func (s *Service) readable(ctx context.Context, c Caller, vs []store.Version) ([]store.Version, error) {
	if c.Grants == nil {
		return vs, nil
	}
	out := vs[:0]
	for _, v := range vs {
		p, err := c.permits(scope.InteractionRead, v.Type)
		if err != nil {
			continue
		}
		ok, err := s.visible(ctx, c, p, v)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// intersect is the predicate that shows what both a and b show.
func intersect(a, b store.Access) store.Access {
	switch {
	case a.All:
		return b
	case b.All:
		return a
	}
	out := store.Access{NonPatient: a.NonPatient && b.NonPatient}
	for _, p := range a.Patients {
		if b.Allows(p) && p != "" {
			out.Patients = append(out.Patients, p)
		}
	}
	return out
}

// searchable keeps the types c may search ($everything's default types).
func (c Caller) searchable(types []string) []string {
	if c.Grants == nil {
		return types
	}
	var out []string
	for _, t := range types {
		if _, err := c.permits(scope.InteractionSearchType, t); err == nil {
			out = append(out, t)
		}
	}
	return out
}
