package deposit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/deposit"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/synthea"
)

// pool hands out converted Synthea deposit Bundles, each used once: a
// round converts every patient again under a new source system, so every
// deposit creates new records (the citizens are registered once).
type pool struct {
	tb      testing.TB
	sources []map[string]any
	round   int
	next    []map[string]any
}

func (p *pool) take() map[string]any {
	if len(p.next) == 0 {
		p.round++
		for _, b := range p.sources {
			c, err := synthea.Convert(b, synthea.Options{Organization: "clinic", SourceSystem: fmt.Sprint("synthea-", p.round)})
			if err != nil {
				p.tb.Fatal(err)
			}
			p.next = append(p.next, c.Deposit)
		}
	}
	b := p.next[0]
	p.next = p.next[1:]
	return b
}

// BenchmarkDeposit deposits converted Synthea patients (about 200
// resources each) through the deposit service as the clinic's system
// client, by 1 and 8 concurrent clients (8 Bundles at a time), and reports
// resources/s and the search index rows per resource; Raw is the ceiling:
// the same resources' versions and index rows put straight into the store
// in one transaction per Bundle, with no FHIR processing.
func BenchmarkDeposit(b *testing.B) {
	sources := syntheaBundles(b)
	for _, be := range backends {
		b.Run(be.Name, func(b *testing.B) {
			st := be.Open(b)
			p, dep := newDeposit(b, st)
			for _, src := range sources {
				c, err := synthea.Convert(src, synthea.Options{Organization: "clinic"})
				if err != nil {
					b.Fatal(err)
				}
				register(b, p, c)
			}
			rows := indexRowsPerResource(b, sources)
			for _, clients := range []int{1, 8} {
				b.Run(fmt.Sprint("clients=", clients), func(b *testing.B) {
					bundles := &pool{tb: b, sources: sources}
					resources := 0
					for b.Loop() {
						b.StopTimer()
						wave := make([]map[string]any, clients)
						for i := range wave {
							wave[i] = bundles.take()
							resources += len(wave[i]["entry"].([]any))
						}
						b.StartTimer()
						depositWave(b, dep, wave)
					}
					b.ReportMetric(float64(resources)/b.Elapsed().Seconds(), "resources/s")
					b.ReportMetric(rows, "index-rows/resource")
				})
			}
			b.Run("raw", func(b *testing.B) { benchRaw(b, st, sources, rows) })
		})
	}
}

func depositWave(b *testing.B, dep *deposit.Service, wave []map[string]any) {
	var wg sync.WaitGroup
	errs := make([]error, len(wave))
	for i, bundle := range wave {
		wg.Go(func() {
			_, errs[i] = dep.Deposit(context.Background(), clinic(), bundle)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// indexer computes search index rows as the platform's does.
func indexer() *search.Indexer { return search.NewIndexer(search.NewRegistry(), search.Extractor{}) }

// indexRowsPerResource is the mean number of search index rows of the
// converted resources.
func indexRowsPerResource(b *testing.B, sources []map[string]any) float64 {
	ix := indexer()
	rows, n := 0, 0
	for _, src := range sources {
		c, err := synthea.Convert(src, synthea.Options{Organization: "clinic"})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range c.Deposit["entry"].([]any) {
			res := e.(map[string]any)["resource"].(map[string]any)
			entries, _, err := ix.Index(context.Background(), res, "")
			if err != nil {
				b.Fatal(err)
			}
			rows += len(entries)
			n++
		}
	}
	return float64(rows) / float64(n)
}

// benchRaw puts the converted resources' versions with their index rows
// straight into the store, one transaction per patient Bundle.
func benchRaw(b *testing.B, st store.Store, sources []map[string]any, rows float64) {
	ix := indexer()
	bundles := &pool{tb: b, sources: sources}
	resources := 0
	for b.Loop() {
		b.StopTimer()
		bundle := bundles.take()
		key := uuid.NewString()
		var versions []*store.Version
		for _, e := range bundle["entry"].([]any) {
			res := e.(map[string]any)["resource"].(map[string]any)
			typ := res["resourceType"].(string)
			res["id"] = uuid.NewString()
			entries, _, err := ix.Index(context.Background(), res, key)
			if err != nil {
				b.Fatal(err)
			}
			body, err := fhir.Marshal(res)
			if err != nil {
				b.Fatal(err)
			}
			versions = append(versions, &store.Version{Type: typ, ID: res["id"].(string), VersionID: 1, Updated: time.Now().UTC(),
				Method: store.MethodCreate, Writer: "Organization/clinic", PatientKey: key, Body: body, Index: entries})
		}
		resources += len(versions)
		b.StartTimer()
		err := st.Write(context.Background(), func(tx store.Tx) error {
			for _, v := range versions {
				if err := tx.Put(context.Background(), v, 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(resources)/b.Elapsed().Seconds(), "resources/s")
	b.ReportMetric(rows, "index-rows/resource")
}
