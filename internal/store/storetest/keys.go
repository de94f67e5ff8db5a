package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// keyedTests exercise the keyed store (store.Keyed).
var keyedTests = []test{
	{"KeyPutGetReplace", testKeyPutGetReplace},
	{"KeyMissingIsNotFound", testKeyMissing},
	{"KeyExpiredIsInvisible", testKeyExpired},
	{"KeyPurge", testKeyPurge},
	{"KeyInsertConflict", testKeyInsertConflict},
	{"KeyTakeOnce", testKeyTakeOnce},
	{"KeyConcurrentTakeOneWins", testKeyConcurrentTake},
	{"KeyConcurrentInsertOneWins", testKeyConcurrentInsert},
	{"KeyDeleteGroup", testKeyDeleteGroup},
	{"KeyList", testKeyList},
	{"KeyValueRoundTripIsByteExact", testKeyValueRoundTrip},
	{"KeyNamespacesIsolate", testKeyNamespacesIsolate},
}

// Expiries relative to the real clock, which the stores compare against.
func past() time.Time   { return time.Now().Add(-time.Hour) }
func future() time.Time { return time.Now().Add(time.Hour) }

func putKey(t *testing.T, s store.Store, k store.Key, value string, expires time.Time) {
	t.Helper()
	if err := s.PutKey(t.Context(), k, []byte(value), expires); err != nil {
		t.Fatalf("put key %s/%s: %v", k.NS, k.Key, err)
	}
}

// assertKey fails the test unless GetKey finds want at ns/key.
func assertKey(t *testing.T, s store.Store, ns, key, want string) {
	t.Helper()
	got, err := s.GetKey(t.Context(), ns, key)
	if err != nil {
		t.Fatalf("get key %s/%s: %v", ns, key, err)
	}
	if string(got) != want {
		t.Errorf("key %s/%s = %q, want %q", ns, key, got, want)
	}
}

// assertNoKey fails the test unless GetKey finds nothing at ns/key.
func assertNoKey(t *testing.T, s store.Store, ns, key string) {
	t.Helper()
	got, err := s.GetKey(t.Context(), ns, key)
	if !outcome.Is(err, outcome.NotFound) {
		t.Errorf("get key %s/%s = %q, %v; want not found", ns, key, got, err)
	}
}

// keyNames lists the keys ListKeys returns for ns and prefix, space-separated.
func keyNames(t *testing.T, s store.Store, ns, prefix string, limit int) string {
	t.Helper()
	list, err := s.ListKeys(t.Context(), ns, prefix, limit)
	if err != nil {
		t.Fatalf("list keys %s/%s*: %v", ns, prefix, err)
	}
	names := make([]string, len(list))
	for i, kv := range list {
		if kv.Key.NS != ns {
			t.Errorf("list keys %s: entry %q has namespace %q", ns, kv.Key.Key, kv.Key.NS)
		}
		names[i] = kv.Key.Key
	}
	return strings.Join(names, " ")
}

