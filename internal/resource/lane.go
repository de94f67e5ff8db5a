package resource

import (
	"context"
	"math"
	"runtime"
	"slices"
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
// default, at least one — so a narrow search always finds a processor, and
// the others wait their turn in order of arrival; when no narrow search is
// arriving, broad searches run as they come.

// narrowWindow is how long after a narrow search began the lane keeps
// processors for the next: longer than broad searches take on a loaded
// machine (seconds), or in a closed loop whose clients spend most of their
// time in broad searches the reserve lapses between two narrow ones and
// every waiting broad search rushes in (a 1 s window let the patient-scoped
// p99 reach 940 ms on SQLite under the access predicate).
const narrowWindow = 10 * time.Second

// lane admits broad searches, first come first served.
type lane struct {
	now      func() time.Time
	window   time.Duration // narrowWindow
	reserved int           // broad searches at once while narrow ones are arriving

	mu         sync.Mutex
	running    int
	lastNarrow time.Time
	queue      []chan struct{} // waiting broad searches, oldest first; closed when admitted
}

// newLane admits up to reserved broad searches at once while narrow ones
// are arriving (reserved < 1: one fewer than the processors, at least one)
// and any number otherwise.
func newLane(reserved int, now func() time.Time) *lane {
	if reserved < 1 {
		reserved = max(1, runtime.GOMAXPROCS(0)-1)
	}
	return &lane{now: now, window: narrowWindow, reserved: reserved}
}

// narrow notes that a narrow search begins.
func (l *lane) narrow() {
	l.mu.Lock()
	l.lastNarrow = l.now()
	l.mu.Unlock()
}

// limit is how many broad searches may run now, and, when that is
// reserved, how long until it lapses. Called with mu held.
func (l *lane) limit() (int, time.Duration) {
	if since := l.now().Sub(l.lastNarrow); since < l.window {
		return l.reserved, l.window - since
	}
	return math.MaxInt, 0
}

// admit lets in the oldest waiting searches the limit allows. Called with
// mu held.
func (l *lane) admit() {
	limit, _ := l.limit()
	for len(l.queue) > 0 && l.running < limit {
		l.running++
		close(l.queue[0])
		l.queue = l.queue[1:]
	}
}

// enter waits for a place for a broad search, behind those waiting
// already, and returns the function that gives it back.
func (l *lane) enter(ctx context.Context) (func(), error) {
	l.mu.Lock()
	limit, lapses := l.limit()
	if len(l.queue) == 0 && l.running < limit {
		l.running++
		l.mu.Unlock()
		return l.leave, nil
	}
	admitted := make(chan struct{})
	l.queue = append(l.queue, admitted)
	l.mu.Unlock()
	for {
		var lapsed <-chan time.Time
		var timer *time.Timer
		if lapses > 0 {
			timer = time.NewTimer(lapses)
			lapsed = timer.C
		}
		select {
		case <-admitted:
			if timer != nil {
				timer.Stop()
			}
			return l.leave, nil
		case <-lapsed:
			// The reserve may have lapsed: let in what the limit now allows.
			l.mu.Lock()
			l.admit()
			_, lapses = l.limit()
			l.mu.Unlock()
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			l.giveUp(admitted)
			return nil, outcome.Wrap(outcome.Transient, "search: waiting for a broad search to finish", ctx.Err())
		}
	}
}

// giveUp takes a waiting search out of the queue, or, when it was
// admitted meanwhile, gives its place back.
func (l *lane) giveUp(admitted chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-admitted:
		l.running--
		l.admit()
	default:
		l.queue = slices.DeleteFunc(l.queue, func(c chan struct{}) bool { return c == admitted })
	}
}

// leave gives a place back.
func (l *lane) leave() {
	l.mu.Lock()
	l.running--
	l.admit()
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
