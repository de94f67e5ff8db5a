package login

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Namespaces of the lockout state.
const (
	nsFail = "login.fail"
	nsLock = "login.lock"
)

// limits are the login's brakes: a token bucket per client IP (in memory:
// it protects this server) and, per account, failures and lockouts in the
// keyed store (shared: an attacker spreading guesses over servers gets no
// more of them).
type limits struct {
	ip     *bucketLimiter
	keys   store.Keyed
	max    int
	window time.Duration
	lock   time.Duration
	now    func() time.Time
}

func newLimits(keys store.Keyed, cfg Config) *limits {
	return &limits{ip: newBucketLimiter(cfg.IPRate, cfg.IPBurst), keys: keys, max: cfg.MaxFailures,
		window: cfg.FailureWindow, lock: cfg.Lockout, now: cfg.Now}
}

// account is the key of an account's failures: the SHA-256 of its kind and
// name as typed, whether or not such an account exists (so a lockout says
// nothing about existence), never the name itself.
func account(kind, name string) string { return digest("account", kind, name) }

// locked returns how long acct stays locked, 0 if it is not.
func (l *limits) locked(ctx context.Context, acct string) (time.Duration, error) {
	b, err := l.keys.GetKey(ctx, nsLock, acct)
	if outcome.Is(err, outcome.NotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("login: read lockout: %w", err)
	}
	var until time.Time
	if err := json.Unmarshal(b, &until); err != nil {
		return 0, fmt.Errorf("login: read lockout: %w", err)
	}
	// The clock may differ from the database's (tests move it): the
	// entry's own instant decides.
	if wait := until.Sub(l.now()); wait > 0 {
		return max(wait, time.Second), nil
	}
	return 0, nil
}

// failed records a failure of acct; the max-th within the window locks the
// account for the lockout period and returns its length. Each failure is
// its own entry (grouped by account), so failures on several servers at
// once are all counted.
func (l *limits) failed(ctx context.Context, acct string) (time.Duration, error) {
	now := l.now()
	k := store.Key{NS: nsFail, Key: acct + "/" + randomToken(), Group: acct}
	if err := l.keys.PutKey(ctx, k, nil, now.Add(l.window)); err != nil {
		return 0, fmt.Errorf("login: record failure: %w", err)
	}
	fails, err := l.keys.ListKeys(ctx, nsFail, acct+"/", 0)
	if err != nil {
		return 0, fmt.Errorf("login: count failures: %w", err)
	}
	n := 0
	for _, f := range fails {
		if f.Expires.After(now) {
			n++
		}
	}
	if n < l.max {
		return 0, nil
	}
	until := now.Add(l.lock)
	b, _ := json.Marshal(until)
	if err := l.keys.PutKey(ctx, store.Key{NS: nsLock, Key: acct}, b, until); err != nil {
		return 0, fmt.Errorf("login: lock account: %w", err)
	}
	if err := l.keys.DeleteGroup(ctx, nsFail, acct); err != nil {
		return 0, fmt.Errorf("login: reset failures: %w", err)
	}
	return l.lock, nil
}

// succeeded forgets acct's failures.
func (l *limits) succeeded(ctx context.Context, acct string) error {
	return l.keys.DeleteGroup(ctx, nsFail, acct)
}

// bucketLimiter is a token bucket per key, in memory. Buckets that have
// filled up again are dropped when the map grows, so junk keys cannot grow
// it without bound.
type bucketLimiter struct {
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

func newBucketLimiter(rate float64, burst int) *bucketLimiter {
	return &bucketLimiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket; when there is none it returns how
// long until there is.
func (l *bucketLimiter) allow(key string, now time.Time) (time.Duration, bool) {
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
func (l *bucketLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
