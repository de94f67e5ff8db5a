package bench

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// query is one query type of the fixed mix; build makes its parameters
// for the i-th execution.
type query struct {
	name, typ string
	build     func(p Params, i int) url.Values
}

// mix is the fixed mix of issue 5, plus an Observation count.
var mix = []query{
	{"patient+code, _sort=-date", "Observation", func(p Params, i int) url.Values {
		return url.Values{"patient": {"Patient/" + p.Patients[i%len(p.Patients)]}, "code": {p.ObsCode},
			"_sort": {"-date"}, "_count": {"10"}}
	}},
	{"Condition code, _summary=count", "Condition", func(p Params, _ int) url.Values {
		return url.Values{"code": {p.CondCode}, "_summary": {"count"}}
	}},
	// The count that grows with the data: the most common Observation code
	// (2.7 % of the Synthea resources) passes 100k matches at ~3.7M.
	{"Observation code, _summary=count", "Observation", func(p Params, _ int) url.Values {
		return url.Values{"code": {p.ObsCode}, "_summary": {"count"}}
	}},
	{"chained patient.name", "Observation", func(p Params, i int) url.Values {
		return url.Values{"patient.name": {p.Families[i%len(p.Families)]}, "_count": {"10"}}
	}},
	{"_has:Observation:patient:code", "Patient", func(p Params, _ int) url.Values {
		return url.Values{"_has:Observation:patient:code": {p.ObsCode}, "_count": {"10"}}
	}},
	{"patient, _include=Observation:patient", "Observation", func(p Params, i int) url.Values {
		return url.Values{"patient": {"Patient/" + p.Patients[i%len(p.Patients)]},
			"_include": {"Observation:patient"}, "_count": {"10"}}
	}},
}

// selectMix returns the queries of the mix whose names contain one of
// names (all of them when names is empty), or an error naming the choices.
func selectMix(names []string) ([]query, error) {
	if len(names) == 0 {
		return mix, nil
	}
	var out []query
	for _, q := range mix {
		for _, n := range names {
			if n != "" && strings.Contains(q.name, n) {
				out = append(out, q)
				break
			}
		}
	}
	if len(out) == 0 {
		var all []string
		for _, q := range mix {
			all = append(all, q.name)
		}
		return nil, fmt.Errorf("bench: no query of the mix matches %q; the mix: %s", names, strings.Join(all, "; "))
	}
	return out, nil
}

// RunStats is one workload run: the mix from Clients clients.
type RunStats struct {
	Name       string       `json:"name"`
	Clients    int          `json:"clients"`
	Seconds    float64      `json:"seconds"`
	CPUSeconds float64      `json:"process_cpu_seconds"` // user+system of this process (load generator included)
	MachineCPU float64      `json:"machine_cpu_busy"`    // fraction of all the machine's CPUs busy during the run
	Total      float64      `json:"queries_per_sec"`
	Queries    []QueryStats `json:"queries"`
}

// QueryStats is one query type within a run.
type QueryStats struct {
	Name        string  `json:"name"`
	Count       int     `json:"count"`
	Errors      int     `json:"errors"`
	PerSec      float64 `json:"per_sec"`
	P50         float64 `json:"p50_ms"`
	P95         float64 `json:"p95_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`
	AvgMatches  float64 `json:"avg_matches"`  // matches per page (Total for _summary=count)
	AvgIncluded float64 `json:"avg_included"` // included resources per page
	FirstError  string  `json:"first_error,omitempty"`
}

// sample is what one client saw of one query type.
type sample struct {
	lat               []time.Duration
	errors            int
	matches, included int64
	firstErr          error
}

// tally accumulates one run's samples over its rounds.
type tally struct {
	samples     [][]sample // per client per round, per query type
	elapsed     time.Duration
	cpu         time.Duration
	busy, ticks uint64
}

// workload runs the mix from clients clients for d and adds what they saw
// to t. Each client cycles through the query types from its own starting
// point, so all types run all the time.
func workload(ctx context.Context, mix []query, search SearchFunc, scope Scope, p Params, clients int, d time.Duration, t *tally) error {
	samples := make([][]sample, clients)
	busy0, ticks0 := machineTicks()
	cpu0, start := cpuTime(), time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		samples[c] = make([]sample, len(mix))
		wg.Go(func() { client(ctx, mix, search, scope, p, c, deadline, samples[c]) })
	}
	wg.Wait()
	t.elapsed += time.Since(start)
	t.cpu += cpuTime() - cpu0
	if busy1, ticks1 := machineTicks(); ticks1 > ticks0 {
		t.busy, t.ticks = t.busy+busy1-busy0, t.ticks+ticks1-ticks0
	}
	t.samples = append(t.samples, samples...)
	return ctx.Err()
}

// stats turns a run's tally into its figures; latencies are sorted per
// query type across all clients and rounds.
func (t *tally) stats(mix []query, clients int) (RunStats, error) {
	st := RunStats{Clients: clients, Seconds: t.elapsed.Seconds(), CPUSeconds: t.cpu.Seconds()}
	if t.ticks > 0 {
		st.MachineCPU = float64(t.busy) / float64(t.ticks)
	}
	for qi, q := range mix {
		qs := merge(q.name, t.samples, qi, t.elapsed)
		if qs.Count == 0 {
			return st, fmt.Errorf("query %q never completed", q.name)
		}
		st.Total += qs.PerSec
		st.Queries = append(st.Queries, qs)
	}
	return st, nil
}

// client runs queries until the deadline.
func client(ctx context.Context, mix []query, search SearchFunc, scope Scope, p Params, c int, deadline time.Time, out []sample) {
	for i := c; ctx.Err() == nil && time.Now().Before(deadline); i++ {
		qi := i % len(mix)
		q := mix[qi]
		t0 := time.Now()
		r, err := search(ctx, scope, q.typ, q.build(p, i/len(mix)+c))
		lat := time.Since(t0)
		s := &out[qi]
		if err != nil {
			s.errors++
			if s.firstErr == nil {
				s.firstErr = err
			}
			continue
		}
		s.lat = append(s.lat, lat)
		if r.Total >= 0 && r.Matches == 0 {
			s.matches += r.Total
		} else {
			s.matches += int64(r.Matches)
		}
		s.included += int64(r.Included)
	}
}

// merge combines the clients' samples of query type qi.
func merge(name string, samples [][]sample, qi int, elapsed time.Duration) QueryStats {
	qs := QueryStats{Name: name}
	var lat []time.Duration
	var matches, included int64
	for _, cs := range samples {
		s := cs[qi]
		lat = append(lat, s.lat...)
		qs.Errors += s.errors
		matches += s.matches
		included += s.included
		if s.firstErr != nil && qs.FirstError == "" {
			qs.FirstError = s.firstErr.Error()
		}
	}
	slices.Sort(lat)
	qs.Count = len(lat)
	if qs.Count == 0 {
		return qs
	}
	qs.PerSec = float64(qs.Count) / elapsed.Seconds()
	qs.P50, qs.P95, qs.P99 = ms(percentile(lat, 50)), ms(percentile(lat, 95)), ms(percentile(lat, 99))
	qs.Max = ms(lat[len(lat)-1])
	qs.AvgMatches = float64(matches) / float64(qs.Count)
	qs.AvgIncluded = float64(included) / float64(qs.Count)
	return qs
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, pct int) time.Duration {
	rank := (pct*len(sorted) + 99) / 100 // ceil(pct/100 × n)
	return sorted[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
