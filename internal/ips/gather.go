package ips

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// pageSize is the _count of each search the summary makes.
const pageSize = 200

// MaxPerType bounds the records of one type a summary lists: beyond it
// the summary is refused as too costly rather than cut silently.
const MaxPerType = 5000

// record is what the caller may read of a patient's record, as the
// summary needs it.
type record struct {
	patient store.Version
	// matches are the records of the section types, by type, in the
	// order the searches returned them.
	matches map[string][]entry
	// byRef are those records and the resources they reference (when
	// the caller may read them), by "Type/id".
	byRef map[string]entry
	// withheld are the section types the caller may not search at all
	// (its role's view or its token's scopes).
	withheld map[string]bool
}

// entry is one stored resource, decoded.
type entry struct {
	version store.Version
	res     map[string]any
}

// gather reads patient id's record as c may: the Patient (404 when c may
// not see it), then each section type by a compartment search with its
// references included, under c's access predicate, view and scopes, so a
// record c may not read never shows.
func (s *Service) gather(ctx context.Context, c resource.Caller, id, base string) (*record, error) {
	pv, err := s.svc.Read(ctx, c, "Patient", id)
	if err != nil {
		return nil, err
	}
	rec := &record{patient: pv, matches: map[string][]entry{}, byRef: map[string]entry{}, withheld: map[string]bool{}}
	for _, typ := range recordTypes() {
		if err := s.gatherType(ctx, c, rec, typ, id, base); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// gatherType reads every page of patient id's records of typ.
func (s *Service) gatherType(ctx context.Context, c resource.Caller, rec *record, typ, id, base string) error {
	params := url.Values{"_count": {strconv.Itoa(pageSize)}, "_include": {typ + ":*"}}
	cursor := ""
	for {
		res, err := s.svc.Search(ctx, c, typ, params, resource.SearchOptions{Patient: id, BaseURL: base, Cursor: cursor})
		if outcome.Is(err, outcome.Forbidden) {
			rec.withheld[typ] = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("ips: search %s of Patient/%s: %w", typ, id, err)
		}
		for _, v := range res.Matches {
			e, err := decoded(v)
			if err != nil {
				return err
			}
			rec.matches[typ] = append(rec.matches[typ], e)
			rec.byRef[v.Type+"/"+v.ID] = e
		}
		if len(rec.matches[typ]) > MaxPerType {
			return outcome.New(outcome.TooCostly, "the record holds more than %d %s resources; a summary of it is too costly to build", MaxPerType, typ)
		}
		for _, v := range res.Included {
			e, err := decoded(v)
			if err != nil {
				return err
			}
			rec.byRef[v.Type+"/"+v.ID] = e
		}
		if res.Next == "" {
			return nil
		}
		cursor = res.Next
	}
}

// decoded parses a stored version.
func decoded(v store.Version) (entry, error) {
	res, err := fhir.Parse(v.Body)
	if err != nil {
		return entry{}, outcome.Wrap(outcome.Internal, fmt.Sprintf("ips: decode %s/%s", v.Type, v.ID), err)
	}
	return entry{version: v, res: res}, nil
}
