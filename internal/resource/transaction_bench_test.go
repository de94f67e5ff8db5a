package resource_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// syntheaDir holds Synthea R4 transaction Bundles, one patient each; the
// benchmarks skip where it is absent.
const syntheaDir = "../../../shared/testdata/synthea/smart-sample"

// syntheaBundles is how many of the Synthea patients the benchmarks cycle
// through: enough to mix small and large records, few enough to load fast.
const syntheaBundles = 8

// idToken stands for the first 8 hex digits of every urn:uuid in a
// template; each deposit puts a fresh counter there, so each writes new
// resources. patientToken stands for the registered citizen's id.
const (
	idToken      = "@@@@@@@@"
	patientToken = "@@PATIENT@@"
)

// depositTemplate is one Synthea patient's record as a provider deposits
// it into a registered citizen's record: the Synthea Patient entry
// dropped and every reference to it pointing at the citizen's master
// Patient, every other entry a POST linked by urn:uuid.
type depositTemplate struct {
	raw       []byte
	resources int
}

// loadDepositTemplates reads the Synthea bundles, skipping the benchmark
// when they are absent.
func loadDepositTemplates(tb testing.TB) []depositTemplate {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(syntheaDir, "*_*.json.gz"))
	var out []depositTemplate
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "Information") {
			continue // the hospital and practitioner lists, not patients
		}
		if len(out) == syntheaBundles {
			break
		}
		out = append(out, depositTemplateOf(tb, f))
	}
	if len(out) == 0 {
		tb.Skipf("no Synthea bundles in %s", syntheaDir)
	}
	return out
}

func depositTemplateOf(tb testing.TB, path string) depositTemplate {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	bundle, err := fhir.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	var kept []any
	var patientURL string
	var ids []string
	for _, item := range bundle["entry"].([]any) {
		e := item.(map[string]any)
		res := e["resource"].(map[string]any)
		full, _ := e["fullUrl"].(string)
		if res["resourceType"] == "Patient" {
			patientURL = full
			continue
		}
		delete(res, "id")
		ids = append(ids, strings.TrimPrefix(full, "urn:uuid:"))
		kept = append(kept, e)
	}
	bundle["entry"] = kept
	out, err := fhir.Marshal(bundle)
	if err != nil {
		tb.Fatal(err)
	}
	s := strings.ReplaceAll(string(out), `"`+patientURL+`"`, `"Patient/`+patientToken+`"`)
	for _, id := range ids {
		s = strings.ReplaceAll(s, "urn:uuid:"+id, "urn:uuid:"+idToken+id[8:])
	}
	return depositTemplate{raw: []byte(s), resources: len(kept)}
}

// instance is the template's bundle with fresh urn:uuids (from n) for the
// citizen patient.
func (t depositTemplate) instance(tb testing.TB, n uint32, patient string) map[string]any {
	raw := bytes.ReplaceAll(t.raw, []byte(idToken), fmt.Appendf(nil, "%08x", n))
	raw = bytes.ReplaceAll(raw, []byte(patientToken), []byte(patient))
	bundle, err := fhir.Parse(raw)
	if err != nil {
		tb.Error(err)
	}
	return bundle
}

// providerClient is a provider's system client depositing records.
func providerClient() resource.Caller {
	return resource.Caller{
		Writer: "client-provider-bench",
		Grants: &resource.Grants{Scopes: scope.MustParse("system/*.cruds")},
		Who:    resource.Who{Org: "Organization/provider-bench"},
	}
}

// registerCitizens registers n adult citizens with joining consents and
// returns their master Patient ids.
func registerCitizens(tb testing.TB, p *platform.Platform, n int) []string {
	tb.Helper()
	ids := make([]string, n)
	for i := range ids {
		doc, err := identity.Parse(identity.Passport, fmt.Sprintf("BENCH%05d", i), "GBR")
		if err != nil {
			tb.Fatal(err)
		}
		out, err := p.Registry.Register(context.Background(), resource.Caller{Writer: "bench"}, registry.Registration{
			Document: doc, Gender: "female",
			Names:     []map[string]any{{"family": "Chan", "given": []any{fmt.Sprint("Bench", i)}}},
			BirthDate: time.Date(1980, 1, 2, 0, 0, 0, 0, registry.HongKong),
			Telecom:   []map[string]any{{"system": "email", "value": fmt.Sprintf("bench%d@example.org", i)}},
		})
		if err != nil {
			tb.Fatal(err)
		}
		ids[i], _ = out.Patient["id"].(string)
	}
	return ids
}

// writerCounts are the concurrent clients the deposit benchmarks run with.
var writerCounts = []int{1, 8}

