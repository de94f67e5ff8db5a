package resource_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// heldStore, once armed, holds every search of a type other than Patient
// that is not confined to a patient until released, counting those that
// reached it.
type heldStore struct {
	store.Store
	armed   atomic.Bool
	entered atomic.Int32
	reached chan struct{}
	release chan struct{}
}

func (h *heldStore) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	if h.armed.Load() && q.Patient == "" && q.Plan.ResourceType != "Patient" {
		h.entered.Add(1)
		h.reached <- struct{}{}
		select {
		case <-h.release:
		case <-ctx.Done():
			return store.SearchPage{}, ctx.Err()
		}
	}
	return h.Store.Search(ctx, q)
}

// TestBroadSearchLane: with a lane of one while narrow searches are
// arriving, a second broad search waits for the first, while a patient-scoped search and a lookup by identifier
// go straight through; a broad search whose caller gives up while waiting
// gets a transient error.
func TestBroadSearchLane(t *testing.T) {
	for _, be := range backends {
		t.Run(be.Name, func(t *testing.T) {
			h := &heldStore{Store: be.Open(t), reached: make(chan struct{}, 8), release: make(chan struct{})}
			t.Cleanup(func() { h.Store.Close() })
			p, err := platform.Open(t.Context(), h, slog.New(slog.NewTextHandler(io.Discard, nil)), platform.WithBroadSearches(1))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			op := resource.Caller{Writer: "operator"}
			search := func(ctx context.Context, typ, query string) error {
				params, err := url.ParseQuery(query)
				if err != nil {
					t.Fatal(err)
				}
				_, err = p.Service.Search(ctx, op, typ, params, resource.SearchOptions{})
				return err
			}
			h.armed.Store(true)
			// Narrow searches are arriving (the lane admits broad ones as
			// they come otherwise: lane_internal_test.go).
			if err := search(t.Context(), "Observation", "patient=Patient/p1"); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 2)
			go func() { done <- search(context.Background(), "Observation", "code=8480-6") }()
			<-h.reached // the first broad search holds the lane
			go func() { done <- search(context.Background(), "Condition", "code=44054006&_summary=count") }()

			narrow, stop := context.WithTimeout(t.Context(), 10*time.Second)
			defer stop()
			if err := search(narrow, "Observation", "patient=Patient/p1&code=8480-6"); err != nil {
				t.Fatalf("patient-scoped search while the lane is held: %v", err)
			}
			if err := search(narrow, "Patient", "identifier=http://ehealth.hk/id/hkid|A1234563"); err != nil {
				t.Fatalf("lookup by identifier while the lane is held: %v", err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			if err := search(ctx, "Encounter", "status=finished"); !outcome.Is(err, outcome.Transient) {
				t.Fatalf("broad search given up while waiting: %v, want a transient error", err)
			}
			if n := h.entered.Load(); n != 1 {
				t.Fatalf("%d broad searches reached the store while the lane of one was held", n)
			}
			close(h.release)
			for range 2 {
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			if n := h.entered.Load(); n != 2 {
				t.Fatalf("%d broad searches reached the store, want 2", n)
			}
		})
	}
}
