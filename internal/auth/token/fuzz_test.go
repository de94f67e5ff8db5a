package token

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// FuzzBearer feeds Authorization header values through FromRequest and
// Verify: nothing may panic, and nothing but the one token the service
// issued may verify.
func FuzzBearer(f *testing.F) {
	st := openStore(f, platformtest.Backends[0])
	clk := newClock(DefaultRotateEvery, time.Minute)
	s := newService(f, st, clk, Config{})
	ctx := context.Background()
	issued, _, err := s.Issue(ctx, practitioner(), time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer " + issued)
	f.Add("bearer " + issued + "=")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/fhir/Patient", nil)
		r.Header.Set("Authorization", header)
		raw, err := FromRequest(r)
		if err != nil {
			if Challenge("eHealth+", err) == "" {
				t.Fatal("empty challenge")
			}
			return
		}
		c, err := s.Verify(ctx, raw)
		if err == nil && raw != issued {
			t.Fatalf("a token the service did not issue verified: %q → %+v", raw, c)
		}
	})
}
