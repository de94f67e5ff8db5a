package bulkload_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/bulkload"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// holdings counts, by type, the resources the store holds now and the
// versions it has of them (system history: nothing shared with the load).
func holdings(t *testing.T, svc *resource.Service) (current map[string]int, versions int) {
	t.Helper()
	seq, err := svc.History(t.Context(), resource.Caller{}, store.HistoryQuery{Access: store.AccessAll})
	if err != nil {
		t.Fatal(err)
	}
	current = map[string]int{}
	seen := map[string]bool{}
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		versions++
		if k := v.Type + "/" + v.ID; !seen[k] {
			seen[k] = true
			if !v.Deleted {
				current[v.Type]++
			}
		}
	}
	return current, versions
}

// TestResumableImport: an import of the Synthea set stopped half-way (as a
// crash or Ctrl-C stops it) and run again completes with every resource
// once — the same holdings as one uninterrupted import — and writes no
// second version of anything the first run wrote; running it a third time
// changes nothing at all.
func TestResumableImport(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/testdata/synthea/smart-sample/*.json.gz")
	if len(files) == 0 {
		t.Skip("../shared/testdata/synthea not present")
	}
	files, _, err := bulkload.Files(files[:12])
	if err != nil {
		t.Fatal(err)
	}
	for _, be := range platformtest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			whole := newService(t, be.Open(t))
			if sum, err := bulkload.New(whole, bulkload.Options{Workers: workers[be.Name]}).Load(t.Context(), files); err != nil || len(sum.Rejected) > 0 {
				t.Fatalf("uninterrupted import: %v %v", err, sum.Rejected)
			}
			want, wantVersions := holdings(t, whole)

			svc := newService(t, be.Open(t))
			ctx, cancel := context.WithCancel(t.Context())
			first := bulkload.New(svc, bulkload.Options{Workers: workers[be.Name]})
			go func() { // stop it once a part is in
				for n, _ := first.Progress(); n < int64(wantVersions/3); n, _ = first.Progress() {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			if _, err := first.Load(ctx, files); err == nil {
				t.Fatal("the interrupted import finished: nothing was interrupted")
			}
			partial, _ := holdings(t, svc)
			if total(partial) == 0 || total(partial) >= total(want) {
				t.Fatalf("the interrupted import wrote %d of %d resources", total(partial), total(want))
			}
			for range 2 {
				if sum, err := bulkload.New(svc, bulkload.Options{Workers: workers[be.Name]}).Load(t.Context(), files); err != nil || len(sum.Rejected) > 0 {
					t.Fatalf("resumed import: %v %v", err, sum.Rejected)
				}
				got, versions := holdings(t, svc)
				if !equalCounts(got, want) {
					t.Errorf("after resuming: %v, want %v", got, want)
				}
				if versions != wantVersions {
					t.Errorf("after resuming: %d versions, want %d (one per resource)", versions, wantVersions)
				}
			}
			// Loaded as copies (a benchmark growing a database), the same
			// files add every patient's record again.
			if _, err := bulkload.New(svc, bulkload.Options{Workers: workers[be.Name], Copies: true}).Load(t.Context(), files); err != nil {
				t.Fatal(err)
			}
			if got, _ := holdings(t, svc); got["Patient"] != 2*want["Patient"] || got["Observation"] != 2*want["Observation"] {
				t.Errorf("loaded as copies: %d Patients and %d Observations, want twice %d and %d", got["Patient"], got["Observation"], want["Patient"], want["Observation"])
			}
		})
	}
}

func total(m map[string]int) (n int) {
	for _, c := range m {
		n += c
	}
	return n
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
