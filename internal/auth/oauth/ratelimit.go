package oauth

import (
	"sync"
	"time"
)

// limiter is the token endpoint's rate limit: one token bucket per client
// (or per remote address for requests naming none), in memory. Each server
// process keeps its own buckets, so behind n servers a client gets up to n
// times the rate: the limit protects the servers and the database from a
// runaway client, it is not an accounting. Buckets that have filled up
// again are dropped when the map grows, so junk client ids cannot grow it
// without bound.
type limiter struct {
	rate  float64 // tokens a second; <0: no limit
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets is the map size at which full buckets are swept.
const maxBuckets = 10000

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket; when there is none it returns how
// many seconds until there is.
func (l *limiter) allow(key string, now time.Time) (wait float64, ok bool) {
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
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return (1 - b.tokens) / l.rate, false
	}
	b.tokens--
	return 0, true
}

// sweep drops the buckets that would be full by now.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
