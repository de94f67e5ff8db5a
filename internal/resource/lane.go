package resource

import (
	"context"
	"runtime"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
)

// Broad searches and the point of care.
//
// A search confined to one patient's record (Patient/x/Observation,
// Observation?patient=x …) or looking resources up by id, business
// identifier or canonical url reads a few index rows whatever the size of
// the territory. Any other search may read a large share of it: a count of
// a common code, a chain or _has over a common value, a full-text search.
// With as many of those running as there are processors, the clinician's
// patient-scoped read waits behind them for a processor and a database
// connection (at 1M resources on 2 processors its p99 went from 15 ms
// alone to over 100 ms in a mix with them). So broad searches take turns
// in a lane of their own, at most WithBroadSearches at once (one fewer than
// the processors by default, at least one): the narrow ones always find a
// processor free. Broad searches then wait for each other instead.

// WithBroadSearches sets how many broad searches run at once (n < 1: the
// default, one fewer than the processors and at least one).
func WithBroadSearches(n int) Option {
	return func(s *Service) {
		if n < 1 {
			n = defaultBroadSearches()
		}
		s.broad = make(chan struct{}, n)
	}
}

// defaultBroadSearches is one fewer than the processors, at least one.
func defaultBroadSearches() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// enterBroad waits for a place in the broad-search lane and returns the
// function that gives it back.
func (s *Service) enterBroad(ctx context.Context) (func(), error) {
	select {
	case s.broad <- struct{}{}:
		return func() { <-s.broad }, nil
	case <-ctx.Done():
		return nil, outcome.Wrap(outcome.Transient, "search: waiting for a broad search to finish", ctx.Err())
	}
}

// broadSearch reports whether q, run in the compartment of patient ("" for
// none), may read a large share of the database: it is neither confined to
// one patient nor made only of lookups by id, identifier or canonical url.
func broadSearch(q *search.Query, patient string) bool {
	if patient != "" {
		return false
	}
	if len(q.Clauses) == 0 {
		return true
	}
	for _, c := range q.Clauses {
		if !lookupClause(c) {
			return true
		}
	}
	return false
}

// lookupClause reports whether c looks resources up by what names them
// (_id, identifier, url), matching a handful of rows per value.
func lookupClause(c search.Clause) bool {
	if c.Param == nil || c.Chain != nil || c.Has != nil {
		return false
	}
	switch c.Param.Code {
	case "_id", "url":
		return c.Modifier == search.ModNone
	case "identifier":
		return c.Param.Type == search.Token && (c.Modifier == search.ModNone || c.Modifier == search.ModOfType)
	}
	return false
}