func testKeyPutGetReplace(t *testing.T, s store.Store) {
	const ns = "oauth.client"
	exp := future().Truncate(time.Microsecond)
	steps := []struct {
		value, group string
		expires      time.Time
	}{
		{`{"v":1}`, "g1", time.Time{}},
		{`{"v":2}`, "g2", exp},       // replaces value, group and expiry
		{`{"v":3}`, "", time.Time{}}, // and back to no group, no expiry
	}
	for _, step := range steps {
		putKey(t, s, store.Key{NS: ns, Key: "c1", Group: step.group}, step.value, step.expires)
		assertKey(t, s, ns, "c1", step.value)
		list, err := s.ListKeys(t.Context(), ns, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		want := store.KeyValue{Key: store.Key{NS: ns, Key: "c1", Group: step.group}, Value: []byte(step.value), Expires: step.expires}
		if len(list) != 1 || !sameKeyValue(list[0], want) {
			t.Errorf("after put %s: list = %+v, want [%+v]", step.value, list, want)
		}
	}
	// The replaced groups no longer hold the entry.
	ctx := t.Context()
	if err := s.DeleteGroup(ctx, ns, "g1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, ns, "g2"); err != nil {
		t.Fatal(err)
	}
	assertKey(t, s, ns, "c1", `{"v":3}`)
}

// sameKeyValue compares entries, expiries as instants in UTC.
func sameKeyValue(got, want store.KeyValue) bool {
	return got.Key == want.Key && bytes.Equal(got.Value, want.Value) && got.Expires.Equal(want.Expires) &&
		(got.Expires.IsZero() || got.Expires.Location() == time.UTC)
}

func testKeyMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	putKey(t, s, store.Key{NS: "oauth.code", Key: "present"}, "v", time.Time{})
	for _, key := range []string{"absent", "Present", "present ", "pres"} {
		assertNoKey(t, s, "oauth.code", key)
		_, err := s.TakeKey(ctx, "oauth.code", key)
		assertKind(t, err, outcome.NotFound)
		if err := s.DeleteKey(ctx, "oauth.code", key); err != nil {
			t.Errorf("delete missing key %q: %v", key, err)
		}
	}
	assertKey(t, s, "oauth.code", "present", "v")
	if got := keyNames(t, s, "empty.ns", "", 0); got != "" {
		t.Errorf("list of an empty namespace = %q", got)
	}
}

// testKeyExpired: an entry whose expiry has passed is not returned by any
// read, though it is still stored until purged.
func testKeyExpired(t *testing.T, s store.Store) {
	const ns = "oauth.code"
	ctx := t.Context()
	putKey(t, s, store.Key{NS: ns, Key: "old"}, "v-old", past())
	putKey(t, s, store.Key{NS: ns, Key: "live"}, "v-live", future())
	putKey(t, s, store.Key{NS: ns, Key: "forever"}, "v-forever", time.Time{})
	putKey(t, s, store.Key{NS: ns, Key: "epoch"}, "v-epoch", time.Unix(0, 0)) // not "never"
	putKey(t, s, store.Key{NS: ns, Key: "was-live"}, "v", future())
	putKey(t, s, store.Key{NS: ns, Key: "was-live"}, "v", past()) // a put can expire an entry

	for _, key := range []string{"old", "epoch", "was-live"} {
		assertNoKey(t, s, ns, key)
		_, err := s.TakeKey(ctx, ns, key)
		assertKind(t, err, outcome.NotFound)
	}
	assertKey(t, s, ns, "live", "v-live")
	assertKey(t, s, ns, "forever", "v-forever")
	if got := keyNames(t, s, ns, "", 0); got != "forever live" {
		t.Errorf("list = %q, want the unexpired entries", got)
	}
	// TakeKey of an expired entry left it in place for PurgeKeys.
	n, err := s.PurgeKeys(ctx, time.Now())
	if err != nil || n != 3 {
		t.Errorf("purge = %d, %v; want the 3 expired entries", n, err)
	}
}

func testKeyPurge(t *testing.T, s store.Store) {
	const ns = "oauth.jti"
	ctx := t.Context()
	now := time.Now()
	at := now.Add(30 * time.Minute).Truncate(time.Microsecond)
	for i := range 5 {
		putKey(t, s, store.Key{NS: ns, Key: fmt.Sprint("past-", i)}, "v", now.Add(-time.Duration(i+1)*time.Minute))
	}
	putKey(t, s, store.Key{NS: "other.ns", Key: "past"}, "v", now.Add(-time.Minute))
	putKey(t, s, store.Key{NS: ns, Key: "at"}, "v", at)
	putKey(t, s, store.Key{NS: ns, Key: "later"}, "v", at.Add(time.Microsecond))
	putKey(t, s, store.Key{NS: ns, Key: "forever"}, "v", time.Time{})
	for _, step := range []struct {
		now  time.Time
		want int64
		left string
	}{
		{now, 6, "at forever later"}, // the past ones, in every namespace
		{now, 0, "at forever later"}, // nothing left to purge
		{at.Add(-time.Microsecond), 0, "at forever later"},
		{at, 1, "forever later"},               // an entry expires at its expiry
		{at.Add(24 * time.Hour), 1, "forever"}, // "later"; a zero expiry never expires
		{now.Add(100 * 365 * 24 * time.Hour), 0, "forever"},
	} {
		n, err := s.PurgeKeys(ctx, step.now)
		if err != nil {
			t.Fatal(err)
		}
		if n != step.want {
			t.Errorf("purge at %v removed %d, want %d", step.now, n, step.want)
		}
		// ListKeys hides what is expired at the real clock; "at" and
		// "later" are not yet, so this shows what is stored.
		if got := keyNames(t, s, ns, "", 0); got != step.left {
			t.Errorf("after purge at %v: keys %q, want %q", step.now, got, step.left)
		}
	}
	assertNoKey(t, s, "other.ns", "past")
}

