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
	b.Run("first use", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.verified = verifiedTokens{} // every verification checks the signature
			if _, err := s.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("again", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
