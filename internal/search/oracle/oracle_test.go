package oracle

import (
	"context"
	"flag"
	"fmt"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

var (
	seedFlag    = flag.Uint64("oracle.seed", 1, "seed of the random queries; 0 picks one from the clock")
	queriesFlag = flag.Int("oracle.queries", 0, "queries per backend (0: the backend's default)")
	onlyFlag    = flag.Int("oracle.only", -1, "run only this query number (to reproduce a failure)")
)

// maxFailures stops a backend's run once this many queries disagreed.
const maxFailures = 25

// TestSearchOracle runs random queries on each backend, each under full
// access and under a predicate hiding half the patients, and holds every
// answer, page by page, to the oracle's.
func TestSearchOracle(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			f := newFixture(t, st)
			// Every other query probes each _has and chain per resource
			// (sqlsearch's SetBroadAt(1)) and the rest select them whole,
			// so both shapes of the SQL answer to the oracle.
			shapes, _ := st.(interface{ SetBroadAt(int) })
			n := queriesPer[b.Name]
			if testing.Short() {
				n /= 10
			}
			if *queriesFlag > 0 {
				n = *queriesFlag
			}
			half := store.Access{NonPatient: true}
			for i, p := range f.patients {
				if i%2 == 0 {
					half.Patients = append(half.Patients, p)
				}
			}
			populated, err := populatedParams(f.oracle)
			if err != nil {
				t.Fatal(err)
			}
			predicates := []struct {
				name   string
				access store.Access
			}{{"all", store.AccessAll}, {"half", half}}
			failures, pages, hits := 0, 0, 0
			for i := range n {
				if *onlyFlag >= 0 && i != *onlyFlag {
					continue
				}
				if shapes != nil {
					broad := 1 << 30
					if i%2 == 0 {
						broad = 1
					}
					shapes.SetBroadAt(broad)
				}
				g := &generator{r: rand.New(rand.NewPCG(seed, uint64(i))), o: f.oracle, populated: populated}
				typ, q := g.query()
				for _, pr := range predicates {
					run := queryRun{f: f, seed: seed, n: i, typ: typ, query: q, pred: pr.name, access: pr.access, r: g.r}
					msg, np, found := run.check()
					pages += np
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
			t.Logf("%d queries (seed %d), each under 2 predicates: %d runs found something, %d pages read", n, seed, hits, pages)
		})
	}
}

// queryRun is one query under one access predicate.
type queryRun struct {
	f      *fixture
	seed   uint64
	n      int
	typ    string
	query  url.Values
	pred   string
	access store.Access
	r      *rand.Rand
}

// check runs the query page by page and compares it with the oracle; it
// returns a description of every disagreement ("" when none) and the
// numbers of pages read and of matches expected.
func (q queryRun) check() (msg string, pages, found int) {
	want, err := q.f.oracle.Search(q.typ, q.query, q.access.Allows)
	if err != nil {
		return q.describe("oracle: "+err.Error(), nil, nil, nil), 0, 0
	}
	params := url.Values{}
	for k, v := range q.query {
		params[k] = v
	}
	count := 2 + q.r.IntN(6) // small pages, unless that means very many
	if len(want.IDs) > 40 {
		count = len(want.IDs)/(3+q.r.IntN(5)) + 1
	}
	params.Set("_count", fmt.Sprint(count))

	var got []string
	var problems []string
	seen := map[string]bool{}
	cursor := ""
	for {
		res, err := q.f.svc.Search(context.Background(), resource.Caller{Access: &q.access}, q.typ, params, resource.SearchOptions{Cursor: cursor})
		pages++
		if err != nil {
			problems = append(problems, fmt.Sprintf("page %d: error %v", pages, err))
			break
		}
		for _, is := range res.Issues {
			problems = append(problems, fmt.Sprintf("page %d: issue %s: %s", pages, is.Severity, is.Message))
		}
		if res.Total >= 0 && res.Total != int64(len(want.IDs)) {
			problems = append(problems, fmt.Sprintf("page %d: Total %d, oracle %d", pages, res.Total, len(want.IDs)))
		}
		if len(res.Matches) > count {
			problems = append(problems, fmt.Sprintf("page %d: %d matches, _count=%d", pages, len(res.Matches), count))
		}
		for _, v := range res.Matches {
			id, typ := matchID(v, q.query)
			if seen[id] {
				problems = append(problems, fmt.Sprintf("page %d: %s repeated", pages, id))
			}
			seen[id] = true
			key := v.PatientKey
			if r := q.f.oracle.Lookup(v.Type, v.ID); r != nil {
				key = r.PatientKey
			}
			if typ != "" && typ != q.typ || !q.access.Allows(key) {
				problems = append(problems, fmt.Sprintf("page %d: %s (patient %q) is outside the predicate or type", pages, id, key))
			}
			got = append(got, id)
		}
		if res.Next == "" {
			break
		}
		if pages > len(want.IDs)/count+3 {
			problems = append(problems, fmt.Sprintf("paging does not end after %d pages", pages))
			break
		}
		cursor = res.Next
	}
	missing, extra := diff(want.IDs, got)
	if want.Sort != nil {
		problems = append(problems, q.sortProblems(want, got)...)
	}
	if len(problems) == 0 && len(missing) == 0 && len(extra) == 0 {
		return "", pages, len(want.IDs)
	}
	return q.describe(fmt.Sprintf("_count=%d: %d expected, %d returned", count, len(want.IDs), len(got)), problems, missing, extra), pages, len(want.IDs)
}

