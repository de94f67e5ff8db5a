package resource

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"

	"github.com/ehealthplus/ehealth/internal/search"
)

func TestBroadSearch(t *testing.T) {
	reg := search.NewRegistry()
	cases := []struct {
		typ, query, patient string
		broad               bool
	}{
		{"Observation", "code=8480-6", "", true},
		{"Observation", "code=8480-6", "p1", false}, // confined to one patient
		{"Observation", "", "", true},
		{"Observation", "", "p1", false},
		{"Patient", "identifier=http://ehealth.hk/id/hkid|A1234563", "", false},
		{"Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123", "", false},
		{"Patient", "identifier:missing=true", "", true},
		{"Patient", "identifier=a,b&_id=p1", "", false},
		{"Patient", "identifier=a&name=chan", "", true}, // a name: not a lookup
		{"Patient", "_id=p1", "", false},
		{"StructureDefinition", "url=http://example.org/sd", "", false},
		{"Observation", "subject.identifier=x", "", true}, // a chain
		{"Patient", "_has:Observation:patient:code=x", "", true},
		{"Condition", "code=x&_summary=count", "", true},
	}
	for _, c := range cases {
		q, _, err := search.Parse(c.typ, mustQuery(t, c.query), reg, true)
		if err != nil {
			t.Fatalf("%s?%s: %v", c.typ, c.query, err)
		}
		if got := broadSearch(q, c.patient); got != c.broad {
			t.Errorf("%s?%s (patient %q): broad %v, want %v", c.typ, c.query, c.patient, got, c.broad)
		}
	}
}

// TestLane: broad searches use every processor until a narrow search
// begins; then, for narrowWindow, they keep one free; a place given back
// or the window lapsing lets a waiting one in; one given up waiting gets
// a transient error.
func TestLane(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	l := &lane{now: now, all: 2, reserved: 1, changed: make(chan struct{})}
	brief := func() context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	enter := func(ctx context.Context) (func(), error) { return l.enter(ctx) }

	leaveA, err := enter(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	leaveB, err := enter(brief())
	if err != nil {
		t.Fatalf("second broad search with no narrow one arriving: %v", err)
	}
	if _, err := enter(brief()); !outcome.Is(err, outcome.Transient) {
		t.Fatalf("third broad search on two processors: %v, want to wait and give up", err)
	}
	leaveB()
	l.narrow()
	if _, err := enter(brief()); !outcome.Is(err, outcome.Transient) {
		t.Fatalf("second broad search while narrow ones arrive: %v, want to wait and give up", err)
	}
	// A waiting broad search gets in when the window lapses …
	got := make(chan error, 1)
	go func() {
		leave, err := enter(t.Context())
		if err == nil {
			leave()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("broad search got in within the window: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	advance(narrowWindow)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// … or when a place is given back.
	l.narrow()
	go func() {
		leave, err := enter(t.Context())
		if err == nil {
			leave()
		}
		got <- err
	}()
	time.Sleep(10 * time.Millisecond)
	leaveA()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if l.running != 0 {
		t.Errorf("%d places still taken", l.running)
	}
}
