package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// purgeEvery is how often the server removes expired keyed-store entries
// (authorization codes, refresh tokens, replay caches, sign-ins).
const purgeEvery = 10 * time.Minute

// purgeExpired removes expired keyed-store entries every interval until ctx
// ends; failures are logged and retried at the next tick.
func purgeExpired(ctx context.Context, keys store.Keyed, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n, err := keys.PurgeKeys(ctx, now)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("purging expired keyed entries failed", "err", err)
			case n > 0:
				log.Debug("purged expired keyed entries", "entries", n)
			}
		}
	}
}
