package login

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/ratelimit"
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
	ip     *ratelimit.Limiter
	keys   store.Keyed
	max    int
	window time.Duration
	lock   time.Duration
	now    func() time.Time
}

func newLimits(keys store.Keyed, cfg Config) *limits {
	return &limits{ip: ratelimit.New(cfg.IPRate, cfg.IPBurst), keys: keys, max: cfg.MaxFailures,
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
