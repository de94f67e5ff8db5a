package resource

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// reader is what reads need: the store, or a transaction inside a bundle.
type reader interface {
	Read(ctx context.Context, typ, id string) (store.Version, error)
	ReadVersion(ctx context.Context, typ, id string, versionID int64) (store.Version, error)
}

// Read returns the current version of typ/id (https://hl7.org/fhir/R4/http.html#read).
// A deleted resource gives an outcome.Gone error and its delete marker.
func (s *Service) Read(ctx context.Context, c Caller, typ, id string) (store.Version, error) {
	return s.readAs(ctx, s.store, c, typ, id, 0)
}

// VRead returns one version of typ/id (https://hl7.org/fhir/R4/http.html#vread).
// The delete marker version gives an outcome.Gone error.
func (s *Service) VRead(ctx context.Context, c Caller, typ, id string, versionID int64) (store.Version, error) {
	return s.readAs(ctx, s.store, c, typ, id, versionID)
}

// readAs reads typ/id from r — its current version, or version versionID
// when > 0 — as c may: a resource c may not see answers as if it did not
// exist. Whether it is visible is decided on the current version, so an
// old version never shows what the current one hides.
func (s *Service) readAs(ctx context.Context, r reader, c Caller, typ, id string, versionID int64) (store.Version, error) {
	interaction := scope.InteractionRead
	if versionID > 0 {
		interaction = scope.InteractionVRead
	}
	p, err := c.permits(interaction, typ)
	if err != nil {
		return store.Version{}, err
	}
	cur, err := s.seen(ctx, c, p, typ, id)(read(ctx, r, typ, id))
	if versionID == 0 || (err != nil && !outcome.Is(err, outcome.Gone)) {
		return cur, err
	}
	return vread(ctx, r, typ, id, versionID)
}

// seen passes a read's outcome through the caller's visibility: a version
// the caller may not see, current or deleted, answers as if it did not
// exist.
func (s *Service) seen(ctx context.Context, c Caller, p permit, typ, id string) func(store.Version, error) (store.Version, error) {
	return func(v store.Version, err error) (store.Version, error) {
		if v.Type == "" { // not found, or not read at all
			return v, err
		}
		ok, verr := s.visible(ctx, c, p, v)
		if verr != nil {
			return store.Version{}, verr
		}
		if !ok {
			return store.Version{}, notKnown(typ, id)
		}
		return v, err
	}
}

// History streams versions newest first as q selects
// (https://hl7.org/fhir/R4/http.html#history), under c's access predicate
// applied by the store (q.Access is set here).
func (s *Service) History(ctx context.Context, c Caller, q store.HistoryQuery) (iter.Seq2[store.Version, error], error) {
	access, err := s.historyAccess(ctx, c, q)
	if err != nil {
		return nil, err
	}
	q.Access = access
	return s.store.History(ctx, q), nil
}

// CountHistory counts the versions History returns for q without paging.
func (s *Service) CountHistory(ctx context.Context, c Caller, q store.HistoryQuery) (int64, error) {
	access, err := s.historyAccess(ctx, c, q)
	if err != nil {
		return 0, err
	}
	q.Access, q.Before, q.Count = access, 0, 0
	return s.store.CountHistory(ctx, q)
}

// historyAccess checks c may read the history q selects and returns the
// access predicate the store applies to it. An instance's history needs
// the resource visible to c (deleted or not; 404 otherwise, as a read). A
// type's or the system's needs the scopes for it — on every type ("*")
// for the system's — and takes c's predicate, confined to the patient's
// compartment (and resources in none) where only patient/ scopes grant.
// Finer scopes' filters cannot be matched on past versions (only current
// ones are indexed), so a filtered grant is refused (403) rather than
// answered unfiltered.
func (s *Service) historyAccess(ctx context.Context, c Caller, q store.HistoryQuery) (store.Access, error) {
	if q.Type != "" {
		if err := checkType(q.Type); err != nil {
			return store.Access{}, err
		}
	}
	interaction, typ := scope.InteractionHistorySystem, "*"
	switch {
	case q.ID != "":
		interaction, typ = scope.InteractionHistoryInstance, q.Type
	case q.Type != "":
		interaction, typ = scope.InteractionHistoryType, q.Type
	}
	p, err := c.permits(interaction, typ)
	if err != nil {
		return store.Access{}, err
	}
	access := c.access()
	if q.ID != "" {
		_, err = s.seen(ctx, c, p, q.Type, q.ID)(s.store.Read(ctx, q.Type, q.ID))
		if err != nil && !outcome.Is(err, outcome.Gone) {
			return store.Access{}, err
		}
	} else if p.filters != nil {
		return store.Access{}, outcome.New(outcome.Forbidden, "the token's scopes restrict %s by a filter, which past versions cannot be matched on; search instead", typeName(q.Type))
	}
	if p.patient != "" {
		return s.confine(ctx, access, p.patient)
	}
	return access, nil
}

