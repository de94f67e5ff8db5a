package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// TestPurgeExpired: the server's purger removes expired entries and keeps
// live ones.
func TestPurgeExpired(t *testing.T) {
	st, err := openStore(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "purge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		key     string
		expires time.Time
	}{{"gone", time.Now().Add(50 * time.Millisecond)}, {"kept", time.Now().Add(time.Hour)}} {
		if err := st.PutKey(t.Context(), store.Key{NS: "test", Key: e.key}, []byte("v"), e.expires); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	var logs syncBuffer
	done := make(chan struct{})
	go func() {
		purgeExpired(ctx, st, 20*time.Millisecond, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "entries=1") {
		if time.Now().After(deadline) {
			t.Fatalf("the purger removed nothing: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Nothing expired is left to purge.
	if n, err := st.PurgeKeys(t.Context(), time.Now()); err != nil || n != 0 {
		t.Errorf("PurgeKeys after the purger: %d, %v; want 0", n, err)
	}
	if _, err := st.GetKey(t.Context(), "test", "kept"); err != nil {
		t.Errorf("a live entry went: %v", err)
	}
	if _, err := st.GetKey(t.Context(), "test", "gone"); !outcome.Is(err, outcome.NotFound) {
		t.Errorf("the expired entry: %v, want NotFound", err)
	}
	cancel()
	<-done
}