func testKeyInsertConflict(t *testing.T, s store.Store) {
	const ns = "oauth.jti"
	ctx := t.Context()
	insert := func(key, value, group string, expires time.Time) error {
		return s.InsertKey(ctx, store.Key{NS: ns, Key: key, Group: group}, []byte(value), expires)
	}
	putKey(t, s, store.Key{NS: ns, Key: "expired"}, "old", past())
	putKey(t, s, store.Key{NS: ns, Key: "forever"}, "kept", time.Time{})
	for _, tc := range []struct {
		name, key, value string
		expires          time.Time
		conflict         bool
		want             string // the value afterwards; "" for none visible
	}{
		{"new", "j1", "first", future(), false, "first"},
		{"again", "j1", "second", future(), true, "first"},
		{"over expired", "expired", "new", future(), false, "new"},
		{"over never-expiring", "forever", "new", future(), true, "kept"},
		{"already expired", "j2", "gone", past(), false, ""},
		{"over that", "j2", "back", time.Time{}, false, "back"},
	} {
		err := insert(tc.key, tc.value, "g", tc.expires)
		switch {
		case tc.conflict:
			assertKind(t, err, outcome.Conflict)
		case err != nil:
			t.Fatalf("%s: insert: %v", tc.name, err)
		}
		if tc.want == "" {
			assertNoKey(t, s, ns, tc.key)
		} else {
			assertKey(t, s, ns, tc.key, tc.want)
		}
	}
	// The insert over an expired entry took its group and expiry too.
	if err := s.DeleteGroup(ctx, ns, "g"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"j1", "expired", "j2"} {
		assertNoKey(t, s, ns, key)
	}
	assertKey(t, s, ns, "forever", "kept")
	// A deleted entry can be inserted again.
	if err := s.DeleteKey(ctx, ns, "forever"); err != nil {
		t.Fatal(err)
	}
	if err := insert("forever", "again", "", time.Time{}); err != nil {
		t.Fatalf("insert after delete: %v", err)
	}
	assertKey(t, s, ns, "forever", "again")
}

func testKeyTakeOnce(t *testing.T, s store.Store) {
	const ns = "oauth.code"
	ctx := t.Context()
	putKey(t, s, store.Key{NS: ns, Key: "code-1", Group: "grant-1"}, "grant", future())
	putKey(t, s, store.Key{NS: ns, Key: "code-2"}, "other", future())
	got, err := s.TakeKey(ctx, ns, "code-1")
	if err != nil || string(got) != "grant" {
		t.Fatalf("take = %q, %v; want the value", got, err)
	}
	for range 2 {
		_, err = s.TakeKey(ctx, ns, "code-1")
		assertKind(t, err, outcome.NotFound)
	}
	assertNoKey(t, s, ns, "code-1")
	assertKey(t, s, ns, "code-2", "other")
	// A taken key is gone, so it can be put again.
	putKey(t, s, store.Key{NS: ns, Key: "code-1"}, "reused", time.Time{})
	assertKey(t, s, ns, "code-1", "reused")
}

