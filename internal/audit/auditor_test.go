package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/postgres"
	"github.com/ehealthplus/ehealth/internal/store/postgres/pgtest"
	"github.com/ehealthplus/ehealth/internal/store/sqlite"
)

// TestMain stops the throwaway PostgreSQL the tests start.
func TestMain(m *testing.M) { pgtest.Main(m) }

// backends open an unmigrated store on a new database of each kind.
var backends = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "audit.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"postgres", func(t *testing.T) store.Store {
		s, err := postgres.Open(t.Context(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// onBoth runs fn on a migrated store of each backend, in parallel.
func onBoth(t *testing.T, fn func(t *testing.T, s store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			t.Cleanup(func() { s.Close() })
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			fn(t, s)
		})
	}
}

// newAuditor returns an Auditor over s signing with a new key, exporting
// to a file in the test's directory, and its public key.
func newAuditor(t *testing.T, s store.AuditLog, every int) (*Auditor, ed25519.PublicKey, string) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	export := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	a, err := New(s, Config{Source: testSource, Key: priv, ExportPath: export, Every: every, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return a, pub, export
}

func readEvent(patient string, n int) Event {
	return Event{Interaction: Read, Resource: fmt.Sprintf("Observation/o%d", n), Patients: []string{patient}, Caller: drChan}
}

func TestRecordAndCheckpoint(t *testing.T) {
	onBoth(t, func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a, pub, export := newAuditor(t, s, 5)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 3 {
					if err := a.Record(ctx, readEvent(fmt.Sprint("p", g), i)); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		// Twelve entries passed Every (5): the checkpointer was asked.
		waitFor(t, func() bool { c, _ := s.AuditCheckpoints(ctx, 0, 0); return len(c) > 0 })
		if err := a.Close(ctx); err != nil {
			t.Fatal(err)
		}
		stored, err := s.AuditCheckpoints(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) == 0 || stored[len(stored)-1].Seq != 12 {
			t.Fatalf("checkpoints %v, want the last at the head, seq 12", checkpointSeqs(stored))
		}
		exported, err := LoadCheckpoints(export)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(checkpointSeqs(exported), checkpointSeqs(stored)) {
			t.Errorf("exported %v, stored %v", checkpointSeqs(exported), checkpointSeqs(stored))
		}
		r, err := Verify(ctx, s, pub, exported)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Entries != 12 || r.Covered != 12 || r.Exported != len(exported) {
			t.Errorf("verify: %+v", r)
		}
		// A restarted server does not checkpoint the same head again.
		b, err := New(s, Config{Source: testSource, Key: a.cfg.Key, ExportPath: export, Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, wrote, err := b.Checkpoint(ctx); wrote || err != nil {
			t.Errorf("checkpoint of an already checkpointed head: wrote %t, %v", wrote, err)
		}
		b.Close(ctx)
		if again, _ := LoadCheckpoints(export); len(again) != len(exported) {
			t.Errorf("export file grew from %d to %d lines", len(exported), len(again))
		}
	})
}

func checkpointSeqs(list []store.AuditCheckpoint) []int64 {
	var out []int64
	for _, c := range list {
		out = append(out, c.Seq)
	}
	return out
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

// TestRecordFailsWhenTheStoreIsClosed: a failed append is an error the
// caller must refuse the request on.
func TestRecordFailsWhenTheStoreIsClosed(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			a, err := New(s, Config{Source: testSource})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Record(t.Context(), readEvent("p1", 1)); err != nil {
				t.Fatalf("record while open: %v", err)
			}
			s.Close()
			err = a.Record(t.Context(), readEvent("p1", 2))
			if err == nil || !outcome.Is(err, outcome.Transient) {
				t.Errorf("record on a closed store: %v, want a transient error", err)
			}
		})
	}
}

func TestRecordTxGoesWithTheWrite(t *testing.T) {
	onBoth(t, func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a, err := New(s, Config{Source: testSource})
		if err != nil {
			t.Fatal(err)
		}
		write := func(id string, fail error) error {
			return s.Write(ctx, func(tx store.Tx) error {
				v := &store.Version{Type: "Observation", ID: id, VersionID: 1, Updated: time.Now(), Method: store.MethodCreate,
					Writer: "clinic-emr", PatientKey: "p1", Body: []byte(`{"resourceType":"Observation","id":"` + id + `"}`)}
				if err := tx.Put(ctx, v, 0); err != nil {
					return err
				}
				if err := a.RecordTx(ctx, tx, Event{Interaction: Create, Resource: "Observation/" + id + "/_history/1",
					Patients: []string{"p1"}, Caller: drChan}); err != nil {
					return err
				}
				return fail
			})
		}
		abort := errors.New("abort")
		if err := write("rolled-back", abort); !errors.Is(err, abort) {
			t.Fatalf("write: %v", err)
		}
		if err := write("kept", nil); err != nil {
			t.Fatal(err)
		}
		entries, _, err := ReadForPatient(ctx, s, "p1", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Seq != 1 || !bytes.Contains(entries[0].Body, []byte("Observation/kept/")) {
			t.Errorf("journal after a rolled-back and a committed write: %d entries %s", len(entries), firstBody(entries))
		}
	})
}

func firstBody(entries []store.AuditEntry) []byte {
	if len(entries) == 0 {
		return nil
	}
	return entries[0].Body
}

func TestReadForPatient(t *testing.T) {
	onBoth(t, func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a, err := New(s, Config{Source: testSource})
		if err != nil {
			t.Fatal(err)
		}
		var want []int64 // p1's seqs, newest first
		for i := range 8 {
			p := []string{"p1", "p2"}[i%2]
			if err := a.Record(ctx, readEvent(p, i)); err != nil {
				t.Fatal(err)
			}
			if p == "p1" {
				want = append([]int64{int64(i + 1)}, want...)
			}
		}
		var got []int64
		for before := int64(0); ; {
			page, next, err := ReadForPatient(ctx, s, "p1", before, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				got = append(got, e.Seq)
			}
			if next == 0 {
				break
			}
			before = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("p1's history %v, want %v", got, want)
		}
		entries, _, _ := ReadForPatient(ctx, s, "p1", 0, 1)
		body, err := Resource(entries[0])
		if err != nil {
			t.Fatal(err)
		}
		res, err := fhir.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		if res["id"] != fmt.Sprintf("j-%d", entries[0].Seq) || get(res, "meta", "versionId") != "1" || get(res, "meta", "lastUpdated") != entries[0].Time.Format(instant) ||
			len(fhir.Validate(res, fhir.ValidateOptions{})) > 0 {
			t.Errorf("served AuditEvent %s", body)
		}
	})
}

