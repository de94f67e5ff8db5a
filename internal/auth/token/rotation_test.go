package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ehealthplus/ehealth/internal/store"
)

// kidOf returns the kid of a token.
func kidOf(t *testing.T, raw string) string {
	t.Helper()
	h, _ := parts(t, raw)
	return h["kid"].(string)
}

// jwksKids returns the kids a Service publishes.
func jwksKids(t *testing.T, s *Service) map[string]bool {
	t.Helper()
	doc, err := s.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		kids[k.KeyID] = true
	}
	return kids
}

// TestRotation follows one key through its life: it signs during its
// slot, verifies the tokens it signed after the next key has taken over
// (in this process and in one started later), is listed in the JWKS with
// its successor (which is listed before it signs), and after the grace is
// gone from the JWKS, refused, and removed from the store by PurgeKeys.
func TestRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		period := time.Hour
		clk := newClock(period, 50*time.Minute)
		s := newService(t, st, clk, Config{RotateEvery: period})

		old, _, err := s.Issue(ctx, practitioner(), 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		oldKid := kidOf(t, old)
		before := jwksKids(t, s)

		clk.Advance(20 * time.Minute) // into the next slot; old expires in 10 minutes
		fresh, _, err := s.Issue(ctx, practitioner(), 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		newKid := kidOf(t, fresh)
		if newKid == oldKid {
			t.Fatal("the key did not rotate at the slot boundary")
		}
		if !before[newKid] {
			t.Error("the next slot's key was not published before it signed")
		}
		if _, err := s.Verify(ctx, old); err != nil {
			t.Errorf("a token of the previous key is refused before it expires: %v", err)
		}
		restarted := newService(t, st, clk, Config{RotateEvery: period})
		if _, err := restarted.Verify(ctx, old); err != nil {
			t.Errorf("a process started after the rotation refuses the previous key's token: %v", err)
		}
		if kids := jwksKids(t, s); !kids[oldKid] || !kids[newKid] {
			t.Errorf("JWKS %v: want both %s and %s", kids, oldKid, newKid)
		}

		// The old key's slot ended 10 minutes after the start; it verifies
		// until then + MaxTTL + MaxLeeway.
		clk.Advance(-10*time.Minute + MaxTTL + MaxLeeway - time.Second)
		if kids := jwksKids(t, s); !kids[oldKid] {
			t.Error("the old key left the JWKS before its grace ended")
		}
		clk.Advance(time.Second)
		if kids := jwksKids(t, s); kids[oldKid] {
			t.Error("the old key is still in the JWKS after its grace")
		}
		_, err = s.Verify(ctx, old)
		var p *Problem
		if !errors.As(err, &p) || !strings.Contains(p.Description, "unknown or retired key") {
			t.Errorf("the old key's token after the grace: %v, want refused for its key", err)
		}
		if n, err := st.PurgeKeys(ctx, clk.Now()); err != nil || n != 1 {
			t.Errorf("PurgeKeys at the end of the grace removed %d entries (%v), want the old key", n, err)
		}
		if _, ok := privateKeys(t, st)[oldKid]; ok {
			t.Error("the old key is still in the store after PurgeKeys")
		}
		if _, ok := privateKeys(t, st)[newKid]; !ok {
			t.Error("PurgeKeys removed the key after it")
		}
	})
}

// TestConcurrentRotation runs two token services — two server processes —
// on one store, each issuing from several goroutines at once across three
// rotation slots. They must end with one key per slot, sign every slot's
// tokens with that one key, and accept each other's tokens.
func TestConcurrentRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		period := time.Hour
		clk := newClock(period, time.Minute)
		procs := []*Service{
			newService(t, st, clk, Config{RotateEvery: period}),
			newService(t, st, clk, Config{RotateEvery: period}),
		}
		// Both processes find each slot empty before either inserts its key.
		race := raceBarrier(t, len(procs), func(key string) bool {
			return key == slotKey(procs[0].slotOf(clk.Now()), period) // the slot signing now
		})
		for _, s := range procs {
			s.beforeInsert = race
		}
		const slots, perProc = 3, 6
		var tokens []string
		for slot := range slots {
			var mu sync.Mutex
			var wg sync.WaitGroup
			kids := map[string]bool{}
			for _, s := range procs {
				for range perProc {
					wg.Go(func() {
						raw, _, err := s.Issue(ctx, practitioner(), 10*time.Minute)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						kids[kidOf(t, raw)] = true
						tokens = append(tokens, raw)
						mu.Unlock()
					})
				}
			}
			wg.Wait()
			if len(kids) != 1 {
				t.Errorf("slot %d was signed with %d keys, want 1", slot, len(kids))
			}
			for i, s := range procs {
				for _, raw := range tokens[len(tokens)-2*perProc:] {
					if _, err := s.Verify(ctx, raw); err != nil {
						t.Errorf("slot %d: process %d refuses a token: %v", slot, i, err)
					}
				}
			}
			clk.Advance(period)
		}
		kvs, err := st.ListKeys(ctx, Namespace, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(kvs) != slots+1 { // and the next slot's, published ahead
			t.Errorf("the store holds %d keys for %d slots (+1 ahead): %v", len(kvs), slots, keyNames(kvs))
		}
	})
}

