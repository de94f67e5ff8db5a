package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// Run runs the conformance suite against the stores open returns. open must
// return a store on a new, empty database; the suite calls it once per
// subtest (subtests run in parallel), migrates the store and closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := [][]test{basicTests, writeTests, historyTests, concurrencyTests, searchTests, containedTests, reindexTests, keyedTests, auditTests}
	for _, group := range groups {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, newStore(t, open))
			})
		}
	}
}

// newStore opens and migrates a store and closes it at the end of the test.
func newStore(t *testing.T, open func(t *testing.T) store.Store) store.Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

var basicTests = []test{
	{"MigrateIsIdempotent", testMigrateIsIdempotent},
	{"CreateThenRead", testCreateThenRead},
	{"ReadUnknown", testReadUnknown},
	{"UpdateChain", testUpdateChain},
	{"DeleteMarker", testDeleteMarker},
	{"BodyRoundTripIsByteExact", testBodyRoundTrip},
	{"WriterAndPatientKeyKept", testWriterAndPatientKey},
	{"UpdatedIsUTCMicroseconds", testUpdatedPrecision},
}

// base is the fixed clock the tests write versions at.
var base = time.Date(2024, 3, 1, 8, 30, 0, 123456000, time.UTC)

// newVersion returns version vid of typ/id written at `at`, with a small body.
func newVersion(typ, id string, vid int64, at time.Time) *store.Version {
	m := store.MethodUpdate
	if vid == 1 {
		m = store.MethodCreate
	}
	return &store.Version{
		Type: typ, ID: id, VersionID: vid, Updated: at, Method: m,
		Writer: "client-test", PatientKey: "Patient/p1",
		Body: fmt.Appendf(nil, `{"resourceType":%q,"id":%q,"meta":{"versionId":"%d","lastUpdated":%q}}`,
			typ, id, vid, at.Format(time.RFC3339Nano)),
	}
}

// deleteMarker returns a delete marker as version vid of typ/id.
func deleteMarker(typ, id string, vid int64, at time.Time) *store.Version {
	return &store.Version{Type: typ, ID: id, VersionID: vid, Updated: at, Deleted: true,
		Method: store.MethodDelete, Writer: "client-test", PatientKey: "Patient/p1"}
}

// put writes v in its own transaction and fails the test on error.
func put(t *testing.T, s store.Store, v *store.Version, expect int64) {
	t.Helper()
	if err := tryPut(t.Context(), s, v, expect); err != nil {
		t.Fatalf("put %s/%s/_history/%d: %v", v.Type, v.ID, v.VersionID, err)
	}
}

func tryPut(ctx context.Context, s store.Store, v *store.Version, expect int64) error {
	return s.Write(ctx, func(tx store.Tx) error { return tx.Put(ctx, v, expect) })
}

// mustRead reads the current version and fails the test on error.
func mustRead(t *testing.T, s store.Store, typ, id string) store.Version {
	t.Helper()
	v, err := s.Read(t.Context(), typ, id)
	if err != nil {
		t.Fatalf("read %s/%s: %v", typ, id, err)
	}
	return v
}

// assertVersion fails the test unless got equals want in every field.
func assertVersion(t *testing.T, got, want store.Version) {
	t.Helper()
	if got.Type != want.Type || got.ID != want.ID || got.VersionID != want.VersionID ||
		got.Deleted != want.Deleted || got.Method != want.Method || got.Writer != want.Writer ||
		got.PatientKey != want.PatientKey || got.Seq != want.Seq {
		t.Errorf("version:\n got %s\nwant %s", describe(got), describe(want))
	}
	if !got.Updated.Equal(want.Updated) || got.Updated.Location() != time.UTC {
		t.Errorf("%s/%s/_history/%d: Updated = %v, want %v in UTC", got.Type, got.ID, got.VersionID, got.Updated, want.Updated)
	}
	if !bytes.Equal(got.Body, want.Body) || (got.Body == nil) != (want.Body == nil) {
		t.Errorf("%s/%s/_history/%d: Body = %.200q, want %.200q", got.Type, got.ID, got.VersionID, got.Body, want.Body)
	}
}

func describe(v store.Version) string {
	return fmt.Sprintf("%s/%s/_history/%d seq=%d deleted=%t method=%s writer=%q patient=%q",
		v.Type, v.ID, v.VersionID, v.Seq, v.Deleted, v.Method, v.Writer, v.PatientKey)
}

// assertKind fails the test unless err is an outcome error of kind k.
func assertKind(t *testing.T, err error, k outcome.Kind) {
	t.Helper()
	if !outcome.Is(err, k) {
		t.Fatalf("error = %v (kind %v), want kind %v", err, outcome.KindOf(err), k)
	}
}

func testMigrateIsIdempotent(t *testing.T, s store.Store) {
	ctx := t.Context()
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	v := newVersion("Patient", "a", 1, base)
	put(t, s, v, 0)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate with data: %v", err)
	}
	assertVersion(t, mustRead(t, s, "Patient", "a"), *v)
}

func testCreateThenRead(t *testing.T, s store.Store) {
	v := newVersion("Patient", "a", 1, base)
	put(t, s, v, 0)
	if v.Seq <= 0 {
		t.Fatalf("Put set Seq = %d, want > 0", v.Seq)
	}
	assertVersion(t, mustRead(t, s, "Patient", "a"), *v)
	got, err := s.ReadVersion(t.Context(), "Patient", "a", 1)
	if err != nil {
		t.Fatalf("read version: %v", err)
	}
	assertVersion(t, got, *v)
}

func testReadUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	put(t, s, newVersion("Patient", "a", 1, base), 0)
	_, err := s.Read(ctx, "Patient", "b")
	assertKind(t, err, outcome.NotFound)
	_, err = s.Read(ctx, "Observation", "a") // same id, other type
	assertKind(t, err, outcome.NotFound)
	_, err = s.ReadVersion(ctx, "Patient", "a", 2)
	assertKind(t, err, outcome.NotFound)
	_, err = s.ReadVersion(ctx, "Patient", "b", 1)
	assertKind(t, err, outcome.NotFound)
}

func testUpdateChain(t *testing.T, s store.Store) {
	var versions []*store.Version
	for vid := int64(1); vid <= 5; vid++ {
		v := newVersion("Patient", "a", vid, base.Add(time.Duration(vid)*time.Minute))
		put(t, s, v, vid-1)
		if len(versions) > 0 && v.Seq <= versions[len(versions)-1].Seq {
			t.Errorf("seq %d after %d: not increasing", v.Seq, versions[len(versions)-1].Seq)
		}
		versions = append(versions, v)
	}
	assertVersion(t, mustRead(t, s, "Patient", "a"), *versions[4])
	for _, want := range versions {
		got, err := s.ReadVersion(t.Context(), "Patient", "a", want.VersionID)
		if err != nil {
			t.Fatalf("read version %d: %v", want.VersionID, err)
		}
		assertVersion(t, got, *want)
	}
}

func testDeleteMarker(t *testing.T, s store.Store) {
	v1 := newVersion("Patient", "a", 1, base)
	put(t, s, v1, 0)
	del := deleteMarker("Patient", "a", 2, base.Add(time.Minute))
	put(t, s, del, 1)
	got := mustRead(t, s, "Patient", "a")
	assertVersion(t, got, *del)
	if got.Body != nil {
		t.Errorf("delete marker body = %q, want nil", got.Body)
	}
	old, err := s.ReadVersion(t.Context(), "Patient", "a", 1)
	if err != nil {
		t.Fatalf("read version 1 after delete: %v", err)
	}
	assertVersion(t, old, *v1)
	// A deleted resource is recreated by an update from the marker.
	v3 := newVersion("Patient", "a", 3, base.Add(2*time.Minute))
	put(t, s, v3, 2)
	assertVersion(t, mustRead(t, s, "Patient", "a"), *v3)
}

// testBodyRoundTrip stores bodies a JSON re-encoder would change (number
// text, key order, duplicate keys, escapes, whitespace, non-ASCII, size)
// and expects exactly the same bytes back.
func testBodyRoundTrip(t *testing.T, s store.Store) {
	var big bytes.Buffer
	big.WriteString(`{"resourceType":"Binary","z":1.50,"a":1e400,"n":-0.0,"dup":1,"dup":2,` +
		`"u":"ñ 漢字 😀 \u00e9 \"q\" \\","data":"`)
	for i := big.Len(); i < 3<<20; i++ {
		big.WriteByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i%64])
	}
	big.WriteString("\"}\n  ")
	bodies := [][]byte{
		[]byte(`{"resourceType":"Observation","valueQuantity":{"value":1.50,"unit":"mg"},"b":1,"a":2}`),
		[]byte("{ \"resourceType\" : \"Patient\",\n\t\"name\":[{\"text\":\"Zoë Ångström 山田 🩺\"}] }"),
		big.Bytes(),
	}
	for i, body := range bodies {
		v := newVersion("Binary", fmt.Sprint("b", i), 1, base)
		v.Body = body
		put(t, s, v, 0)
		got := mustRead(t, s, v.Type, v.ID)
		if !bytes.Equal(got.Body, body) {
			t.Errorf("body %d (%d bytes) changed: got %d bytes %.120q", i, len(body), len(got.Body), got.Body)
		}
	}
}

func testWriterAndPatientKey(t *testing.T, s store.Store) {
	v1 := newVersion("Observation", "o", 1, base)
	v1.Writer, v1.PatientKey = "org-42/client-7", "Patient/alice"
	put(t, s, v1, 0)
	v2 := newVersion("Observation", "o", 2, base.Add(time.Second))
	v2.Writer, v2.PatientKey = "org-43/client-8", "Patient/bob" // moved to another compartment
	put(t, s, v2, 1)
	v3 := newVersion("Organization", "org", 1, base)
	v3.Writer, v3.PatientKey = "admin", "" // outside any compartment
	put(t, s, v3, 0)

	assertVersion(t, mustRead(t, s, "Observation", "o"), *v2)
	assertVersion(t, mustRead(t, s, "Organization", "org"), *v3)
	got, err := s.ReadVersion(t.Context(), "Observation", "o", 1)
	if err != nil {
		t.Fatal(err)
	}
	assertVersion(t, got, *v1)
	want := []*store.Version{v3, v2, v1}
	i := 0
	for h, err := range s.History(t.Context(), store.HistoryQuery{Access: store.AccessAll}) {
		if err != nil {
			t.Fatal(err)
		}
		if i < len(want) {
			assertVersion(t, h, *want[i])
		}
		i++
	}
	if i != len(want) {
		t.Errorf("history has %d versions, want %d", i, len(want))
	}
}

func testUpdatedPrecision(t *testing.T, s store.Store) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := time.Date(2024, 3, 1, 14, 0, 0, 123456789, zone)
	v := newVersion("Patient", "a", 1, at)
	put(t, s, v, 0)
	want := at.Truncate(time.Microsecond)
	if !v.Updated.Equal(want) || v.Updated.Location() != time.UTC {
		t.Errorf("after Put, Updated = %v, want %v in UTC", v.Updated, want)
	}
	got := mustRead(t, s, "Patient", "a")
	if !got.Updated.Equal(want) || got.Updated.Location() != time.UTC {
		t.Errorf("Read Updated = %v, want %v in UTC", got.Updated, want)
	}
}
