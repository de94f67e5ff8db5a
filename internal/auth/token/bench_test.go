package token

import (
	"context"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// BenchmarkVerify is the cost a token adds to every request: parsing,
// the cached key, the ES256 signature, the claims and their scopes.
func BenchmarkVerify(b *testing.B) {
	st := openStore(b, platformtest.Backends[0])
	s := newService(b, st, newClock(DefaultRotateEvery, time.Minute), Config{})
	ctx := context.Background()
	raw, _, err := s.Issue(ctx, practitioner(), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}
