package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Scope is the access predicate a search runs under: everything, or the
// compartments of Patients plus every resource outside a patient
// compartment (Organization, Practitioner …).
type Scope struct {
	All      bool
	Patients []string
}

// Result is what a search returned: the page's matches and included
// resources, and the total when one was asked for (-1 otherwise).
type Result struct {
	Matches, Included int
	Total             int64
}

// SearchFunc runs one search of typ with params under scope.
type SearchFunc func(ctx context.Context, scope Scope, typ string, params url.Values) (Result, error)

// LoadFunc loads the sample once and returns the resources written and
// the entries rejected.
type LoadFunc func(ctx context.Context) (written, rejected int64, err error)

// ExplainFunc returns the store's SQL and plan for one search under scope.
type ExplainFunc func(ctx context.Context, scope Scope, typ string, params url.Values) (string, error)

// Config is one harness run.
type Config struct {
	Backend   string                      // "sqlite" or "postgres", recorded in the report
	DB        *sql.DB                     // read-only access to the store's tables, for counts and parameter picks
	Load      LoadFunc                    // loads the sample once; nil skips loading
	Search    SearchFunc                  // in-process search through the resource service (applies Scope)
	HTTP      SearchFunc                  // the same over the HTTP API (full access; Scope ignored); nil skips
	Analyze   func(context.Context) error // refreshes planner statistics before the workload; nil skips
	Explain   ExplainFunc                 // the plans recorded in the report; nil skips
	Resources int64                       // load until the database holds at least this many
	Duration  time.Duration               // per workload run, split into Rounds
	Rounds    int                         // turns the runs take, interleaved; at least 1
	Clients   int                         // concurrent clients
	Queries   []string                    // run only the mix's queries whose names contain one of these; empty: all
	Log       io.Writer                   // progress lines; nil discards
}

// Report is the outcome of a run, written as JSON by the command.
type Report struct {
	Backend string     `json:"backend"`
	Started time.Time  `json:"started"`
	Machine Machine    `json:"machine"`
	Load    LoadStats  `json:"load"`
	Params  Params     `json:"params"`
	Runs    []RunStats `json:"runs"`
	// AnalyzeSeconds is how long refreshing the planner statistics took.
	AnalyzeSeconds float64 `json:"analyze_seconds"`
	Plans          []Plan  `json:"plans,omitempty"`
}

// Plan is the store's SQL and plan for one query type under one scope.
type Plan struct {
	Query string `json:"query"`
	Scope string `json:"scope"`
	Text  string `json:"plan"`
}

// Machine describes where the figures were measured.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GoVersion  string `json:"go_version"`
	LoadBefore string `json:"loadavg_before"` // /proc/loadavg before the workload
	LoadAfter  string `json:"loadavg_after"`
	SharedNote string `json:"note"`
}

// Run runs the loader step and then the workload: in process with full
// access, in process under the half-hiding predicate, and over HTTP with
// full access.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.DB == nil || cfg.Search == nil {
		return Report{}, errors.New("bench: config needs DB and Search")
	}
	if cfg.Clients < 1 {
		cfg.Clients = 1
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	rep := Report{Backend: cfg.Backend, Started: time.Now().UTC(), Machine: Machine{
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		SharedNote: "load generator, server and database share these CPUs",
	}}
	mix, err := selectMix(cfg.Queries)
	if err != nil {
		return rep, err
	}
	if rep.Load, err = grow(ctx, cfg, logf); err != nil {
		return rep, err
	}
	if cfg.Analyze != nil {
		start := time.Now()
		if err := cfg.Analyze(ctx); err != nil {
			return rep, err
		}
		rep.AnalyzeSeconds = time.Since(start).Seconds()
		logf("analyze: %.1f s", rep.AnalyzeSeconds)
	}
	if rep.Params, err = pick(ctx, cfg.DB, ""); err != nil {
		return rep, err
	}
	logf("params: %d patients (%d visible under the predicate), observation code %s, condition code %s",
		rep.Params.PatientsTotal, len(rep.Params.Visible), rep.Params.ObsCode, rep.Params.CondCode)
	rep.Machine.LoadBefore = loadAvg()
	runs := []struct {
		name   string
		search SearchFunc
		scope  Scope
	}{
		{"in-process, full access", cfg.Search, Scope{All: true}},
		{"in-process, half-hiding predicate", cfg.Search, Scope{Patients: rep.Params.Visible}},
		{"HTTP, full access", cfg.HTTP, Scope{All: true}},
	}
	// The runs take turns in short rounds, so a change in the machine's
	// other load (it is shared) falls on all of them alike.
	rounds := max(cfg.Rounds, 1)
	tallies := make([]tally, len(runs))
	for round := range rounds {
		for i, r := range runs {
			if r.search == nil {
				continue
			}
			logf("workload round %d/%d: %s, %d clients, %s", round+1, rounds, r.name, cfg.Clients, cfg.Duration/time.Duration(rounds))
			if err := workload(ctx, mix, r.search, r.scope, rep.Params, cfg.Clients, cfg.Duration/time.Duration(rounds), &tallies[i]); err != nil {
				return rep, fmt.Errorf("bench: %s: %w", r.name, err)
			}
		}
	}
	for i, r := range runs {
		if r.search == nil {
			continue
		}
		st, err := tallies[i].stats(mix, cfg.Clients)
		if err != nil {
			return rep, fmt.Errorf("bench: %s: %w", r.name, err)
		}
		st.Name = r.name
		rep.Runs = append(rep.Runs, st)
	}
	rep.Machine.LoadAfter = loadAvg()
	if cfg.Explain != nil {
		if rep.Plans, err = explain(ctx, mix, cfg.Explain, rep.Params); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// explain records the plan of every query type, with full access and
// under the predicate.
func explain(ctx context.Context, mix []query, fn ExplainFunc, p Params) ([]Plan, error) {
	var plans []Plan
	scopes := []struct {
		name  string
		scope Scope
	}{{"full", Scope{All: true}}, {"predicate", Scope{Patients: p.Visible}}}
	for _, q := range mix {
		for _, sc := range scopes {
			text, err := fn(ctx, sc.scope, q.typ, q.build(p, 0))
			if err != nil {
				return plans, fmt.Errorf("bench: explain %s: %w", q.name, err)
			}
			plans = append(plans, Plan{Query: q.name, Scope: sc.name, Text: text})
		}
	}
	return plans, nil
}

// loadAvg is the first three fields of /proc/loadavg, or "" off Linux.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// machineTicks reads the busy and total CPU ticks of the whole machine
// from /proc/stat (zeros off Linux), to show how much of the machine a run
// used besides this process: the PostgreSQL server, other work.
func machineTicks() (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for i, s := range f[1:] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}