// testKeyConcurrentTake races 8 callers to take each of several one-time
// codes: exactly one gets it, the rest find nothing.
func testKeyConcurrentTake(t *testing.T, s store.Store) {
	const ns, n, rounds = "oauth.code", 8, 10
	ctx := t.Context()
	for r := range rounds {
		key := fmt.Sprint("code-", r)
		putKey(t, s, store.Key{NS: ns, Key: key}, "v-"+key, future())
		got := make([][]byte, n)
		errs := race(n, func(i int) error {
			var err error
			got[i], err = s.TakeKey(ctx, ns, key)
			if outcome.Is(err, outcome.NotFound) {
				return outcome.New(outcome.Conflict, "lost") // what assertOneWinner counts
			}
			return err
		})
		winner := assertOneWinner(t, errs)
		if string(got[winner]) != "v-"+key {
			t.Errorf("%s: winner took %q", key, got[winner])
		}
		assertNoKey(t, s, ns, key)
	}
}

// testKeyConcurrentInsert races 8 callers to remember the same JWT id:
// exactly one inserts it, the rest see a replay.
func testKeyConcurrentInsert(t *testing.T, s store.Store) {
	const ns, n = "oauth.jti", 8
	ctx := t.Context()
	for _, key := range []string{"jti-new", "jti-expired"} {
		if key == "jti-expired" {
			putKey(t, s, store.Key{NS: ns, Key: key}, "old", past())
		}
		errs := race(n, func(i int) error {
			return s.InsertKey(ctx, store.Key{NS: ns, Key: key}, fmt.Append(nil, "caller-", i), future())
		})
		winner := assertOneWinner(t, errs)
		assertKey(t, s, ns, key, fmt.Sprint("caller-", winner))
	}
}

func testKeyDeleteGroup(t *testing.T, s store.Store) {
	const ns = "oauth.token"
	ctx := t.Context()
	for _, k := range []store.Key{
		{NS: ns, Key: "t1", Group: "grant-1"},
		{NS: ns, Key: "t2", Group: "grant-1"},
		{NS: ns, Key: "t3", Group: "grant-2"},
		{NS: ns, Key: "t4"},
		{NS: "oauth.code", Key: "t5", Group: "grant-1"}, // same group, other namespace
	} {
		putKey(t, s, k, "v", future())
	}
	putKey(t, s, store.Key{NS: ns, Key: "t6", Group: "grant-1"}, "v", past()) // expired: removed too
	for _, step := range []struct {
		group string
		left  string
	}{
		{"grant-1", "t3 t4"},
		{"grant-1", "t3 t4"}, // again: nothing left to remove
		{"unknown", "t3 t4"},
		{"", "t3 t4"}, // entries without a group are in none
		{"GRANT-2", "t3 t4"},
		{"grant-2", "t4"},
	} {
		if err := s.DeleteGroup(ctx, ns, step.group); err != nil {
			t.Fatalf("delete group %q: %v", step.group, err)
		}
		if got := keyNames(t, s, ns, "", 0); got != step.left {
			t.Errorf("after delete group %q: keys %q, want %q", step.group, got, step.left)
		}
	}
	assertKey(t, s, "oauth.code", "t5", "v")
	n, err := s.PurgeKeys(ctx, time.Now())
	if err != nil || n != 0 {
		t.Errorf("purge = %d, %v; want 0: the expired group member went with its group", n, err)
	}
}

func testKeyList(t *testing.T, s store.Store) {
	const ns = "oauth.client"
	keys := []string{"client/1", "client/10", "client/2", "client0", "clients", "cli",
		"Zed", "apple", "b", "ä", "é1", "éa", "ê", "\U0010FFFF"}
	for _, k := range keys {
		putKey(t, s, store.Key{NS: ns, Key: k}, "v-"+k, future())
	}
	putKey(t, s, store.Key{NS: ns, Key: "client/05"}, "v", past())          // expired
	putKey(t, s, store.Key{NS: "other", Key: "client/3"}, "v", time.Time{}) // other namespace
	all := "Zed apple b cli client/1 client/10 client/2 client0 clients ä é1 éa ê \U0010FFFF"
	for _, tc := range []struct {
		prefix string
		limit  int
		want   string
	}{
		{"", 0, all}, // byte (code point) order, not a locale's
		{"", 3, "Zed apple b"},
		{"", 100, all},
		{"client/", 0, "client/1 client/10 client/2"},
		{"client/", 2, "client/1 client/10"},
		{"client/1", 0, "client/1 client/10"},
		{"client", 0, "client/1 client/10 client/2 client0 clients"},
		{"cli", 1, "cli"},
		{"client/3", 0, ""},
		{"Client", 0, ""},
		{"é", 0, "é1 éa"},
		{"ä", 0, "ä"},
		{"\U0010FFFF", 0, "\U0010FFFF"},
		{"zzz", 0, ""},
	} {
		if got := keyNames(t, s, ns, tc.prefix, tc.limit); got != tc.want {
			t.Errorf("list %q limit %d = %q, want %q", tc.prefix, tc.limit, got, tc.want)
		}
	}
}

