package bulkdata_test

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/bulkdata"
	"github.com/ehealthplus/ehealth/internal/bulkload"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// operator is the caller of the command-line export.
var operator = resource.Caller{Writer: "operator", Who: resource.Who{Operator: true}}

// syntheaFiles are the Synthea patient bundles of the shared test data.
func syntheaFiles(t testing.TB) []string {
	files, _ := filepath.Glob("../../../shared/testdata/synthea/smart-sample/*_*-*.json.gz")
	if len(files) == 0 {
		t.Skip("../shared/testdata/synthea not present")
	}
	return files
}

// inputIDs lists, by type, the ids of the resources the bundles create
// (an import writes each at its urn:uuid) and counts those created only
// if none exists (ifNoneExist).
func inputIDs(t *testing.T, files []string) (ids map[string][]string, conditional map[string]int) {
	ids, conditional = map[string][]string{}, map[string]int{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Entry []struct {
				FullURL  string `json:"fullUrl"`
				Resource struct {
					ResourceType string `json:"resourceType"`
				} `json:"resource"`
				Request struct {
					IfNoneExist string `json:"ifNoneExist"`
				} `json:"request"`
			} `json:"entry"`
		}
		if err := json.NewDecoder(zr).Decode(&b); err != nil {
			t.Fatal(err)
		}
		fh.Close()
		for _, e := range b.Entry {
			id, ok := strings.CutPrefix(e.FullURL, "urn:uuid:")
			switch {
			case e.Request.IfNoneExist != "":
				conditional[e.Resource.ResourceType]++
			case ok:
				ids[e.Resource.ResourceType] = append(ids[e.Resource.ResourceType], id)
			default:
				t.Fatalf("%s: an entry without a urn:uuid", f)
			}
		}
	}
	for typ, l := range ids { // the providers recur in every bundle they serve, at one id
		slices.Sort(l)
		ids[typ] = slices.Compact(l)
	}
	return ids, conditional
}

// exported reads the ids of every resource of each type in an export
// directory's files.
func exported(t *testing.T, dir string, files []bulkdata.File) map[string][]string {
	out := map[string][]string{}
	for _, f := range files {
		fh, err := os.Open(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 4<<20)
		n := 0
		for sc.Scan() {
			var r struct{ ResourceType, ID string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", f.Name(), err)
			}
			if r.ResourceType != f.Type {
				t.Errorf("%s holds a %s", f.Name(), r.ResourceType)
			}
			out[f.Type] = append(out[f.Type], r.ID)
			n++
		}
		fh.Close()
		if n != f.Count {
			t.Errorf("%s: %d lines, counted %d", f.Name(), n, f.Count)
		}
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

// TestImportExportRoundTrip: the Synthea set imported and exported gives
// back every resource — per type exactly the ids of the input, and exactly
// the ids the store's history holds as current (a path that shares nothing
// with search) — on both backends, in files of at most PerFile.
func TestImportExportRoundTrip(t *testing.T) {
	files := syntheaFiles(t)
	want, conditional := inputIDs(t, files)
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			p := platformtest.Open(t, b.Open(t))
			sum, err := bulkload.New(p.Service, bulkload.Options{}).Load(t.Context(), files)
			if err != nil || len(sum.Rejected) > 0 {
				t.Fatalf("import: %v %v", err, sum.Rejected)
			}
			dir := t.TempDir()
			res, err := bulkdata.Run(t.Context(), p.Service, operator, bulkdata.Request{Level: bulkdata.System}, &bulkdata.DirSink{Dir: dir}, bulkdata.Options{PerFile: 5000})
			if err != nil {
				t.Fatal(err)
			}
			got := exported(t, dir, res.Files)
			current := map[string][]string{}
			seen := map[string]bool{}
			versions, err := p.Service.History(t.Context(), operator, store.HistoryQuery{Access: store.AccessAll})
			if err != nil {
				t.Fatal(err)
			}
			for v, err := range versions { // newest first: the first seen is current
				if err != nil {
					t.Fatal(err)
				}
				if k := v.Type + "/" + v.ID; !seen[k] {
					seen[k] = true
					if !v.Deleted {
						current[v.Type] = append(current[v.Type], v.ID)
					}
				}
			}
			for typ, ids := range want {
				if conditional[typ] > 0 {
					t.Fatalf("%s: created conditionally too; the test expects ids only", typ)
				}
				if !slices.Equal(got[typ], ids) {
					t.Errorf("%s: exported %d ids, imported %d (first difference near %v)", typ, len(got[typ]), len(ids), firstDiff(got[typ], ids))
				}
			}
			for typ, ids := range current {
				slices.Sort(ids)
				if !slices.Equal(got[typ], ids) {
					t.Errorf("%s: exported %d ids, the store holds %d current", typ, len(got[typ]), len(ids))
				}
			}
			for typ := range got {
				if _, ok := current[typ]; !ok {
					t.Errorf("exported %s, which the store does not hold", typ)
				}
			}
			for _, f := range res.Files {
				if f.Count > 5000 {
					t.Errorf("%s holds %d", f.Name(), f.Count)
				}
			}
		})
	}
}

// parseJSON parses a test's FHIR JSON.
func parseJSON(b []byte) (map[string]any, error) {
	var m map[string]any
	err := json.Unmarshal(b, &m)
	return m, err
}

// firstDiff is the first id in one sorted list and not the other.
func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] + " / " + b[i]
		}
	}
	return "the end"
}
