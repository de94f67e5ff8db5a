package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// Benchmark runs the storage benchmarks against the stores open returns
// (one fresh, migrated store per sub-benchmark): single-version write
// transactions, 100-version transactions, and reads of current and past
// versions. Bodies are about 1 KiB, a typical Patient.
func Benchmark(b *testing.B, open func(tb testing.TB) store.Store) {
	fresh := func(b *testing.B) store.Store {
		b.Helper()
		s := open(b)
		b.Cleanup(func() { s.Close() })
		if err := s.Migrate(b.Context()); err != nil {
			b.Fatalf("migrate: %v", err)
		}
		return s
	}
	b.Run("Put", func(b *testing.B) { benchPut(b, fresh(b), 1) })
	b.Run("Tx100", func(b *testing.B) { benchPut(b, fresh(b), 100) })
	b.Run("Read", func(b *testing.B) { benchRead(b, fresh(b), false) })
	b.Run("ReadVersion", func(b *testing.B) { benchRead(b, fresh(b), true) })
	b.Run("PutIndexed30", func(b *testing.B) { benchPutIndexed(b, fresh(b)) })
	b.Run("UpdateIndexed30", func(b *testing.B) { benchUpdateIndexed(b, fresh(b)) })
	b.Run("Search20k", func(b *testing.B) { benchSearch(b, fresh(b)) })
}

var benchBody = []byte(`{"resourceType":"Patient","meta":{"versionId":"1","lastUpdated":"2024-03-01T08:30:00.123456Z"},` +
	`"identifier":[{"system":"urn:oid:1.2.246.21","value":"010190-123A"}],"name":[{"family":"Virtanen","given":["Aino","Maria"]}],` +
	`"gender":"female","birthDate":"1990-01-01","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` +
	strings.Repeat("Aino Maria Virtanen, born 1990-01-01. ", 20) + `</div>"}}`)

func benchVersion(id string, vid int64) *store.Version {
	m := store.MethodUpdate
	if vid == 1 {
		m = store.MethodCreate
	}
	return &store.Version{Type: "Patient", ID: id, VersionID: vid, Updated: time.Now(),
		Method: m, Writer: "bench", PatientKey: "Patient/" + id, Body: benchBody}
}

// benchPut creates perTx new resources per write transaction.
func benchPut(b *testing.B, s store.Store, perTx int) {
	ctx := b.Context()
	n := 0
	for b.Loop() {
		err := s.Write(ctx, func(tx store.Tx) error {
			for range perTx {
				n++
				if err := tx.Put(ctx, benchVersion(fmt.Sprint("p", n), 1), 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/version")
}

// benchRead reads 1,000 resources of 3 versions each round-robin: the
// current version, or version 2 with versions set.
func benchRead(b *testing.B, s store.Store, versions bool) {
	ctx := b.Context()
	const resources = 1000
	err := s.Write(ctx, func(tx store.Tx) error {
		for i := range resources {
			for vid := int64(1); vid <= 3; vid++ {
				if err := tx.Put(ctx, benchVersion(fmt.Sprint("p", i), vid), vid-1); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		id := fmt.Sprint("p", i%resources)
		i++
		var err error
		if versions {
			_, err = s.ReadVersion(ctx, "Patient", id, 2)
		} else {
			_, err = s.Read(ctx, "Patient", id)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