// testKeyValueRoundTrip stores values as opaque bytes: not text, not JSON.
func testKeyValueRoundTrip(t *testing.T, s store.Store) {
	const ns = "keys.signing"
	ctx := t.Context()
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>8)
	}
	for i, value := range [][]byte{
		nil,
		{},
		{0},
		{0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80}, // not UTF-8, NULs
		[]byte("{ \"b\":1.50, \"a\":1e400,\n\"a\":2 }  "),
		[]byte(`\x00 \\x41 'quoted' "double" ; --`),
		big,
	} {
		key := fmt.Sprint("k", i)
		if err := s.PutKey(ctx, store.Key{NS: ns, Key: key}, value, time.Time{}); err != nil {
			t.Fatalf("put value %d: %v", i, err)
		}
		got, err := s.GetKey(ctx, ns, key)
		if err != nil || !bytes.Equal(got, value) {
			t.Errorf("get value %d (%d bytes) = %d bytes %.40q, %v", i, len(value), len(got), got, err)
		}
		list, err := s.ListKeys(ctx, ns, key, 1)
		if err != nil || len(list) != 1 || !bytes.Equal(list[0].Value, value) {
			t.Errorf("list value %d: %d entries, %v", i, len(list), err)
		}
		got, err = s.TakeKey(ctx, ns, key)
		if err != nil || !bytes.Equal(got, value) {
			t.Errorf("take value %d (%d bytes) = %d bytes %.40q, %v", i, len(value), len(got), got, err)
		}
	}
}

// testKeyNamespacesIsolate: the same key in two namespaces is two entries.
func testKeyNamespacesIsolate(t *testing.T, s store.Store) {
	ctx := t.Context()
	const a, b = "oauth.code", "oauth.jti"
	putKey(t, s, store.Key{NS: a, Key: "k", Group: "g"}, "in a", future())
	putKey(t, s, store.Key{NS: b, Key: "k", Group: "g"}, "in b", future())
	putKey(t, s, store.Key{NS: a + "x", Key: "k"}, "in ax", future()) // a namespace is not a prefix
	assertKey(t, s, a, "k", "in a")
	assertKey(t, s, b, "k", "in b")
	assertNoKey(t, s, "oauth", "k")
	for _, ns := range []string{a, b} {
		if got := keyNames(t, s, ns, "", 0); got != "k" {
			t.Errorf("list %s = %q, want one entry", ns, got)
		}
	}
	if err := s.InsertKey(ctx, store.Key{NS: "oauth.refresh", Key: "k"}, []byte("in c"), future()); err != nil {
		t.Errorf("insert k in a third namespace: %v", err)
	}
	if got, err := s.TakeKey(ctx, a, "k"); err != nil || string(got) != "in a" {
		t.Fatalf("take from %s = %q, %v", a, got, err)
	}
	assertKey(t, s, b, "k", "in b")
	if err := s.DeleteGroup(ctx, a, "g"); err != nil {
		t.Fatal(err)
	}
	assertKey(t, s, b, "k", "in b")
	if err := s.DeleteKey(ctx, b, "k"); err != nil {
		t.Fatal(err)
	}
	assertNoKey(t, s, b, "k")
	assertKey(t, s, a+"x", "k", "in ax")
	assertKey(t, s, "oauth.refresh", "k", "in c")
}
