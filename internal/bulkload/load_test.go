package bulkload_test

import (
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/bulkload"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// workers is how many files each backend loads at once, as ehealth import does.
var workers = map[string]int{"sqlite": 1, "postgres": 4}

func newService(tb testing.TB, st store.Store) *resource.Service {
	tb.Helper()
	return platformtest.Open(tb, st).Service
}

func TestLoadNDJSONAndBundles(t *testing.T) {
	dir := t.TempDir()
	ndjson := strings.Join([]string{
		`{"resourceType":"Patient","id":"p1","gender":"female"}`,
		`{"resourceType":"Patient","id":"p2","gender":"woman"}`,
		`not json`,
		``,
		`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"BP"},"subject":{"reference":"Patient/p1"}}`,
		`{"resourceType":"Patient","gender":"male"}`,
	}, "\n")
	writeFile(t, filepath.Join(dir, "a.ndjson"), ndjson, false)
	writeFile(t, filepath.Join(dir, "sub", "b.ndjson.gz"), `{"resourceType":"Organization","id":"org1","name":"Clinic"}`+"\n", true)
	writeFile(t, filepath.Join(dir, "tx.json"), `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:6f6e1b0e-2b0f-4c39-a1b5-1bb0ee9d0d1a","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
		{"resource":{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":"urn:uuid:6f6e1b0e-2b0f-4c39-a1b5-1bb0ee9d0d1a"}},"request":{"method":"POST","url":"Encounter"}}]}`, false)
	writeFile(t, filepath.Join(dir, "broken.json"), `{"resourceType":"Bundle","type":"transaction","entry":[
		{"resource":{"resourceType":"Patient","birthDate":"yesterday"},"request":{"method":"POST","url":"Patient"}}]}`, false)
	writeFile(t, filepath.Join(dir, "ignored.txt"), "not loaded", false)

	for _, be := range platformtest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			svc := newService(t, be.Open(t))
			files, size, err := bulkload.Files([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 4 || size == 0 {
				t.Fatalf("Files = %v (%d bytes), want the 4 .json/.ndjson files", files, size)
			}
			l := bulkload.New(svc, bulkload.Options{Workers: workers[be.Name], Chunk: 2})
			sum, err := l.Load(context.Background(), files)
			if err != nil {
				t.Fatal(err)
			}
			// Written: p1, o1, the id-less Patient, org1, and the transaction's 2.
			if sum.Resources != 6 {
				t.Errorf("loaded %d resources, want 6", sum.Resources)
			}
			want := map[string]bool{"a.ndjson line 2": true, "a.ndjson line 3": true, "broken.json ": true}
			if len(sum.Rejected) != len(want) {
				t.Errorf("rejected %v, want %d", sum.Rejected, len(want))
			}
			for _, r := range sum.Rejected {
				if key := filepath.Base(r.File) + " " + r.Where; !want[key] {
					t.Errorf("unexpected rejection %s: %s", key, r.Reason)
				}
				if r.Reason == "" {
					t.Errorf("rejection without a reason: %+v", r)
				}
			}
			ctx := context.Background()
			for _, ref := range [][2]string{{"Patient", "p1"}, {"Observation", "o1"}, {"Organization", "org1"}} {
				if _, err := svc.Read(ctx, resource.Caller{}, ref[0], ref[1]); err != nil {
					t.Errorf("read %s/%s: %v", ref[0], ref[1], err)
				}
			}
			if _, err := svc.Read(ctx, resource.Caller{}, "Patient", "p2"); err == nil {
				t.Errorf("the invalid Patient p2 was loaded")
			}
			// Loading again is idempotent: the same resources, no new versions (resume_test.go).
			again, err := bulkload.New(svc, bulkload.Options{Workers: workers[be.Name]}).Load(ctx, files[:1])
			if err != nil || again.Resources == 0 {
				t.Errorf("reload: %v %+v", err, again)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string, gz bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !gz {
		if _, err := f.WriteString(content); err != nil {
			t.Fatal(err)
		}
		return
	}
	w := gzip.NewWriter(f)
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkImportSynthea loads the self-contained Synthea sample
// (../shared/testdata/synthea/smart-sample: 66 transaction Bundles, about
// 19k resources) into a fresh database per iteration.
func BenchmarkImportSynthea(b *testing.B) {
	files, _, err := bulkload.Files([]string{"../../../shared/testdata/synthea/smart-sample"})
	if err != nil || len(files) == 0 {
		b.Skip("../shared/testdata/synthea not present")
	}
	for _, be := range platformtest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			var total int64
			for b.Loop() {
				b.StopTimer()
				svc := newService(b, be.Open(b))
				b.StartTimer()
				sum, err := bulkload.New(svc, bulkload.Options{Workers: workers[be.Name]}).Load(context.Background(), files)
				if err != nil || len(sum.Rejected) > 0 {
					b.Fatalf("%v; rejected %v", err, sum.Rejected)
				}
				total += sum.Resources
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "resources/s")
		})
	}
}
