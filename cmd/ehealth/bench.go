package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/bench"
	"github.com/ehealthplus/ehealth/internal/bulkload"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/postgres"
)

// defaultSample is the Synthea sample the benchmark loads repeatedly.
const defaultSample = "../shared/testdata/synthea/smart-sample"

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "platform":
		return runBenchPlatform(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "platform-clients":
		return runBenchClients(ctx, os.Stdin, stdout)
	case len(args) == 0 || args[0] != "search":
		fmt.Fprintln(stderr, "usage: ehealth bench search|platform [flags]")
		return fmt.Errorf("bench: the benchmarks are \"search\" and \"platform\"")
	}
	fs := flag.NewFlagSet("bench search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	resources := fs.Int64("resources", 100000, "load the sample until the database holds at least this many resources")
	duration := fs.Duration("duration", 30*time.Second, "length of each workload run")
	clients := fs.Int("clients", 8, "concurrent clients")
	out := fs.String("out", "", "write the results as JSON to this file")
	sample := fs.String("sample", defaultSample, "Synthea files or directories loaded on each pass")
	workers := fs.Int("workers", 0, "files loaded at once (default: 1 on SQLite, 4 on PostgreSQL)")
	rounds := fs.Int("rounds", 6, "the runs take turns in this many rounds, so changes in the machine's other load fall on all alike")
	noHTTP := fs.Bool("no-http", false, "skip the workload run over HTTP")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the workload runs (load included) to this file")
	noAnalyze := fs.Bool("no-analyze", false, "skip refreshing the planner statistics (when a run before this one refreshed them and nothing was loaded since)")
	broad := fs.Int("broad-searches", 0, "as serve's --broad-searches: broad searches run at once (0: one fewer than the processors)")
	queries := fs.String("queries", "", "run only the mix's queries whose names contain one of these comma-separated words (e.g. \"patient+code\")")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := benchSearch(ctx, benchFlags{db: *db, resources: *resources, duration: *duration,
		clients: *clients, rounds: *rounds, sample: *sample, workers: *workers, http: !*noHTTP, log: stderr,
		queries: splitList(*queries), broad: *broad, analyze: !*noAnalyze})
	if err != nil {
		return err
	}
	if err := bench.WriteTable(stdout, rep); err != nil {
		return err
	}
	if *out == "" {
		return nil
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(b, '\n'), 0o644)
}

// benchFlags are the settings of one `bench search`.
type benchFlags struct {
	db, sample       string
	resources        int64
	duration         time.Duration
	clients, workers int
	rounds           int
	http, analyze    bool
	queries          []string
	broad            int
	log              io.Writer
}

