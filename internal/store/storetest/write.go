package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

var writeTests = []test{
	{"PutConflictOnCreate", testPutConflictOnCreate},
	{"PutConflictOnUpdate", testPutConflictOnUpdate},
	{"PutConflictLeavesTxUsable", testPutConflictLeavesTxUsable},
	{"PutRejectsMalformedVersion", testPutRejectsMalformed},
	{"TxSeesItsOwnWrites", testTxSeesOwnWrites},
	{"WriteErrorRollsBackEverything", testWriteErrorRollsBack},
	{"WritePanicRollsBack", testWritePanicRollsBack},
	{"WriteCanceledContext", testWriteCanceledContext},
}

func testPutConflictOnCreate(t *testing.T, s store.Store) {
	v1 := newVersion("Patient", "a", 1, base)
	put(t, s, v1, 0)
	again := newVersion("Patient", "a", 1, base.Add(time.Second))
	again.Body = []byte(`{"resourceType":"Patient","id":"a","other":true}`)
	assertKind(t, tryPut(t.Context(), s, again, 0), outcome.Conflict)
	assertVersion(t, mustRead(t, s, "Patient", "a"), *v1)
	assertHistoryLen(t, s, store.HistoryQuery{Access: store.AccessAll}, 1)
}

func testPutConflictOnUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	v1 := newVersion("Patient", "a", 1, base)
	put(t, s, v1, 0)
	v2 := newVersion("Patient", "a", 2, base.Add(time.Second))
	put(t, s, v2, 1)
	for _, expect := range []int64{1, 3, 7} { // stale, ahead, far ahead
		v := newVersion("Patient", "a", expect+1, base.Add(time.Minute))
		assertKind(t, tryPut(ctx, s, v, expect), outcome.Conflict)
	}
	// An update of a resource that does not exist is a conflict too: the
	// caller read a version that is not there.
	assertKind(t, tryPut(ctx, s, newVersion("Patient", "nope", 2, base), 1), outcome.Conflict)
	assertVersion(t, mustRead(t, s, "Patient", "a"), *v2)
	_, err := s.ReadVersion(ctx, "Patient", "a", 3)
	assertKind(t, err, outcome.NotFound)
	_, err = s.Read(ctx, "Patient", "nope")
	assertKind(t, err, outcome.NotFound)
	assertHistoryLen(t, s, store.HistoryQuery{Access: store.AccessAll}, 2)
}

// testPutConflictLeavesTxUsable: a losing Put writes nothing, and the rest
// of the transaction still commits if fn chooses to go on.
func testPutConflictLeavesTxUsable(t *testing.T, s store.Store) {
	ctx := t.Context()
	put(t, s, newVersion("Patient", "a", 1, base), 0)
	b := newVersion("Patient", "b", 1, base)
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.Put(ctx, newVersion("Patient", "a", 1, base), 0); !outcome.Is(err, outcome.Conflict) {
			t.Errorf("put existing: %v, want conflict", err)
		}
		return tx.Put(ctx, b, 0)
	})
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	assertVersion(t, mustRead(t, s, "Patient", "b"), *b)
	assertHistoryLen(t, s, store.HistoryQuery{Access: store.AccessAll}, 2)
}

func testPutRejectsMalformed(t *testing.T, s store.Store) {
	put(t, s, newVersion("Patient", "a", 1, base), 0)
	skip := newVersion("Patient", "a", 3, base) // version 3 cannot follow 1
	noTime := newVersion("Patient", "a", 2, time.Time{})
	bodyOnDelete := deleteMarker("Patient", "a", 2, base)
	bodyOnDelete.Body = []byte(`{}`)
	noBody := newVersion("Patient", "a", 2, base)
	noBody.Body = nil
	for name, v := range map[string]*store.Version{"skip": skip, "noTime": noTime, "bodyOnDelete": bodyOnDelete, "noBody": noBody} {
		expect := int64(1)
		err := tryPut(t.Context(), s, v, expect)
		if err == nil || outcome.Is(err, outcome.Conflict) {
			t.Errorf("%s: put = %v, want a non-conflict error", name, err)
		}
	}
	assertHistoryLen(t, s, store.HistoryQuery{Access: store.AccessAll}, 1)
}

func testTxSeesOwnWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	v1 := newVersion("Patient", "a", 1, base)
	v2 := newVersion("Patient", "a", 2, base.Add(time.Second))
	err := s.Write(ctx, func(tx store.Tx) error {
		if _, err := tx.Read(ctx, "Patient", "a"); !outcome.Is(err, outcome.NotFound) {
			t.Errorf("tx read before put: %v, want not found", err)
		}
		if err := tx.Put(ctx, v1, 0); err != nil {
			return err
		}
		cur, err := tx.Read(ctx, "Patient", "a")
		if err != nil {
			return err
		}
		assertVersion(t, cur, *v1)
		if err := tx.Put(ctx, v2, cur.VersionID); err != nil {
			return err
		}
		old, err := tx.ReadVersion(ctx, "Patient", "a", 1)
		if err != nil {
			return err
		}
		assertVersion(t, old, *v1)
		cur, err = tx.Read(ctx, "Patient", "a")
		assertVersion(t, cur, *v2)
		return err
	})
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	assertVersion(t, mustRead(t, s, "Patient", "a"), *v2)
}

var errBoom = errors.New("boom")

// writeThenFail puts creates, an update and a delete, then ends fn with fail.
func writeThenFail(ctx context.Context, s store.Store, fail func() error) error {
	return s.Write(ctx, func(tx store.Tx) error {
		for _, v := range []*store.Version{newVersion("Patient", "new1", 1, base), newVersion("Observation", "new2", 1, base)} {
			if err := tx.Put(ctx, v, 0); err != nil {
				return err
			}
		}
		if err := tx.Put(ctx, newVersion("Patient", "old", 2, base.Add(time.Second)), 1); err != nil {
			return err
		}
		if err := tx.Put(ctx, deleteMarker("Patient", "gone", 2, base.Add(time.Second)), 1); err != nil {
			return err
		}
		return fail()
	})
}

// assertRolledBack checks nothing writeThenFail wrote is visible.
func assertRolledBack(t *testing.T, s store.Store, old, gone *store.Version) {
	t.Helper()
	ctx := t.Context()
	for _, ref := range [][2]string{{"Patient", "new1"}, {"Observation", "new2"}} {
		_, err := s.Read(ctx, ref[0], ref[1])
		assertKind(t, err, outcome.NotFound)
	}
	assertVersion(t, mustRead(t, s, "Patient", "old"), *old)
	assertVersion(t, mustRead(t, s, "Patient", "gone"), *gone)
	assertHistoryLen(t, s, store.HistoryQuery{Access: store.AccessAll}, 2)
	// The store still takes writes afterwards.
	put(t, s, newVersion("Patient", "new1", 1, base), 0)
}

func testWriteErrorRollsBack(t *testing.T, s store.Store) {
	old, gone := newVersion("Patient", "old", 1, base), newVersion("Patient", "gone", 1, base)
	put(t, s, old, 0)
	put(t, s, gone, 0)
	err := writeThenFail(t.Context(), s, func() error { return errBoom })
	if !errors.Is(err, errBoom) {
		t.Fatalf("write = %v, want fn's error", err)
	}
	assertRolledBack(t, s, old, gone)
}

func testWritePanicRollsBack(t *testing.T, s store.Store) {
	old, gone := newVersion("Patient", "old", 1, base), newVersion("Patient", "gone", 1, base)
	put(t, s, old, 0)
	put(t, s, gone, 0)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic passed on", r)
			}
		}()
		writeThenFail(t.Context(), s, func() error { panic("boom") })
	}()
	assertRolledBack(t, s, old, gone)
}

func testWriteCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := tryPut(ctx, s, newVersion("Patient", "a", 1, base), 0); err == nil {
		t.Fatal("write with canceled context succeeded")
	}
	_, err := s.Read(t.Context(), "Patient", "a")
	assertKind(t, err, outcome.NotFound)
}
