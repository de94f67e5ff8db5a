package resource

import (
	"context"
	"errors"
	"iter"
	"time"

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
	return read(ctx, s.store, typ, id)
}

// VRead returns one version of typ/id (https://hl7.org/fhir/R4/http.html#vread).
// The delete marker version gives an outcome.Gone error.
func (s *Service) VRead(ctx context.Context, c Caller, typ, id string, versionID int64) (store.Version, error) {
	return vread(ctx, s.store, typ, id, versionID)
}

// History streams versions newest first as q selects
// (https://hl7.org/fhir/R4/http.html#history), with the total they add up to.
func (s *Service) History(ctx context.Context, c Caller, q store.HistoryQuery) (iter.Seq2[store.Version, error], error) {
	if q.Type != "" {
		if err := checkType(q.Type); err != nil {
			return nil, err
		}
	}
	if q.ID != "" {
		if _, err := s.store.Read(ctx, q.Type, q.ID); err != nil {
			return nil, err
		}
	}
	return s.store.History(ctx, q), nil
}

// CountHistory counts the versions History returns for q without paging.
func (s *Service) CountHistory(ctx context.Context, c Caller, q store.HistoryQuery) (int64, error) {
	q.Before, q.Count = 0, 0
	return s.store.CountHistory(ctx, q)
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
