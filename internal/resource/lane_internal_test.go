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

// TestLane: broad searches run as they come until a narrow search
// begins; then, for the window, at most the reserved number run, the
// others waiting in order of arrival; a place given back or the window
// lapsing lets the oldest in; one given up waiting gets a transient error
// and leaves the queue.
func TestLane(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	l := newLane(1, now)
	l.window = 20 * time.Millisecond // re-checked this often in real time; decided by clock
	brief := func() context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	// wait enters in the background, reporting on the returned channel
	// once admitted (and then holding the place until release is closed).
	release := make(chan struct{})
	wait := func() chan error {
		got := make(chan error, 1)
		go func() {
			leave, err := l.enter(t.Context())
			got <- err
			if err == nil {
				<-release
				leave()
			}
		}()
		return got
	}
	blocked := func(got chan error, what string) {
		t.Helper()
		select {
		case err := <-got:
			t.Fatalf("%s got in: %v", what, err)
		case <-time.After(60 * time.Millisecond):
		}
	}

	var leaves []func()
	for range 3 {
		leave, err := l.enter(brief())
		if err != nil {
			t.Fatalf("broad search with no narrow one arriving: %v", err)
		}
		leaves = append(leaves, leave)
	}
	l.narrow()
	if _, err := l.enter(brief()); !outcome.Is(err, outcome.Transient) {
		t.Fatalf("broad search while narrow ones arrive and three run: %v, want to wait and give up", err)
	}
	if len(l.queue) != 0 {
		t.Fatalf("%d left in the queue after giving up", len(l.queue))
	}
	first := wait()
	blocked(first, "first waiting search")
	second := wait()
	leaves[0]()
	leaves[1]()
	blocked(first, "first waiting search with one still running")
	leaves[2]()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	blocked(second, "second waiting search while the first runs")
	// The window lapses (no narrow search since): the second gets in.
	advance(time.Second)
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	close(release)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		l.mu.Lock()
		running := l.running
		l.mu.Unlock()
		if running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d places still taken", running)
		}
	}
}