// raceBarrier returns a hook that holds each caller until n callers have
// arrived with a slot key that holds, then lets them go in the order they came,
// 100 ms apart: the first inserts its key and signs with it while the
// others, which also found the slot empty, still hold keys of their own.
func raceBarrier(t *testing.T, n int, holds func(key string) bool) func(string) {
	var mu sync.Mutex
	arrived := map[string]*sync.WaitGroup{}
	count := map[string]int{}
	return func(key string) {
		if !holds(key) {
			return
		}
		mu.Lock()
		wg := arrived[key]
		if wg == nil {
			wg = &sync.WaitGroup{}
			wg.Add(n)
			arrived[key] = wg
		}
		place := count[key]
		count[key]++
		mu.Unlock()
		wg.Done()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("slot %s: the processes did not meet before inserting", key)
		}
		time.Sleep(time.Duration(place) * 100 * time.Millisecond)
	}
}

func keyNames(kvs []store.KeyValue) []string {
	var out []string
	for _, kv := range kvs {
		out = append(out, kv.Key.Key)
	}
	return out
}

// countingKeys counts the reads of the whole key namespace on a real store.
type countingKeys struct {
	store.Keyed
	lists atomic.Int64
}

func (c *countingKeys) ListKeys(ctx context.Context, ns, prefix string, limit int) ([]store.KeyValue, error) {
	c.lists.Add(1)
	return c.Keyed.ListKeys(ctx, ns, prefix, limit)
}

// TestUnknownKid checks that a token whose kid the cache lacks makes the
// service read the keys again — so a key another process created is found
// — but that a flood of junk kids reads the database at most once every
// reloadEvery.
func TestUnknownKid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		clk := newClock(2*time.Hour, time.Minute) // near the real time, by which the store expires keys
		keys := &countingKeys{Keyed: st}
		s := newService(t, keys, clk, Config{})
		if _, _, err := s.Issue(ctx, practitioner(), time.Minute); err != nil {
			t.Fatal(err)
		}

		// Another process with another rotation period creates keys this
		// one has not read.
		clk.Advance(reloadEvery)
		other := newService(t, st, clk, Config{RotateEvery: 2 * time.Hour})
		theirs, _, err := other.Issue(ctx, practitioner(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		reads := keys.lists.Load()
		if _, err := s.Verify(ctx, theirs); err != nil {
			t.Fatalf("a key another process created is not found: %v", err)
		}
		if keys.lists.Load() != reads+1 {
			t.Errorf("the unknown kid made %d reads, want 1", keys.lists.Load()-reads)
		}

		foreign, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, payload := parts(t, theirs)
		junk := func(i int) string { return sign(t, jose.ES256, foreign, fmt.Sprintf("junk-%d", i), "at+jwt", payload) }
		reads = keys.lists.Load()
		var wg sync.WaitGroup
		for i := range 200 {
			raw := junk(i)
			wg.Go(func() {
				if _, err := s.Verify(ctx, raw); err == nil {
					t.Error("a junk kid verified")
				}
			})
		}
		wg.Wait()
		if n := keys.lists.Load() - reads; n != 0 {
			t.Errorf("200 junk kids within %s of the last read made %d reads, want 0", reloadEvery, n)
		}
		clk.Advance(reloadEvery)
		for i := range 50 {
			s.Verify(ctx, junk(1000+i))
		}
		if n := keys.lists.Load() - reads; n != 1 {
			t.Errorf("50 junk kids after %s made %d reads, want 1", reloadEvery, n)
		}
		if _, err := s.Verify(ctx, theirs); err != nil {
			t.Errorf("a known key after the flood: %v", err)
		}
	})
}