// TestVerifyCheckpoints checks what exported checkpoints catch without
// touching the database: a checkpoint not signed by the key, one beyond
// the journal's end, one that signed another head.
func TestVerifyCheckpoints(t *testing.T) {
	onBoth(t, func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a, pub, _ := newAuditor(t, s, 1000)
		for i := range 10 {
			if err := a.Record(ctx, readEvent("p1", i)); err != nil {
				t.Fatal(err)
			}
		}
		good, _, err := a.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, attacker, _ := ed25519.GenerateKey(nil)
		cases := []struct {
			name     string
			exported []store.AuditCheckpoint
			want     []Problem // Seq, To and Kind compared
		}{
			{"untouched", []store.AuditCheckpoint{good}, nil},
			{"another key", []store.AuditCheckpoint{Sign(attacker, 10, good.Hash, at)},
				[]Problem{{Seq: 10, To: 10, Kind: BadSignature}}},
			{"beyond the end", []store.AuditCheckpoint{good, Sign(a.cfg.Key, 14, good.Hash, at)},
				[]Problem{{Seq: 14, To: 14, Kind: CheckpointMissing}, {Seq: 11, To: 14, Kind: Truncated}}},
			{"another head", []store.AuditCheckpoint{Sign(a.cfg.Key, 10, bytes.Repeat([]byte{9}, 32), at)},
				[]Problem{{Seq: 10, To: 10, Kind: CheckpointDiffers}, {Seq: 1, To: 10, Kind: Rewritten}}},
		}
		for _, c := range cases {
			r, err := Verify(ctx, s, pub, c.exported)
			if err != nil {
				t.Fatal(err)
			}
			var got []Problem
			for _, p := range r.Problems {
				got = append(got, Problem{Seq: p.Seq, To: p.To, Kind: p.Kind})
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: problems %v, want %v", c.name, r.Problems, c.want)
			}
		}
	})
}

// TestAuditorWithoutKey records but cannot checkpoint.
func TestAuditorWithoutKey(t *testing.T) {
	a, err := New(nil, Config{Source: testSource})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Checkpoint(context.Background()); err == nil {
		t.Error("checkpoint without a key")
	}
	if err := a.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("an Auditor without a source")
	}
}
