package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

var auditTests = []test{
	{"AuditAppendAndRead", testAuditAppendAndRead},
	{"AuditReadByPatient", testAuditReadByPatient},
	{"AuditConcurrentAppendsOneChain", testAuditConcurrent},
	{"AuditRollbackTakesEntries", testAuditRollback},
	{"AuditCheckpoints", testAuditCheckpoints},
	{"AuditRefusesBadEntries", testAuditRefuses},
}

// auditEntry returns an entry with body text about patients.
func auditEntry(body string, patients ...string) store.AuditEntry {
	return store.AuditEntry{Patients: patients, Body: []byte(body)}
}

// readChain reads the whole journal in pages of 7 and checks it is one
// unbroken chain from seq 1: consecutive seqs, each PrevHash the previous
// entry's Hash, each Hash recomputed from the entry.
func readChain(t *testing.T, s store.Store) []store.AuditEntry {
	t.Helper()
	var all []store.AuditEntry
	prev := store.AuditGenesis
	for from := int64(1); ; {
		page, err := s.ReadAudit(t.Context(), store.AuditQuery{From: from, Limit: 7})
		if err != nil {
			t.Fatalf("read audit from %d: %v", from, err)
		}
		for _, e := range page {
			if want := int64(len(all) + 1); e.Seq != want {
				t.Fatalf("entry %d has seq %d: the chain has a gap or a repeat", want, e.Seq)
			}
			if !bytes.Equal(e.PrevHash, prev) {
				t.Fatalf("seq %d: prev hash %x, want the previous entry's %x: the chain forked", e.Seq, e.PrevHash, prev)
			}
			if h := store.AuditHash(prev, e); !bytes.Equal(e.Hash, h) {
				t.Fatalf("seq %d: hash %x, recomputed %x", e.Seq, e.Hash, h)
			}
			prev = e.Hash
			all = append(all, e)
		}
		if len(page) < 7 {
			return all
		}
		from = page[len(page)-1].Seq + 1
	}
}

func appendAudit(t *testing.T, s store.Store, entries ...store.AuditEntry) []store.AuditEntry {
	t.Helper()
	if err := s.AppendAudit(t.Context(), entries); err != nil {
		t.Fatalf("append audit: %v", err)
	}
	return entries
}

func seqs(entries []store.AuditEntry) []int64 {
	var out []int64
	for _, e := range entries {
		out = append(out, e.Seq)
	}
	return out
}

// assertEntry fails the test unless got is want as stored.
func assertEntry(t *testing.T, got, want store.AuditEntry) {
	t.Helper()
	if got.Seq != want.Seq || !got.Time.Equal(want.Time) || got.Time.Location() != time.UTC ||
		!slices.Equal(got.Patients, want.Patients) || !bytes.Equal(got.Body, want.Body) ||
		!bytes.Equal(got.PrevHash, want.PrevHash) || !bytes.Equal(got.Hash, want.Hash) {
		t.Errorf("entry:\n got seq=%d time=%v patients=%q body=%q hash=%x\nwant seq=%d time=%v patients=%q body=%q hash=%x",
			got.Seq, got.Time, got.Patients, got.Body, got.Hash, want.Seq, want.Time, want.Patients, want.Body, want.Hash)
	}
}

func testAuditAppendAndRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Millisecond)
	first := appendAudit(t, s,
		auditEntry(`{"resourceType":"AuditEvent","n":1.50}`, "p1"),
		auditEntry("{ \"resourceType\" : \"AuditEvent\",\n\"text\":\"Zoë 山田 🩺\" }", "p1", "p2"),
		auditEntry(`{"resourceType":"AuditEvent"}`))
	after := time.Now().Add(time.Millisecond)
	if got := seqs(first); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("seqs %v, want [1 2 3]", got)
	}
	if !bytes.Equal(first[0].PrevHash, store.AuditGenesis) {
		t.Errorf("seq 1 prev hash %x, want the genesis", first[0].PrevHash)
	}
	for _, e := range first {
		if e.Time.Before(before) || e.Time.After(after) || e.Time.Location() != time.UTC {
			t.Errorf("seq %d: time %v, want the append time in UTC", e.Seq, e.Time)
		}
	}
	at := time.Date(2024, 3, 1, 14, 0, 0, 123456789, time.FixedZone("UTC+5:30", 5*3600+1800))
	fourth := appendAudit(t, s, store.AuditEntry{Time: at, Patients: []string{"p3"}, Body: []byte(`{"resourceType":"AuditEvent","id":"x"}`)})
	if fourth[0].Seq != 4 || !fourth[0].Time.Equal(at.Truncate(time.Microsecond)) || fourth[0].Time.Location() != time.UTC {
		t.Errorf("seq %d time %v, want 4 at %v in UTC", fourth[0].Seq, fourth[0].Time, at.Truncate(time.Microsecond))
	}
	all := readChain(t, s)
	want := append(first, fourth...)
	if len(all) != len(want) {
		t.Fatalf("journal has %d entries, want %d", len(all), len(want))
	}
	for i := range all {
		assertEntry(t, all[i], want[i])
	}
	for _, tc := range []struct {
		q    store.AuditQuery
		want []int64
	}{
		{store.AuditQuery{From: 2, To: 3}, []int64{2, 3}},
		{store.AuditQuery{Limit: 2}, []int64{1, 2}},
		{store.AuditQuery{Newest: true, Limit: 2}, []int64{4, 3}},
		{store.AuditQuery{Newest: true, To: 2}, []int64{2, 1}},
		{store.AuditQuery{From: 5}, nil},
	} {
		got, err := s.ReadAudit(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(seqs(got), tc.want) {
			t.Errorf("ReadAudit(%+v) = %v, want %v", tc.q, seqs(got), tc.want)
		}
	}
}

func testAuditReadByPatient(t *testing.T, s store.Store) {
	ctx := t.Context()
	var wantA []int64
	for i := range 10 {
		var patients []string
		switch i % 3 {
		case 0:
			patients = []string{"a"}
		case 1:
			patients = []string{"b"}
		case 2:
			patients = []string{"b", "a", "a"} // a repeated key is indexed once
		}
		e := appendAudit(t, s, auditEntry(fmt.Sprintf(`{"n":%d}`, i), patients...))
		if slices.Contains(patients, "a") {
			wantA = append(wantA, e[0].Seq)
		}
	}
	got, err := s.ReadAudit(ctx, store.AuditQuery{Patient: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqs(got), wantA) {
		t.Errorf("patient a: %v, want %v", seqs(got), wantA)
	}
	if len(got) > 1 && !slices.Equal(got[1].Patients, []string{"b", "a", "a"}) {
		t.Errorf("seq %d patients %q, want them as appended", got[1].Seq, got[1].Patients)
	}
	// The access history pages newest first.
	var paged []int64
	for to := int64(0); ; {
		page, err := s.ReadAudit(ctx, store.AuditQuery{Patient: "a", Newest: true, To: to, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, seqs(page)...)
		if len(page) < 2 {
			break
		}
		to = page[len(page)-1].Seq - 1
	}
	slices.Reverse(paged)
	if !slices.Equal(paged, wantA) {
		t.Errorf("patient a newest first, reversed: %v, want %v", paged, wantA)
	}
	if got, err := s.ReadAudit(ctx, store.AuditQuery{Patient: "nobody"}); err != nil || len(got) != 0 {
		t.Errorf("unknown patient: %v, %v; want none", seqs(got), err)
	}
}

// testAuditConcurrent races 16 appenders, half appending outside a
// transaction (group commit) and half inside write transactions, and
// expects one unbroken chain holding every entry, each call's entries
// consecutive.
func testAuditConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const appenders, rounds = 16, 8
	var mu sync.Mutex
	got := map[string]store.AuditEntry{}
	errs := race(appenders, func(g int) error {
		for r := range rounds {
			entries := make([]store.AuditEntry, 1+(g+r)%3)
			for i := range entries {
				entries[i] = auditEntry(fmt.Sprintf(`{"g":%d,"r":%d,"i":%d}`, g, r, i), fmt.Sprint("p", g))
			}
			var err error
			if g%2 == 0 {
				err = s.AppendAudit(ctx, entries)
			} else {
				err = s.Write(ctx, func(tx store.Tx) error {
					v := newVersion("Observation", fmt.Sprintf("o-%d-%d", g, r), 1, base)
					if err := tx.Put(ctx, v, 0); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, entries)
				})
			}
			if err != nil {
				return err
			}
			for i, e := range entries {
				if e.Seq != entries[0].Seq+int64(i) {
					return fmt.Errorf("one call's entries got seqs %v", seqs(entries))
				}
			}
			mu.Lock()
			for _, e := range entries {
				got[string(e.Body)] = e
			}
			mu.Unlock()
		}
		return nil
	})
	for g, err := range errs {
		if err != nil {
			t.Fatalf("appender %d: %v", g, err)
		}
	}
	all := readChain(t, s)
	if len(all) != len(got) {
		t.Fatalf("journal has %d entries, appenders wrote %d", len(all), len(got))
	}
	for _, e := range all {
		want, ok := got[string(e.Body)]
		if !ok {
			t.Fatalf("seq %d %s: not appended by anyone", e.Seq, e.Body)
		}
		if want.Seq != e.Seq || !bytes.Equal(want.Hash, e.Hash) {
			t.Errorf("%s: stored at seq %d hash %x, its appender was told seq %d hash %x", e.Body, e.Seq, e.Hash, want.Seq, want.Hash)
		}
	}
}

func testAuditRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	one := appendAudit(t, s, auditEntry(`{"n":1}`, "p1"))
	abort := errors.New("abort")
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.Put(ctx, newVersion("Observation", "gone", 1, base), 0); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, []store.AuditEntry{auditEntry(`{"n":"x"}`, "p1"), auditEntry(`{"n":"y"}`, "p1")}); err != nil {
			return err
		}
		return abort
	})
	if !errors.Is(err, abort) {
		t.Fatalf("write: %v, want the abort", err)
	}
	_, err = s.Read(ctx, "Observation", "gone")
	assertKind(t, err, outcome.NotFound)
	two := appendAudit(t, s, auditEntry(`{"n":2}`, "p1"))
	if two[0].Seq != 2 || !bytes.Equal(two[0].PrevHash, one[0].Hash) {
		t.Errorf("after a rollback: seq %d prev %x, want seq 2 after %x", two[0].Seq, two[0].PrevHash, one[0].Hash)
	}
	three := []store.AuditEntry{auditEntry(`{"n":3}`, "p1")}
	err = s.Write(ctx, func(tx store.Tx) error {
		if err := tx.Put(ctx, newVersion("Observation", "kept", 1, base), 0); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, three)
	})
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, s, "Observation", "kept")
	all := readChain(t, s)
	var bodies []string
	for _, e := range all {
		bodies = append(bodies, string(e.Body))
	}
	if want := []string{`{"n":1}`, `{"n":2}`, `{"n":3}`}; !slices.Equal(bodies, want) {
		t.Errorf("journal %q, want %q", bodies, want)
	}
	if got, _ := s.ReadAudit(ctx, store.AuditQuery{Patient: "p1"}); !slices.Equal(seqs(got), []int64{1, 2, 3}) {
		t.Errorf("patient index %v, want [1 2 3]: a rolled-back entry left a row", seqs(got))
	}
}

func testAuditCheckpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	cp := func(seq int64, hash byte) store.AuditCheckpoint {
		return store.AuditCheckpoint{Seq: seq, Hash: bytes.Repeat([]byte{hash}, 32),
			Time: base.Add(time.Duration(seq) * time.Second), KeyID: "k1", Signature: bytes.Repeat([]byte{hash ^ 0xff}, 64)}
	}
	for _, c := range []store.AuditCheckpoint{cp(10, 1), cp(5, 2), cp(10, 3)} {
		if err := s.PutAuditCheckpoint(ctx, c); err != nil {
			t.Fatalf("put checkpoint %d: %v", c.Seq, err)
		}
	}
	all, err := s.AuditCheckpoints(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.AuditCheckpoint{cp(5, 2), cp(10, 1)} // the first at seq 10 is kept
	if len(all) != len(want) {
		t.Fatalf("%d checkpoints, want %d", len(all), len(want))
	}
	for i, c := range all {
		w := want[i]
		if c.Seq != w.Seq || !bytes.Equal(c.Hash, w.Hash) || !c.Time.Equal(w.Time) || c.Time.Location() != time.UTC ||
			c.KeyID != w.KeyID || !bytes.Equal(c.Signature, w.Signature) {
			t.Errorf("checkpoint %d = %+v, want %+v", i, c, w)
		}
	}
	for _, tc := range []struct {
		after int64
		limit int
		want  []int64
	}{{5, 0, []int64{10}}, {0, 1, []int64{5}}, {10, 0, nil}} {
		got, err := s.AuditCheckpoints(ctx, tc.after, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var gotSeqs []int64
		for _, c := range got {
			gotSeqs = append(gotSeqs, c.Seq)
		}
		if !slices.Equal(gotSeqs, tc.want) {
			t.Errorf("AuditCheckpoints(%d, %d) = %v, want %v", tc.after, tc.limit, gotSeqs, tc.want)
		}
	}
}

func testAuditRefuses(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.AppendAudit(ctx, nil); err != nil {
		t.Errorf("appending nothing: %v", err)
	}
	bad := [][]store.AuditEntry{
		{auditEntry(`{"n":1}`), {Patients: []string{"p"}}},
		{auditEntry(`{"n":1}`, "p", "")},
	}
	for i, entries := range bad {
		if err := s.AppendAudit(ctx, entries); err == nil {
			t.Errorf("bad batch %d appended", i)
		}
		err := s.Write(ctx, func(tx store.Tx) error { return tx.AppendAudit(ctx, entries) })
		if err == nil {
			t.Errorf("bad batch %d appended in a transaction", i)
		}
	}
	if all := readChain(t, s); len(all) != 0 {
		t.Errorf("journal has %d entries after refused appends", len(all))
	}
}

// benchAuditBody is a typical BALP read event, about 1.2 KiB.
var benchAuditBody = []byte(`{"resourceType":"AuditEvent","meta":{"profile":["https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead"]},` +
	`"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest","display":"Restful Operation"},` +
	`"subtype":[{"system":"http://hl7.org/fhir/restful-interaction","code":"read","display":"read"}],"action":"R",` +
	`"recorded":"2024-03-01T08:30:00.123456Z","outcome":"0","purposeOfEvent":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}],` +
	`"agent":[{"type":{"coding":[{"system":"https://profiles.ihe.net/ITI/BALP/CodeSystem/UserAgentTypes","code":"UserOauthAgent"}]},"who":{"reference":"Practitioner/dr-chan"},"requestor":true,"policy":["4b1c7f0e-2f6a-4f43-9a57-1e0d2a7c9b11"]},` +
	`{"type":{"coding":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"110152","display":"Destination Role ID"}]},"who":{"identifier":{"value":"clinic-emr"}},"requestor":false,"network":{"address":"10.1.2.3","type":"2"}},` +
	`{"type":{"coding":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"110153","display":"Source Role ID"}]},"who":{"identifier":{"value":"https://ehealth.hk/fhir"}},"requestor":false}],` +
	`"source":{"observer":{"display":"ehealth"},"type":[{"system":"http://terminology.hl7.org/CodeSystem/security-source-type","code":"4"}]},` +
	`"entity":[{"what":{"reference":"Observation/bp-123/_history/2"},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"2"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"4"}},` +
	`{"what":{"reference":"Patient/p-42"},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"1"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"1"}}]}`)

// BenchmarkAudit measures Store.AppendAudit, one entry per append, by one
// appender and by 8 at once (where group commit batches them), reporting
// appends/s. open must return a store on a new database.
func BenchmarkAudit(b *testing.B, open func(tb testing.TB) store.Store) {
	for _, appenders := range []int{1, 8} {
		b.Run(fmt.Sprintf("Append%d", appenders), func(b *testing.B) {
			s := open(b)
			b.Cleanup(func() { s.Close() })
			if err := s.Migrate(b.Context()); err != nil {
				b.Fatalf("migrate: %v", err)
			}
			benchAppend(b, s, appenders)
		})
	}
}

func benchAppend(b *testing.B, s store.Store, appenders int) {
	ctx := b.Context()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := range appenders {
		wg.Go(func() {
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				entry := store.AuditEntry{Patients: []string{fmt.Sprint("p-", g, "-", n%100)}, Body: benchAuditBody}
				if err := s.AppendAudit(ctx, []store.AuditEntry{entry}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}
