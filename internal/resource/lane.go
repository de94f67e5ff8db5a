package resource

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
)

// Broad searches and the point of care.
//
// A search confined to one patient's record (Patient/x/Observation,
// Observation?patient=x …) or looking resources up by id, business
// identifier or canonical url reads a few index rows whatever the size of
// the territory: a narrow search. Any other search may read a large share
// of it: a count of a common code, a chain or _has over a common value, a
// full-text search. With as many of those running as there are processors,
// the clinician's patient-scoped read waits behind them for a processor
// (at 1M resources on 2 processors its p99 went from 15 ms alone to over
// 100 ms in a mix with them). So broad searches take turns in a lane: while
// narrow searches are arriving (one began within narrowWindow), at most
// WithBroadSearches of them run at once — one fewer than the processors by
// default, at least one — so a narrow search always finds a processor;
// when none are, broad searches may use every processor.

// narrowWindow is how long after a narrow search began the lane keeps a
// processor for the next.
const narrowWindow = time.Second

// lane admits broad searches.
type lane struct {
	now      func() time.Time
	all      int // broad searches at once when no narrow search is arriving
	reserved int // … and while narrow ones are

	mu         sync.Mutex
	running    int
	lastNarrow time.Time
	changed    chan struct{} // closed when running falls
}

// newLane admits up to reserved broad searches at once while narrow ones
// are arriving, and up to the processors (or reserved, if more) otherwise.
func newLane(reserved int, now func() time.Time) *lane {
	if reserved < 1 {
		reserved = max(1, runtime.GOMAXPROCS(0)-1)
	}
	return &lane{now: now, all: max(reserved, runtime.GOMAXPROCS(0)), reserved: reserved, changed: make(chan struct{})}
}

// narrow notes that a narrow search begins.
func (l *lane) narrow() {
	l.mu.Lock()
	l.lastNarrow = l.now()
	l.mu.Unlock()
}

// enter waits for a place for a broad search and returns the function that
// gives it back.
func (l *lane) enter(ctx context.Context) (func(), error) {
	for {
		l.mu.Lock()
		limit, until := l.all, time.Duration(0)
		if since := l.now().Sub(l.lastNarrow); since < narrowWindow {
			limit, until = l.reserved, narrowWindow-since
		}
		if l.running < limit {
			l.running++
			l.mu.Unlock()
			return l.leave, nil
		}
		// Wait for a place, or for the reserve to lapse when that would
		// make one.
		changed, lapses := l.changed, until > 0 && l.running < l.all
		l.mu.Unlock()
		var lapsed <-chan time.Time
		var timer *time.Timer
		if lapses {
			timer = time.NewTimer(until)
			lapsed = timer.C
		}
		select {
		case <-changed:
		case <-lapsed:
		case <-ctx.Done():
			return nil, outcome.Wrap(outcome.Transient, "search: waiting for a broad search to finish", ctx.Err())
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func (l *lane) leave() {
	l.mu.Lock()
	l.running--
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// WithBroadSearches sets how many broad searches run at once while narrow
// ones are arriving (n < 1: the default, one fewer than the processors and
// at least one).
func WithBroadSearches(n int) Option {
	return func(s *Service) { s.broad = newLane(n, func() time.Time { return s.now() }) }
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