// BenchmarkTransaction deposits converted Synthea records (a patient's
// Encounters, Observations, Procedures, Claims, ExplanationOfBenefits …,
// some 100 to 500 resources a Bundle) as transaction Bundles from a
// provider's system client into registered citizens' records, with 1 and 8
// concurrent clients; each iteration is one Bundle with fresh ids.
// resources/s is the figure of issue 8; rows/resource the search index
// rows each resource carries.
func BenchmarkTransaction(b *testing.B) {
	templates := loadDepositTemplates(b)
	for _, be := range backends {
		for _, clients := range writerCounts {
			b.Run(fmt.Sprintf("%s/clients=%d", be.Name, clients), func(b *testing.B) {
				p := platformtest.Open(b, be.Open(b))
				citizens := registerCitizens(b, p, clients)
				caller := providerClient()
				var seq atomic.Uint32
				var written atomic.Int64
				run := func(worker int, iterations int) {
					ctx := context.Background()
					for range iterations {
						n := seq.Add(1)
						t := templates[int(n)%len(templates)]
						bundle := t.instance(b, n, citizens[worker])
						if _, err := p.Service.Bundle(ctx, caller, bundle, resource.ReturnMinimal); err != nil {
							b.Error(err)
							return
						}
						written.Add(int64(t.resources))
					}
				}
				b.ResetTimer()
				parallel(b.N, clients, run)
				b.StopTimer()
				b.ReportMetric(float64(written.Load())/b.Elapsed().Seconds(), "resources/s")
			})
		}
	}
}

// parallel runs n iterations split among clients goroutines.
func parallel(n, clients int, run func(worker, iterations int)) {
	var wg sync.WaitGroup
	for w := range clients {
		share := n / clients
		if w < n%clients {
			share++
		}
		wg.Go(func() { run(w, share) })
	}
	wg.Wait()
}

// BenchmarkTransactionRaw is the ceiling BenchmarkTransaction is measured
// against: the same versions with their index rows, computed beforehand,
// put straight into the store in one transaction a Bundle, with no
// parsing, validation, indexing, authorisation or audit.
func BenchmarkTransactionRaw(b *testing.B) {
	templates := loadDepositTemplates(b)
	for _, be := range backends {
		versions, rows := rawVersions(b, be, templates)
		perResource := float64(rows) / float64(countVersions(versions))
		b.Run(be.Name, func(b *testing.B) {
			for _, clients := range writerCounts {
				b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
					st := be.Open(b)
					b.Cleanup(func() { st.Close() })
					if err := st.Migrate(context.Background()); err != nil {
						b.Fatal(err)
					}
					var seq atomic.Uint32
					var written atomic.Int64
					run := func(_ int, iterations int) {
						ctx := context.Background()
						for range iterations {
							n := seq.Add(1)
							vs := versions[int(n)%len(versions)]
							err := st.Write(ctx, func(tx store.Tx) error {
								for _, v := range vs {
									v.ID = fmt.Sprintf("%08x", n) + v.ID[8:]
									if err := tx.Put(ctx, &v, 0); err != nil {
										return err
									}
								}
								return nil
							})
							if err != nil {
								b.Error(err)
								return
							}
							written.Add(int64(len(vs)))
						}
					}
					b.ResetTimer()
					parallel(b.N, clients, run)
					b.StopTimer()
					b.ReportMetric(float64(written.Load())/b.Elapsed().Seconds(), "resources/s")
					b.ReportMetric(perResource, "rows/resource")
				})
			}
		})
	}
}

// rawVersions deposits each template once through the service and reads
// the versions back, with the index rows the indexer computes for them;
// it returns them by template and the total of index rows.
func rawVersions(b *testing.B, be platformtest.Backend, templates []depositTemplate) ([][]store.Version, int) {
	b.Helper()
	p := platformtest.Open(b, be.Open(b))
	citizen := registerCitizens(b, p, 1)[0]
	ctx := context.Background()
	ix := search.NewIndexer(search.NewRegistry(), search.Extractor{})
	out := make([][]store.Version, len(templates))
	rows := 0
	for i, t := range templates {
		resp, err := p.Service.Bundle(ctx, providerClient(), t.instance(b, uint32(i), citizen), resource.ReturnMinimal)
		if err != nil {
			b.Fatal(err)
		}
		for _, item := range resp["entry"].([]any) {
			loc := item.(map[string]any)["response"].(map[string]any)["location"].(string)
			parts := strings.Split(loc, "/")
			v, err := p.Store.Read(ctx, parts[0], parts[1])
			if err != nil {
				b.Fatal(err)
			}
			res, err := fhir.Parse(v.Body)
			if err != nil {
				b.Fatal(err)
			}
			if v.Index, _, err = ix.Index(ctx, res, v.PatientKey); err != nil {
				b.Fatal(err)
			}
			for _, e := range v.Index {
				rows += entryRows(e)
			}
			v.ID = uuid.NewString() // 8 hex digits first, replaced per iteration
			out[i] = append(out[i], v)
		}
	}
	return out, rows
}

// entryRows is how many index rows an entry stores: a composite's parts
// are a row each.
func entryRows(e search.Entry) int {
	if c, ok := e.Row.(search.CompositeRow); ok {
		return len(c.Parts)
	}
	return 1
}

func countVersions(vs [][]store.Version) int {
	n := 0
	for _, v := range vs {
		n += len(v)
	}
	return n
}
