package resource_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// TestConcurrentDeposits runs more concurrent provider deposits than the
// PostgreSQL pool has connections (4 on this machine): the deposit check
// reads through the store, and run inside each write's transaction it
// waited for a connection the other transactions held, for ever. Each
// Bundle lands whole, and a deposit for a patient who never joined is
// still refused.
func TestConcurrentDeposits(t *testing.T) {
	for _, kind := range []string{"transaction", "batch"} {
		for _, be := range backends {
			t.Run(kind+"/"+be.Name, func(t *testing.T) { concurrentDeposits(t, be, kind) })
		}
	}
}

// concurrentDeposits deposits Bundles of kind (a batch runs every entry's
// deposit check inside its own transaction, reading through it) from 8
// clients at once.
func concurrentDeposits(t *testing.T, be platformtest.Backend, kind string) {
	{
		p := platformtest.Open(t, be.Open(t))
		citizen := registerCitizens(t, p, 1)[0]
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		const clients, bundles, size = 8, 3, 5
		var wg sync.WaitGroup
		for w := range clients {
			wg.Go(func() {
				for n := range bundles {
					b := observations(t, citizen, size)
					b["type"] = kind
					if _, err := p.Service.Bundle(ctx, providerClient(), b, resource.ReturnMinimal); err != nil {
						t.Errorf("client %d bundle %d: %v", w, n, err)
						return
					}
				}
			})
		}
		wg.Wait()
		res, err := p.Service.Search(ctx, resource.Caller{}, "Observation", map[string][]string{"patient": {citizen}, "_summary": {"count"}}, resource.SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(clients * bundles * size); res.Total != want {
			t.Errorf("%d Observations stored, want %d", res.Total, want)
		}
		refused := observations(t, "never-joined", size)
		refused["type"] = kind
		resp, err := p.Service.Bundle(ctx, providerClient(), refused, resource.ReturnMinimal)
		if kind == "transaction" && !outcome.Is(err, outcome.Forbidden) {
			t.Errorf("deposit for a patient who never joined: %v, want forbidden", err)
		}
		if kind == "batch" {
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range resp["entry"].([]any) {
				if st := e.(map[string]any)["response"].(map[string]any)["status"]; !strings.HasPrefix(fmt.Sprint(st), "403") {
					t.Errorf("batch entry %d for a patient who never joined: %v, want 403", i, st)
				}
			}
		}
	}
}

// observations is a transaction Bundle of n Observations about patient.
func observations(tb testing.TB, patient string, n int) map[string]any {
	entries := make([]any, n)
	for i := range entries {
		obs := parse(tb, benchObservation)
		obs["subject"] = map[string]any{"reference": "Patient/" + patient}
		obs["note"] = []any{map[string]any{"text": fmt.Sprint("reading ", i)}}
		entries[i] = map[string]any{"resource": obs, "request": map[string]any{"method": "POST", "url": "Observation"}}
	}
	return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
}
