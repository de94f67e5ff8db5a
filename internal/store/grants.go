package store

import (
	"context"
	"time"
)

// Grant is one reason a grantee may see a patient's compartment: the
// consent service records one for each sharing consent joined with a care
// relationship, each emergency access, each opened restricted record. The
// store keeps them beside the data (table access_grant, carrying the
// patient key like every patient row) so an access predicate naming a
// grantee is a join inside every query, however many patients the
// grantee may see.
type Grant struct {
	// Grantee is who may see: "Organization/ID" for a provider's
	// professionals, "Practitioner/ID" for one person's emergency access …
	Grantee    string
	PatientKey string
	// Source is what grants it ("Consent/12", "Encounter/7" …); a grantee
	// holds at most one grant per patient and source.
	Source string
	// From and To bound when the grant holds: From ≤ t < To; a zero To
	// never ends.
	From, To time.Time
}

// GrantWriter changes grants inside a write transaction, so a grant lands
// or goes with the record that justifies it.
type GrantWriter interface {
	// PutGrant records g, replacing the grant of the same grantee, patient
	// and source.
	PutGrant(ctx context.Context, g Grant) error
	// DeleteGrants removes every grant recorded from source (a revoked
	// consent, a closed relationship) and returns how many.
	DeleteGrants(ctx context.Context, source string) (int64, error)
}
