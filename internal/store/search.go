package store

import (
	"context"
	"time"

	"github.com/ehealthplus/ehealth/internal/search"
)

// Access is the access predicate every search path applies inside the
// query: which patient compartments, and whether resources outside any
// patient compartment, the caller may see. The zero value sees nothing;
// AccessAll sees everything (the platform operator). Deny by default.
type Access struct {
	All bool // no restriction
	// Patients are the patient keys whose rows are visible: a patient's
	// own key (its Patient id) shows the compartment's unrestricted
	// records, RestrictedKey of it the restricted ones. No predicate lists
	// a PrivateKey.
	Patients   []string
	NonPatient bool // resources with no patient key (Organization, Practitioner, CodeSystem …) are visible
	// Grants are rules by the grants the store holds (store.Grant), each
	// a list of grantees: a patient is also visible when, for one rule, it
	// holds a grant valid at At (the time of the request; zero: now) to
	// every grantee of the rule. A professional's are "a sharing consent
	// to the provider and a care relationship with it", or "an emergency
	// access of their own". Grants are by patient key too: one recorded
	// under RestrictedKey(k) opens k's restricted records, one under k
	// does not.
	Grants [][]string
	At     time.Time
	// Writers, when set, also make visible the resources whose current
	// version one of them wrote: what a provider deposited, whoever it is
	// about.
	Writers []string
}

// AccessAll is the predicate that hides nothing.
var AccessAll = Access{All: true}

// Allows reports whether a row with patientKey is visible under a without
// the grants; with Grants, a false may still be true by a grant: ask
// the store (Searcher.Visible). Keys are compared whole: listing k does
// not allow RestrictedKey(k), nor the other way round.
func (a Access) Allows(patientKey string) bool {
	if a.All {
		return true
	}
	if patientKey == "" {
		return a.NonPatient
	}
	for _, p := range a.Patients {
		if p == patientKey {
			return true
		}
	}
	return false
}

// SearchQuery is one page of a search: the plan parsed by package search,
// the caller's access predicate, and where the page starts.
type SearchQuery struct {
	Plan   *search.Query
	Access Access
	// After is the opaque keyset cursor returned as SearchPage.Next by the
	// previous page ("" for the first page). It names the last row seen by
	// its sort key and resource, never PHI, so a page stays right while
	// data changes (no result tables are written).
	After string
	// Patient, when set, restricts the search to one patient compartment
	// (compartment search, $everything, patient-scoped parameters): the
	// rows filed under one of CompartmentKeys(Patient), each key visible
	// under Access (decided once per key); the store uses the
	// patient-leading indexes.
	Patient string
}

// SearchPage is one page of matches: current versions, in the plan's sort
// order (ties broken by resource), each visible under the access predicate.
type SearchPage struct {
	Versions []Version
	Total    int64  // matches over all pages under the predicate; -1 when not counted (_total=none)
	Next     string // cursor of the next page; "" on the last page
	Previous string // cursor of the previous page; "" on the first page
}

// Searcher is the search half of a store. Writes put index rows with each
// version (Version.Index); only current versions are indexed.
type Searcher interface {
	// Search returns one page of the resources matching q.Plan's clauses
	// (chains and _has included) visible under q.Access. Plan.Count is the
	// page size; Plan.Summary "count" means only Total.
	Search(ctx context.Context, q SearchQuery) (SearchPage, error)
	// Visible reports whether a resource of patientKey whose current
	// version writer wrote is visible under a, its grants included: the
	// check of a read, which does not search.
	Visible(ctx context.Context, a Access, patientKey, writer string) (bool, error)
	// Include returns the current versions that the given versions refer
	// to (_include) or that refer to them (_revinclude, rev true) through
	// inc, visible under access, at most limit of them.
	Include(ctx context.Context, from []Version, inc search.Include, rev bool, access Access, limit int) ([]Version, error)
	// Explain returns the SQL Search runs for q (with its placeholders,
	// never the values) and the database's plan for it, for operators
	// tuning indexes (_explain). It reads no resources.
	Explain(ctx context.Context, q SearchQuery) (string, error)
}
