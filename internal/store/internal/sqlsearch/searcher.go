package sqlsearch

import (
	"context"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Searcher is store.Searcher for a driver: the engine over the driver's
// DB, its errors prefixed with the driver's name. Drivers embed it.
type Searcher struct {
	Engine *Engine
	DB     DB
	Name   string // "sqlite", "postgres"
}

// Search returns one page of the resources matching q (see store.Searcher).
func (s Searcher) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	find := s.Engine.Search
	if SearchesContained(q) {
		find = s.Engine.SearchContained
	}
	page, err := find(ctx, s.DB, q)
	if err != nil {
		return store.SearchPage{}, fmt.Errorf("%s: %w", s.Name, err)
	}
	return page, nil
}

// Include returns the resources from refer to, or that refer to from,
// through inc (see store.Searcher).
func (s Searcher) Include(ctx context.Context, from []store.Version, inc search.Include, rev bool,
	access store.Access, limit int) ([]store.Version, error) {
	out, err := s.Engine.Include(ctx, s.DB, from, inc, rev, access, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return out, nil
}

// Explain returns the search SQL for q and the database's plan of it (see
// store.Searcher).
func (s Searcher) Explain(ctx context.Context, q store.SearchQuery) (string, error) {
	text, err := s.Engine.Explain(ctx, s.DB, q)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.Name, err)
	}
	return text, nil
}

// Visible reports whether a resource of patientKey that writer wrote is
// visible under a (see store.Searcher).
func (s Searcher) Visible(ctx context.Context, a store.Access, patientKey, writer string) (bool, error) {
	ok, err := s.Engine.Visible(ctx, s.DB, a, patientKey, writer)
	if err != nil {
		return false, fmt.Errorf("%s: %w", s.Name, err)
	}
	return ok, nil
}

// SetBroadAt sets how many rows of a _has or chain clause's set make the
// engine probe it per resource instead of selecting it whole (semi.go); 1
// always probes, 0 restores the default. Tests run both shapes with it;
// call it before searching, never during.
func (s Searcher) SetBroadAt(n int) { s.Engine.broadAt = n }
