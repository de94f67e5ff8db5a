package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestAllow(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	l := New(2, 3) // 2 a second, bursts of 3
	for i := range 3 {
		if _, ok := l.Allow("a", t0); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	wait, ok := l.Allow("a", t0)
	if ok || wait != 500*time.Millisecond {
		t.Errorf("past the burst: ok %v, wait %v; want refused, 500ms", ok, wait)
	}
	if _, ok := l.Allow("b", t0); !ok {
		t.Error("another key shares the bucket")
	}
	if _, ok := l.Allow("a", t0.Add(500*time.Millisecond)); !ok {
		t.Error("the bucket did not refill")
	}
	if _, ok := l.Allow("a", t0.Add(-time.Hour)); ok {
		t.Error("a clock going back refilled the bucket")
	}
	if _, ok := New(-1, 0).Allow("a", t0); !ok {
		t.Error("a negative rate limited")
	}
}

func TestSweepBoundsTheMap(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	l := New(1, 1)
	for i := range maxBuckets + 10 {
		l.Allow(fmt.Sprint("junk", i), t0.Add(time.Duration(i)*time.Second))
	}
	if n := len(l.buckets); n > maxBuckets {
		t.Errorf("%d buckets kept, want at most %d", n, maxBuckets)
	}
}
