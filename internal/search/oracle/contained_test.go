package oracle

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// matchID names a search match as the oracle does: its id, or for a
// query with _contained=true or both "Type/id", and "Type/id#localId" for
// a contained resource returned as itself. typ is the type of the
// resource returned, "" for a container (of any type).
func matchID(v store.Version, query url.Values) (id, typ string) {
	switch query.Get("_contained") {
	case "true", "both":
	default:
		return v.ID, v.Type
	}
	id = v.Type + "/" + v.ID
	if v.Contained == 0 {
		if query.Get("_containedType") == "contained" {
			return id, v.Type
		}
		return id, ""
	}
	res, local, err := resource.ContainedMatch(v)
	if err != nil {
		return id + "#?" + err.Error(), ""
	}
	typ, _ = res["resourceType"].(string)
	return id + "#" + local, typ
}

// TestSearchOracleContained runs random queries into the sample's
// contained resources (Synthea's ExplanationOfBenefits hold a
// ServiceRequest and a Coverage each), with values drawn from them, under
// _contained=true or both and either _containedType, and holds each
// backend's answer to the oracle's, page by page, under full access and
// the half-hiding predicate.
func TestSearchOracleContained(t *testing.T) {
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open(t))
			var top, held []Resource
			for _, typ := range f.oracle.Types() {
				for _, r := range f.oracle.Resources(typ) {
					top = append(top, *r)
					for _, c := range Contained(r) {
						held = append(held, *c)
					}
				}
			}
			if len(held) == 0 {
				t.Fatal("the sample holds no contained resources")
			}
			// The oracle knows the parameters of the contained types too;
			// queries are generated over the contained resources alone.
			reg := search.NewRegistry()
			params := paramsOf(reg, top)
			for typ, ps := range paramsOf(reg, held) {
				params[typ] = ps
			}
			f.oracle = New(top, params)
			values := New(held, paramsOf(reg, held))
			populated, err := populatedParams(values)
			if err != nil {
				t.Fatal(err)
			}
			half := store.Access{NonPatient: true}
			for i, p := range f.patients {
				if i%2 == 0 {
					half.Patients = append(half.Patients, p)
				}
			}
			n := 300
			if testing.Short() {
				n = 60
			}
			failures, hits := 0, 0
			for i := range n {
				g := &generator{r: rand.New(rand.NewPCG(*seedFlag, uint64(i))), o: values, populated: populated}
				typ, q := g.query()
				q.Del("_sort") // refused with _contained, as is _lastUpdated
				q.Del("_lastUpdated")
				q.Del("_lastUpdated:missing")
				if len(q) == 0 {
					q.Set("_id", "no-such-id")
				}
				q.Set("_contained", []string{"true", "both"}[g.r.IntN(2)])
				if g.r.IntN(2) == 0 {
					q.Set("_containedType", "contained")
				}
				for _, pr := range []store.Access{store.AccessAll, half} {
					run := queryRun{f: f, seed: *seedFlag, n: i, typ: typ, query: q, pred: fmt.Sprint(pr), access: pr, r: g.r}
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
			if hits < n/2 {
				t.Errorf("only %d of %d runs found something", hits, 2*n)
			}
			t.Logf("%d contained resources, %d queries each under 2 predicates: %d runs found something", len(held), n, hits)
		})
	}
}