// sortProblems checks the server's order agrees with the sort keys: ties
// may come in any order, but a later resource never has a smaller key.
func (q queryRun) sortProblems(want Result, got []string) []string {
	var out []string
	var prev Key
	for i, id := range got {
		k, err := q.f.oracle.SortKey(q.typ, id, *want.Sort)
		if err != nil {
			return []string{err.Error()}
		}
		if i > 0 && CompareKeys(prev, k, want.Sort.Desc) > 0 {
			out = append(out, fmt.Sprintf("order: %s (#%d, key %s) after %s (key %s)", id, i, keyString(k), got[i-1], keyString(prev)))
		}
		prev = k
	}
	return out
}

func keyString(k Key) string {
	switch {
	case !k.Has:
		return "none"
	case k.Text != "":
		return fmt.Sprintf("%q", k.Text)
	}
	return microString(k.Time)
}

// diff returns what want has and got lacks, and the reverse.
func diff(want, got []string) (missing, extra []string) {
	for _, id := range want {
		if !slices.Contains(got, id) {
			missing = append(missing, id)
		}
	}
	for _, id := range got {
		if !slices.Contains(want, id) {
			extra = append(extra, id)
		}
	}
	return missing, extra
}

// describe reports a disagreement with what a human needs to decide which
// side is wrong: the query, how to rerun it, and for each differing
// resource the values the query's parameters find on it.
func (q queryRun) describe(head string, problems, missing, extra []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s?%s [predicate %s] (reproduce: -oracle.seed=%d -oracle.only=%d)\n  %s\n", q.typ, q.query.Encode(), q.pred, q.seed, q.n, head)
	for _, p := range problems {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	codes := q.codes()
	show := func(label string, ids []string) {
		for i, id := range ids {
			if i == 5 {
				fmt.Fprintf(&b, "  ... %d more %s\n", len(ids)-5, label)
				break
			}
			fmt.Fprintf(&b, "  %s %s/%s:\n", label, q.typ, id)
			for _, c := range codes {
				fmt.Fprintf(&b, "      %s\n", q.f.oracle.Describe(q.typ, id, c))
			}
		}
	}
	show("oracle only (server missed)", missing)
	show("server only (oracle rejects)", extra)
	return b.String()
}

// codes lists the parameters the query uses, _sort's included.
func (q queryRun) codes() []string {
	var out []string
	for k, v := range q.query {
		code, _, _ := strings.Cut(k, ":")
		if k == "_sort" {
			code = strings.TrimPrefix(v[0], "-")
		}
		if _, ok := q.f.oracle.Param(q.typ, code); ok && !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return out
}