// benchSearch wires the harness to a platform on the database.
func benchSearch(ctx context.Context, f benchFlags) (bench.Report, error) {
	p, err := openPlatform(ctx, f.db, slog.New(slog.NewTextHandler(io.Discard, nil)), platform.WithBroadSearches(f.broad))
	if err != nil {
		return bench.Report{}, err
	}
	defer closer{p}.Close()
	sqlDB, backend, err := tablesDB(p.Store, f.db)
	if err != nil {
		return bench.Report{}, err
	}
	defer sqlDB.Close()
	if f.workers == 0 {
		f.workers = 4
		if backend == "sqlite" {
			f.workers = 1
		}
	}
	cfg := bench.Config{
		Backend: backend, DB: sqlDB, Load: sampleLoader(p.Service, f.sample, f.workers),
		Search: serviceSearch(p.Service), Resources: f.resources, Duration: f.duration, Rounds: f.rounds,
		Clients: f.clients, Log: f.log, Explain: serviceExplain(p.Service), Queries: f.queries,
	}
	// Searches plan well only on fresh statistics, as after any bulk load.
	if a, ok := p.Store.(interface{ Analyze(context.Context) error }); ok && f.analyze {
		cfg.Analyze = a.Analyze
	}
	if f.http {
		// The HTTP run authenticates as the operator, with a token checked
		// on every request as in production.
		tokens, err := token.New(p.Store, token.Config{Issuer: origin(defaultBaseURL), Audience: defaultBaseURL})
		if err != nil {
			return bench.Report{}, err
		}
		bearer, _, err := tokens.IssueOperator(ctx, token.Claims{Subject: "operator", ClientID: "ehealth-bench",
			Scope: scope.MustParse("system/*.rs")}, token.MaxTTL)
		if err != nil {
			return bench.Report{}, err
		}
		srv := httptest.NewServer(rest.New(p.Service, rest.Config{Tokens: tokens}, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
		defer srv.Close()
		cfg.HTTP = httpSearch(srv.URL+"/fhir", bearer, f.clients)
	}
	return bench.Run(ctx, cfg)
}

// tablesDB opens database/sql access to the store's tables, for the
// harness's counts and parameter picks.
func tablesDB(st store.Store, dbURL string) (*sql.DB, string, error) {
	if pg, ok := st.(*postgres.Store); ok {
		return stdlib.OpenDBFromPool(pg.Pool()), "postgres", nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite:"), "//")
	// The sqlite store registers the "sqlite" driver; this handle only reads.
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, "", fmt.Errorf("bench: open %s: %w", path, err)
	}
	return db, "sqlite", nil
}

// sampleLoader loads the sample files once per call as new copies
// (bulkload.Options.Copies): Synthea's urn:uuid transaction Bundles create
// new resources every time.
func sampleLoader(svc *resource.Service, sample string, workers int) bench.LoadFunc {
	return func(ctx context.Context) (int64, int64, error) {
		files, _, err := bulkload.Files(strings.Split(sample, ","))
		if err != nil {
			return 0, 0, err
		}
		sum, err := bulkload.New(svc, bulkload.Options{Workers: workers, Copies: true}).Load(ctx, files)
		return sum.Resources, int64(len(sum.Rejected)), err
	}
}

// serviceSearch searches in process, under the scope's access predicate.
func serviceSearch(svc *resource.Service) bench.SearchFunc {
	return func(ctx context.Context, scope bench.Scope, typ string, params url.Values) (bench.Result, error) {
		c := resource.Caller{}
		if !scope.All {
			c.Access = &store.Access{Patients: scope.Patients, NonPatient: true}
		}
		r, err := svc.Search(ctx, c, typ, params, resource.SearchOptions{})
		if err != nil {
			return bench.Result{}, err
		}
		return bench.Result{Matches: len(r.Matches), Included: len(r.Included), Total: r.Total}, nil
	}
}

// serviceExplain returns the store's SQL and plan of a search (_explain).
func serviceExplain(svc *resource.Service) bench.ExplainFunc {
	return func(ctx context.Context, scope bench.Scope, typ string, params url.Values) (string, error) {
		c := resource.Caller{}
		if !scope.All {
			c.Access = &store.Access{Patients: scope.Patients, NonPatient: true}
		}
		q := url.Values{"_explain": {"true"}}
		for k, v := range params {
			q[k] = v
		}
		r, err := svc.Search(ctx, c, typ, q, resource.SearchOptions{Explain: true})
		return r.Explain, err
	}
}

// httpSearch searches over the HTTP API at base with full access.
func httpSearch(base, bearer string, clients int) bench.SearchFunc {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	return func(ctx context.Context, _ bench.Scope, typ string, params url.Values) (bench.Result, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+typ+"?"+params.Encode(), nil)
		if err != nil {
			return bench.Result{}, err
		}
		req.Header.Set("Accept", "application/fhir+json")
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := client.Do(req)
		if err != nil {
			return bench.Result{}, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return bench.Result{}, fmt.Errorf("GET %s: %s: %s", typ, resp.Status, b)
		}
		var bundle struct {
			Total *int64 `json:"total"`
			Entry []struct {
				Search struct {
					Mode string `json:"mode"`
				} `json:"search"`
			} `json:"entry"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&bundle); err != nil {
			return bench.Result{}, fmt.Errorf("GET %s: %w", typ, err)
		}
		r := bench.Result{Total: -1}
		if bundle.Total != nil {
			r.Total = *bundle.Total
		}
		for _, e := range bundle.Entry {
			if e.Search.Mode == "include" {
				r.Included++
			} else {
				r.Matches++
			}
		}
		return r, nil
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