// confine is access narrowed to one patient's compartment and resources in
// none: the patient's compartment when access shows it — by its list or
// by a grant held now (the store decides) — and nothing of it otherwise.
// A provider's deposits (Writers) about a patient it holds no grant for
// stay hidden: the narrowed predicate never shows more than access.
func (s *Service) confine(ctx context.Context, access store.Access, patient string) (store.Access, error) {
	out := store.Access{NonPatient: access.All || access.NonPatient}
	ok := access.Allows(patient)
	if !ok && len(access.Grants) > 0 {
		var err error
		if ok, err = s.store.Visible(ctx, access, patient, ""); err != nil {
			return store.Access{}, err
		}
	}
	if ok {
		out.Patients = []string{patient}
	}
	return out, nil
}

func read(ctx context.Context, r reader, typ, id string) (store.Version, error) {
	if err := checkType(typ); err != nil {
		return store.Version{}, err
	}
	v, err := r.Read(ctx, typ, id)
	if err != nil {
		return store.Version{}, err
	}
	if v.Deleted {
		return v, goneError(typ, id, v.VersionID)
	}
	return v, nil
}

func vread(ctx context.Context, r reader, typ, id string, versionID int64) (store.Version, error) {
	if err := checkType(typ); err != nil {
		return store.Version{}, err
	}
	if versionID < 1 {
		return store.Version{}, outcome.New(outcome.NotFound, "%s/%s has no version %d", typ, id, versionID)
	}
	v, err := r.ReadVersion(ctx, typ, id, versionID)
	if err != nil {
		return store.Version{}, err
	}
	if v.Deleted {
		return v, goneError(typ, id, v.VersionID)
	}
	return v, nil
}

// Validate checks res as a write of typ would, without writing, and returns
// the issues found (https://hl7.org/fhir/R4/resource-operation-validate.html).
// Only a resource that is not of type typ is an error.
func (s *Service) Validate(typ string, res map[string]any) ([]outcome.Issue, error) {
	if err := checkBody(typ, "", res); err != nil {
		return nil, err
	}
	if c, ok := s.validator.(Checker); ok {
		return c.Check(res), nil
	}
	var oe *outcome.Error
	if err := s.validator.Validate(res); errors.As(err, &oe) {
		return oe.Issues, nil
	} else if err != nil {
		return nil, err
	}
	return nil, nil
}

// ValidateAgainst is Validate that also checks res against the profile at
// the canonical URL profile ($validate?profile=, "" for none): the issues
// of both. A profile the platform does not know is an error
// (outcome.NotFound).
func (s *Service) ValidateAgainst(ctx context.Context, typ string, res map[string]any, profile string) ([]outcome.Issue, error) {
	issues, err := s.Validate(typ, res)
	if err != nil || profile == "" {
		return issues, err
	}
	if s.profiles == nil {
		return nil, outcome.At(outcome.NotFound, "profile", "profile %q is not known here", profile)
	}
	more, err := s.profiles(ctx, res, profile)
	if err != nil {
		return nil, err
	}
	return append(issues, more...), nil
}

// Checker is a Validator that also lists warnings and information, which
// $validate reports though a write ignores them.
type Checker interface {
	Check(res map[string]any) []outcome.Issue
}

// DateRange reads a FHIR date, dateTime or instant of any precision (as
// _since and _at take) into the period it covers, [from, to), with the
// search package's rules.
func DateRange(s string) (from, to time.Time, err error) {
	r, err := search.ParseDate(s, time.UTC)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return time.UnixMicro(r.Lo).UTC(), time.UnixMicro(r.Hi).UTC(), nil
}
