package resource

import (
	"context"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// matches returns up to two current resources of typ matching a search
// query string such as "identifier=http://x|123" — enough to tell none, one
// and many apart for the conditional interactions
// (https://hl7.org/fhir/R4/http.html#cond-update). A query without any
// criteria is refused: it would match everything.
func (s *Service) matches(ctx context.Context, c Caller, typ, rawQuery string) ([]store.Version, error) {
	q, err := url.ParseQuery(strings.TrimPrefix(rawQuery, "?"))
	if err != nil {
		return nil, outcome.New(outcome.Invalid, "conditional criteria %q are not a query string: %v", rawQuery, err)
	}
	for k := range q {
		if strings.HasPrefix(k, "_") && k != "_id" && k != "_lastUpdated" && k != "_tag" && k != "_profile" && k != "_security" && k != "_source" && !strings.HasPrefix(k, "_has") {
			delete(q, k) // result parameters have no meaning here
		}
	}
	if len(q) == 0 {
		return nil, outcome.New(outcome.PreconditionFailed, "conditional criteria %q select nothing in particular", rawQuery)
	}
	q.Set("_count", "2")
	q.Set("_total", "none")
	res, err := s.Search(ctx, c, typ, q, SearchOptions{Strict: true})
	if err != nil {
		return nil, err
	}
	return res.Matches, nil
}

// one is the single match of conditional criteria: none gives ok false;
// more than one is a 412.
func (s *Service) one(ctx context.Context, c Caller, typ, rawQuery string) (store.Version, bool, error) {
	found, err := s.matches(ctx, c, typ, rawQuery)
	if err != nil {
		return store.Version{}, false, err
	}
	switch len(found) {
	case 0:
		return store.Version{}, false, nil
	case 1:
		return found[0], true, nil
	}
	return store.Version{}, false, outcome.New(outcome.PreconditionFailed, "the criteria %s?%s match more than one resource", typ, rawQuery)
}

// CreateIfNoneExist is conditional create: when a resource matches
// ifNoneExist it is returned unchanged (created false); when none does, res
// is created; more than one match is a 412.
func (s *Service) CreateIfNoneExist(ctx context.Context, c Caller, typ string, res map[string]any, ifNoneExist string) (store.Version, bool, error) {
	if err := checkType(typ); err != nil {
		return store.Version{}, false, err
	}
	existing, found, err := s.one(ctx, c, typ, ifNoneExist)
	if err != nil || found {
		return existing, false, err
	}
	v, err := s.Create(ctx, c, typ, res)
	return v, err == nil, err
}

// UpdateWhere is conditional update: the one resource matching the
// criteria is updated; with none, res is created (at its own id when it has
// one); more than one match is a 412.
func (s *Service) UpdateWhere(ctx context.Context, c Caller, typ, criteria string, res map[string]any, ifMatch int64) (store.Version, bool, error) {
	if err := checkType(typ); err != nil {
		return store.Version{}, false, err
	}
	existing, found, err := s.one(ctx, c, typ, criteria)
	if err != nil {
		return store.Version{}, false, err
	}
	id, _ := res["id"].(string)
	switch {
	case found && id != "" && id != existing.ID:
		return store.Version{}, false, outcome.At(outcome.Invalid, typ+".id", "the resource's id %q is not that of the resource the criteria match", id)
	case found:
		res["id"] = existing.ID
		return s.Update(ctx, c, typ, existing.ID, res, ifMatch)
	case id != "":
		return s.Update(ctx, c, typ, id, res, ifMatch)
	}
	v, err := s.Create(ctx, c, typ, res)
	return v, err == nil, err
}

// DeleteWhere is conditional delete: the one resource matching the
// criteria is deleted; none is a no-op; more than one is a 412.
func (s *Service) DeleteWhere(ctx context.Context, c Caller, typ, criteria string) error {
	if err := checkType(typ); err != nil {
		return err
	}
	existing, found, err := s.one(ctx, c, typ, criteria)
	if err != nil || !found {
		return err
	}
	_, err = s.Delete(ctx, c, typ, existing.ID, 0)
	return err
}

// resolveConditionals runs, before a bundle's database transaction, the
// searches its conditional entries need: ifNoneExist on POST, criteria in
// PUT, PATCH and DELETE urls, and conditional references
// (https://hl7.org/fhir/R4/http.html#trules).
func (s *Service) resolveConditionals(ctx context.Context, c Caller, e *entry) error {
	criteria := e.query.Encode()
	switch {
	case e.method == "POST" && e.ifExist != "":
		existing, found, err := s.one(ctx, c, e.target.typ, e.ifExist)
		if err != nil {
			return entryError(e, err)
		}
		if found {
			e.existing = &existing
			e.target.id = existing.ID
		}
	case (e.method == "PUT" || e.method == "PATCH" || e.method == "DELETE") && e.target.id == "" && criteria != "":
		existing, found, err := s.one(ctx, c, e.target.typ, criteria)
		if err != nil {
			return entryError(e, err)
		}
		switch {
		case found:
			e.target.id = existing.ID
			if e.method == "PUT" {
				if id, _ := e.resource["id"].(string); id == "" {
					e.resource["id"] = existing.ID
				}
			}
		case e.method == "PUT":
			if id, _ := e.resource["id"].(string); id != "" {
				e.target.id = id
			} else {
				e.target.id = s.newID()
				e.resource["id"] = e.target.id
				e.fresh = true
			}
		case e.method == "DELETE":
			e.noop = true
		default:
			return entryError(e, outcome.New(outcome.NotFound, "no %s matches %s", e.target.typ, criteria))
		}
	}
	return nil
}

// conditionalReference resolves a reference such as
// "Patient?identifier=http://x|1" to the one resource it matches.
func (s *Service) conditionalReference(ctx context.Context, c Caller, ref string) (string, error) {
	typ, criteria, _ := strings.Cut(ref, "?")
	existing, found, err := s.one(ctx, c, typ, criteria)
	if err != nil {
		return "", err
	}
	if !found {
		return "", outcome.New(outcome.PreconditionFailed, "the conditional reference %s matches no resource", ref)
	}
	return typ + "/" + existing.ID, nil
}
