package oracle

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// nearQueriesPer is how many random Location queries each backend gets.
const nearQueriesPer = 600

// TestNearOracle holds positional search to the oracle: Locations in
// clusters (Hong Kong, across the antimeridian, round both poles), some
// without a position or with one out of range, are written through the
// service (so the indexer reads Location.position), then random queries
// mixing near with Location's other parameters are answered by each
// backend and by the oracle.
func TestNearOracle(t *testing.T) {
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			f := newNearFixture(t, b.Open(t))
			populated, err := populatedParams(f.oracle)
			if err != nil {
				t.Fatal(err)
			}
			if len(populated["Location"]["special"]) == 0 {
				t.Fatalf("no Location has a position the oracle reads: %v", populated["Location"])
			}
			n := nearQueriesPer
			if testing.Short() {
				n /= 10
			}
			nonPatient := store.Access{NonPatient: true}
			failures, hits, nears := 0, 0, 0
			for i := range n {
				g := &generator{r: rand.New(rand.NewPCG(*seedFlag, uint64(i))), o: f.oracle, populated: populated}
				typ, q := g.query()
				if _, ok := q["near"]; !ok && i%2 == 0 {
					if name, val := g.near(typ, Param{Code: "near", Type: "special"}); val != "" {
						q.Set(name, val)
					}
				}
				if _, ok := q["near"]; ok {
					nears++
				}
				for name, access := range map[string]store.Access{"all": store.AccessAll, "non-patient": nonPatient} {
					run := queryRun{f: f, seed: *seedFlag, n: i, typ: typ, query: q, pred: name, access: access, r: g.r}
					msg, _, found := run.check()
					if found > 0 {
						hits++
					}
					if msg != "" {
						failures++
						t.Error(msg)
					}
				}
				if failures >= maxFailures {
					t.Fatalf("stopped after %d failing queries", failures)
				}
			}
			if nears < n/2 || hits < n/2 {
				t.Errorf("%d queries: %d with near, %d runs found something", n, nears, hits)
			}
			t.Logf("%d queries, %d with near: %d runs found something", n, nears, hits)
		})
	}
}

// newNearFixture writes the Locations and returns the server with the
// oracle over what it holds.
func newNearFixture(t *testing.T, st store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	svc := platformtest.Open(t, st).Service
	r := rand.New(rand.NewPCG(17, 19))
	clusters := []struct {
		name     string
		lat, lon float64
		spread   float64 // degrees
	}{
		{"Hong Kong", 22.35, 114.15, 0.4}, {"Suva", -17.9, 180, 1}, {"Svalbard", 89.8, 0, 0.6},
		{"McMurdo", -89.9, 166.7, 0.4}, {"Null Island", 0, 0, 3},
	}
	var parent string
	for i := range 120 {
		c := clusters[r.IntN(len(clusters))]
		loc := map[string]any{"resourceType": "Location", "name": fmt.Sprintf("%s %d", c.name, i),
			"status": []string{"active", "suspended", "inactive"}[r.IntN(3)]}
		switch {
		case i%11 == 0: // no position
		case i%29 == 0: // out of range: not indexed
			loc["position"] = map[string]any{"latitude": 95.5, "longitude": 10}
		default:
			lat := min(90, max(-90, c.lat+(r.Float64()-0.5)*c.spread))
			lon := c.lon + (r.Float64()-0.5)*c.spread
			if lon > 180 {
				lon -= 360
			}
			loc["position"] = map[string]any{"latitude": decimal(lat), "longitude": decimal(lon)}
		}
		if parent != "" && r.IntN(3) == 0 {
			loc["partOf"] = map[string]any{"reference": "Location/" + parent}
		}
		body, err := json.Marshal(loc)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := fhir.Parse(body)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		v, err := svc.Create(ctx, resource.Caller{}, "Location", parsed)
		if err != nil {
			t.Fatalf("create %v: %v", loc, err)
		}
		parent = v.ID
	}
	// The Locations only: the platform's own conformance resources are in
	// the store too, and the queries are Location's.
	var res []Resource
	for _, r := range readBack(t, svc) {
		if r.Type == "Location" {
			res = append(res, r)
		}
	}
	return &fixture{svc: svc, oracle: New(res, paramsOf(search.NewRegistry(), res))}
}

// decimal is f as a JSON decimal of at most six places, as positions are written.
func decimal(f float64) json.Number { return json.Number(strconv.FormatFloat(f, 'f', 6, 64)) }
