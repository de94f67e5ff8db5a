// Package ratelimit is an in-memory token bucket per key, for the sign-in
// and token endpoints. Each server process keeps its own buckets, so
// behind n servers a key gets up to n times the rate: the limit protects
// the servers and the database from a runaway client, it is not an
// accounting. Buckets that have filled up again are dropped when the map
// grows, so junk keys cannot grow it without bound.
package ratelimit

import (
	"sync"
	"time"
)

// maxBuckets is the map size at which full buckets are swept.
const maxBuckets = 10000

// Limiter holds one token bucket per key. It is safe for concurrent use.
type Limiter struct {
	rate  float64 // tokens a second; < 0: no limit
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a limiter refilling rate tokens a second up to burst; a
// negative rate limits nothing.
func New(rate float64, burst int) *Limiter {
	return &Limiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// Allow takes a token from key's bucket at time now; when there is none
// it returns how long until there is.
func (l *Limiter) Allow(key string, now time.Time) (time.Duration, bool) {
	if l.rate < 0 {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+max(0, now.Sub(b.last).Seconds())*l.rate)
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
	}
	b.tokens--
	return 0, true
}

// sweep drops the buckets that would be full by now.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
