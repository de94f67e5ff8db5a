package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/bench"
	"github.com/ehealthplus/ehealth/internal/demo"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/postgres"
)

// resourcesPerCitizen is about how many resources the demo generator
// writes per citizen at its default of 50 records, registration and
// consents included (97,717 for 2,000 citizens; the providers' registry
// weighs more in smaller territories): --resources is turned into
// citizens with it.
const resourcesPerCitizen = 49

// loadKey keeps the territory load's figures, so a later run on the same
// database (which skips the load) can report them.
var loadKey = store.Key{NS: "bench", Key: "territory-load"}

// platformFlags are the settings of one `bench platform`.
type platformFlags struct {
	db                      string
	territory               demo.Config
	clients                 int
	duration, writeDuration time.Duration
	rawLimit                int64
	// clientsApart runs the load generator as a separate process (this
	// binary's `bench platform-clients`), so its CPU time is its own.
	clientsApart bool
	log          io.Writer
}

func runBenchPlatform(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench platform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := platformFlags{log: stderr}
	fs.StringVar(&f.db, "db", defaultDB, "database: sqlite:PATH or postgres://…")
	citizens := fs.Int("citizens", 0, "the territory's citizens (default: from --resources)")
	resources := fs.Int64("resources", 100000, fmt.Sprintf("the territory's size in resources, about %d a citizen (ignored with --citizens)", resourcesPerCitizen))
	fs.Int64Var(&f.territory.Seed, "seed", 1, "the territory's seed")
	fs.IntVar(&f.clients, "clients", 8, "concurrent clients")
	fs.DurationVar(&f.duration, "duration", 30*time.Second, "length of the mixed workload")
	fs.DurationVar(&f.writeDuration, "write-duration", 10*time.Second, "length of the deposits alone, and at most of each raw-ceiling measurement")
	fs.Int64Var(&f.rawLimit, "raw-limit", 10000, "at most this many resources written by each raw-ceiling measurement (they stay in the database)")
	inProcess := fs.Bool("in-process-clients", false, "run the load generator in this process (its CPU time is then not told apart)")
	out := fs.String("out", "", "write the results as JSON to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f.territory.Citizens = *citizens
	if f.territory.Citizens == 0 {
		f.territory.Citizens = int((*resources + resourcesPerCitizen - 1) / resourcesPerCitizen)
	}
	f.clientsApart = !*inProcess
	rep, err := benchPlatform(ctx, f)
	if err != nil {
		return err
	}
	if err := bench.WritePlatformTable(stdout, rep); err != nil {
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

// benchPlatform serves the platform as serve assembles it on a loopback
// listener, loads the territory and runs the workload against it.
func benchPlatform(ctx context.Context, f platformFlags) (bench.PlatformReport, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := openPlatform(ctx, f.db, quiet)
	if err != nil {
		return bench.PlatformReport{}, err
	}
	defer closer{p}.Close()
	sqlDB, backend, err := tablesDB(p.Store, f.db)
	if err != nil {
		return bench.PlatformReport{}, err
	}
	defer sqlDB.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return bench.PlatformReport{}, err
	}
	base := "http://" + ln.Addr().String() + "/fhir"
	stk, err := newStack(p, stackConfig{BaseURL: base, LoginURL: "/login", MaxBody: rest.DefaultMaxBodyBytes}, quiet)
	if err != nil {
		ln.Close()
		return bench.PlatformReport{}, err
	}
	defer stk.Audit.Close(context.Background())
	srv := &http.Server{Handler: stk.Handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	// The load comes first: the doctor's practitioner, in the tokens, is
	// read from the territory.
	size := dbSize(p.Store, f.db)
	l, err := loadTerritory(ctx, p, f.territory, func(ctx context.Context) (bench.DatabaseStats, error) {
		return bench.MeasureDatabase(ctx, sqlDB, size)
	}, f.log)
	if err != nil {
		return bench.PlatformReport{}, err
	}
	cfg := bench.PlatformConfig{Backend: backend, DB: sqlDB, Base: base, Writer: demoWriterName,
		Territory:   bench.Territory{Citizens: f.territory.Citizens, Seed: f.territory.Seed},
		Load:        func(context.Context) (bench.TerritoryLoad, error) { return l, nil },
		Size:        size,
		Raw:         rawCeiling(p.Store),
		Through:     throughFHIR(p.Store, p.Service),
		LoadWriters: 1, LoadChunk: demoChunk,
		Conc: f.clients, Duration: f.duration, WriteDuration: f.writeDuration, RawLimit: f.rawLimit, Log: f.log}
	if a, ok := p.Store.(interface{ Analyze(context.Context) error }); ok {
		cfg.Analyze = a.Analyze
	}
	if f.clientsApart {
		cfg.Clients = clientsProcess
	}
	if err := benchTokens(ctx, p, stk.Tokens, f.territory, &cfg); err != nil {
		return bench.PlatformReport{}, err
	}
	return bench.RunPlatform(ctx, cfg)
}

// loadTerritory loads the demo territory as serve --demo does and
// measures the database (once: a database holding it already is reported
// with the figures of the run that loaded it).
func loadTerritory(ctx context.Context, p *platform.Platform, cfg demo.Config, measure func(context.Context) (bench.DatabaseStats, error), log io.Writer) (bench.TerritoryLoad, error) {
	fmt.Fprintf(log, "load: the demo territory of %d citizens (seed %d)…\n", cfg.Citizens, cfg.Seed)
	start := time.Now()
	loaded, n, err := loadDemo(ctx, p, cfg)
	if err != nil {
		return bench.TerritoryLoad{}, err
	}
	if !loaded {
		var l bench.TerritoryLoad
		b, err := p.Store.GetKey(ctx, loadKey.NS, loadKey.Key)
		if err != nil && !outcome.Is(err, outcome.NotFound) {
			return l, err
		}
		if err == nil {
			if err := json.Unmarshal(b, &l); err != nil {
				return l, fmt.Errorf("bench: %s: %w", loadKey.Key, err)
			}
		}
		l.Skipped = true
		return l, nil
	}
	l := bench.TerritoryLoad{Resources: n, Seconds: time.Since(start).Seconds()}
	if l.Database, err = measure(ctx); err != nil {
		return l, err
	}
	b, _ := json.Marshal(l)
	return l, p.Store.PutKey(ctx, loadKey, b, time.Time{})
}

// demoChunk and demoWriterName are the demo loader's resources per
// transaction and writer (loadDemo).
const (
	demoChunk      = 1000
	demoWriterName = "demo"
)

// benchTokens issues the workload's bearer tokens: the operator; the
// system client of the cast's public-hospital cluster, which deposits;
// the system client and a doctor of the provider most patients share
// their records with (bench.ClinicDoctor).
func benchTokens(ctx context.Context, p *platform.Platform, tokens *token.Service, tc demo.Config, cfg *bench.PlatformConfig) error {
	cast, err := demo.CastOf(tc)
	if err != nil {
		return err
	}
	clinic, doctor, err := bench.ClinicDoctor(ctx, cfg.DB, time.Now())
	if err != nil {
		return err
	}
	v, err := p.Service.Read(ctx, resource.Caller{}, "PractitionerRole", doctor)
	if err != nil {
		return fmt.Errorf("bench: the doctor's role: %w", err)
	}
	role, err := fhir.Parse(v.Body)
	if err != nil {
		return err
	}
	practitioner, _ := role["practitioner"].(map[string]any)
	who, _ := practitioner["reference"].(string)
	cfg.Clinic, cfg.DepositOrg = "Organization/"+clinic, "Organization/"+cast.Cluster
	issue := func(c token.Claims) (string, error) {
		raw, _, err := tokens.Issue(ctx, c, token.MaxTTL)
		return raw, err
	}
	if cfg.Operator, _, err = tokens.IssueOperator(ctx, token.Claims{Subject: "operator", ClientID: "ehealth-bench",
		Scope: scope.MustParse("system/*.cruds"), Operator: true}, token.MaxTTL); err != nil {
		return err
	}
	if cfg.Depositor, err = issue(token.Claims{Subject: cfg.DepositOrg, ClientID: "bench-deposit", Org: cfg.DepositOrg,
		Scope: scope.MustParse("system/*.cruds")}); err != nil {
		return err
	}
	if cfg.ClinicSystem, err = issue(token.Claims{Subject: cfg.Clinic, ClientID: "bench-clinic", Org: cfg.Clinic,
		Scope: scope.MustParse("system/*.cruds")}); err != nil {
		return err
	}
	cfg.Doctor, err = issue(token.Claims{Subject: "dr.private", ClientID: "bench-emr", FHIRUser: who, Org: cfg.Clinic,
		Role: "PractitionerRole/" + doctor, Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})
	return err
}

// dbSize is the database's bytes on disk: SQLite's file with its WAL and
// shared-memory index, PostgreSQL's pg_database_size.
func dbSize(st store.Store, dbURL string) func(context.Context) (int64, error) {
	if pg, ok := st.(*postgres.Store); ok {
		return func(ctx context.Context) (int64, error) {
			var n int64
			err := pg.Pool().QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n)
			return n, err
		}
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite:"), "//")
	return func(context.Context) (int64, error) {
		var n int64
		for _, suffix := range []string{"", "-wal", "-shm"} {
			fi, err := os.Stat(path + suffix)
			if errors.Is(err, os.ErrNotExist) && suffix != "" {
				continue
			}
			if err != nil {
				return 0, err
			}
			n += fi.Size()
		}
		return n, nil
	}
}

// rawCeiling puts copies of the sample straight into the store: each
// version read once, indexed once, then written again and again with a
// fresh id (and the body's id changed to it) — no parsing, validation,
// authorisation, consent or audit per write. This is
// BenchmarkTransactionRaw's ceiling (internal/resource), on the
// benchmark's own database.
func rawCeiling(st store.Store) bench.RawFunc {
	return func(ctx context.Context, sample []string, perTx, writers int, ordered bool, d time.Duration, limit int64) (bench.RawStats, error) {
		versions, rows, err := rawVersions(ctx, st, sample)
		if err != nil {
			return bench.RawStats{}, err
		}
		return copies(ctx, rows, perTx, writers, ordered, d, limit, func(ctx context.Context, picks []int, ids []string) error {
			return st.Write(ctx, func(t store.Tx) error {
				for i, k := range picks {
					v := fresh(versions[k], ids[i])
					if err := t.Put(ctx, &v, 0); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
}

// throughFHIR writes the same copies as rawCeiling through the resource
// service, as the demo loader does: a transaction Bundle of PUTs at the
// new ids (parsed once beforehand: the loader is handed parsed resources).
func throughFHIR(st store.Store, svc *resource.Service) bench.RawFunc {
	return func(ctx context.Context, sample []string, perTx, writers int, ordered bool, d time.Duration, limit int64) (bench.RawStats, error) {
		versions, rows, err := rawVersions(ctx, st, sample)
		if err != nil {
			return bench.RawStats{}, err
		}
		parsed := make([]map[string]any, len(versions))
		for i, v := range versions {
			if parsed[i], err = fhir.Parse(v.Body); err != nil {
				return bench.RawStats{}, err
			}
			delete(parsed[i], "meta")
		}
		caller := resource.Caller{Writer: rawWriter}
		return copies(ctx, rows, perTx, writers, ordered, d, limit, func(ctx context.Context, picks []int, ids []string) error {
			entries := make([]any, len(picks))
			for i, k := range picks {
				res := maps.Clone(parsed[k])
				res["id"] = ids[i]
				entries[i] = map[string]any{"resource": res, "request": map[string]any{"method": "PUT", "url": versions[k].Type + "/" + ids[i]}}
			}
			_, err := svc.Bundle(ctx, caller, map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}, resource.ReturnMinimal)
			return err
		})
	}
}

// copies runs write from writers concurrent writers, each call with the
// next perTx of the sample (by index into rows, the index rows of each)
// and as many fresh ids, for d or until limit resources are written.
func copies(ctx context.Context, rows []int, perTx, writers int, ordered bool, d time.Duration, limit int64,
	write func(ctx context.Context, picks []int, ids []string) error) (bench.RawStats, error) {
	rs := bench.RawStats{Writers: writers, PerTx: perTx}
	var written, indexRows, next, seq atomic.Int64
	// Ascending ids sort after every earlier run's: the start time.
	prefix := fmt.Sprintf("raw%x-", time.Now().UnixMicro())
	newID := uuid.NewString
	if ordered {
		newID = func() string { return fmt.Sprintf("%s%010d", prefix, seq.Add(1)) }
	}
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for time.Now().Before(deadline) && written.Load() < limit && ctx.Err() == nil {
				from := int(next.Add(int64(perTx))) - perTx
				picks, ids := make([]int, perTx), make([]string, perTx)
				n := 0
				for i := range perTx {
					picks[i], ids[i] = (from+i)%len(rows), newID()
					n += rows[picks[i]]
				}
				if err := write(ctx, picks, ids); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				written.Add(int64(perTx))
				indexRows.Add(int64(n))
			}
		})
	}
	wg.Wait()
	rs.Seconds = time.Since(start).Seconds()
	rs.Resources, rs.IndexRows = written.Load(), indexRows.Load()
	if rs.Seconds > 0 {
		rs.ResourcesPerSec = float64(rs.Resources) / rs.Seconds
	}
	if firstErr != nil {
		return rs, fmt.Errorf("bench: write of copies: %w", firstErr)
	}
	return rs, nil
}

// rawVersions reads the sample's current versions and computes their
// index rows as the write path does; rows[i] is versions[i]'s row count.
func rawVersions(ctx context.Context, st store.Store, sample []string) ([]store.Version, []int, error) {
	ix := search.NewIndexer(search.NewRegistry(), search.Extractor{})
	var versions []store.Version
	var rows []int
	for _, ref := range sample {
		typ, id, _ := strings.Cut(ref, "/")
		v, err := st.Read(ctx, typ, id)
		if err != nil {
			return nil, nil, fmt.Errorf("bench: raw sample %s: %w", ref, err)
		}
		res, err := fhir.Parse(v.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("bench: raw sample %s: %w", ref, err)
		}
		if v.Index, _, err = ix.Index(ctx, res, v.PatientKey); err != nil {
			return nil, nil, fmt.Errorf("bench: raw sample %s: %w", ref, err)
		}
		n := 0
		for _, e := range v.Index {
			if c, ok := e.Row.(search.CompositeRow); ok {
				n += len(c.Parts)
			} else {
				n++
			}
		}
		versions, rows = append(versions, v), append(rows, n)
	}
	if len(versions) == 0 {
		return nil, nil, errors.New("bench: empty raw sample")
	}
	return versions, rows, nil
}

// rawWriter is the writer of the raw ceiling's copies, which stay in the
// database: not the territory's, so later runs pick nothing from them.
const rawWriter = "ehealth-bench-raw"

// fresh is a copy of v as a new resource id: the id in the body too, and
// version 1 written now by rawWriter.
func fresh(v store.Version, id string) store.Version {
	v.Body = bytes.Replace(v.Body, []byte(`"id":"`+v.ID+`"`), []byte(`"id":"`+id+`"`), 1)
	v.ID, v.VersionID, v.Updated, v.Method, v.Writer = id, 1, time.Now().UTC().Truncate(time.Microsecond), store.MethodCreate, rawWriter
	return v
}

// clientsProcess runs the load generator as `ehealth bench
// platform-clients`, a separate process of this binary, handing it the
// workload as JSON on stdin: its CPU time and peak memory are then its
// own.
func clientsProcess(ctx context.Context, w bench.Workload) (bench.ClientResult, bench.ProcessUsage, error) {
	exe, err := os.Executable()
	if err != nil {
		return bench.ClientResult{}, bench.ProcessUsage{}, err
	}
	in, err := json.Marshal(w)
	if err != nil {
		return bench.ClientResult{}, bench.ProcessUsage{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "platform-clients")
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return bench.ClientResult{}, bench.ProcessUsage{}, fmt.Errorf("bench: load generator: %w: %s", err, errOut.Bytes())
	}
	var res bench.ClientResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return res, bench.ProcessUsage{}, fmt.Errorf("bench: load generator's result: %w", err)
	}
	st := cmd.ProcessState
	return res, bench.ProcessUsage{CPUSeconds: (st.UserTime() + st.SystemTime()).Seconds(), PeakRSSBytes: res.PeakRSSBytes}, nil
}

// runBenchClients is `bench platform-clients`: the load generator's
// process, workload JSON on stdin, result JSON on stdout.
func runBenchClients(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	var w bench.Workload
	if err := json.NewDecoder(stdin).Decode(&w); err != nil {
		return fmt.Errorf("bench platform-clients: %w", err)
	}
	res, err := bench.RunClients(ctx, w)
	if err != nil {
		return err
	}
	res.PeakRSSBytes = bench.OwnPeakRSS()
	return json.NewEncoder(stdout).Encode(res)
}
