package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"time"
)

// PlatformConfig is one run of the platform benchmark (`ehealth bench
// platform`): a demo territory loaded into a backend, then the fixed
// workload over HTTP against the server as serve assembles it.
type PlatformConfig struct {
	Backend string  // "sqlite" or "postgres", recorded in the report
	DB      *sql.DB // read-only access to the store's tables, for counts and picks
	// Base is the FHIR base URL of the server under test; the bearer
	// tokens act as the operator, as a provider's system client
	// (Depositor, of DepositOrg), as the private clinic's system client
	// (ClinicSystem) and as a doctor of that clinic (Doctor, of Clinic).
	Base                                      string
	Operator, Depositor, ClinicSystem, Doctor string
	DepositOrg, Clinic                        string // Organization/ID
	Territory                                 Territory
	// Writer is the territory's writer: the parameters and samples are
	// picked from its resources, not from what earlier runs deposited.
	Writer string
	// Load loads the territory (or says it was loaded before); Analyze
	// refreshes the planner's statistics; Size is the database's bytes on
	// disk; Raw is the raw ceiling (see RawFunc). Load, Analyze may be nil.
	Load    func(context.Context) (TerritoryLoad, error)
	Analyze func(context.Context) error
	Size    func(context.Context) (int64, error)
	Raw     RawFunc
	// Through writes the same copies as Raw through the resource service's
	// transaction Bundle (PUT at the new ids), as the loader does.
	Through RawFunc
	// LoadWriters and LoadChunk are the territory loader's writers and
	// resources per transaction, which the raw ceiling of the load copies.
	LoadWriters, LoadChunk int
	// Clients runs the load generator; nil runs it in this process (its
	// CPU time then cannot be told apart from the server's).
	Clients  ClientsFunc
	Conc     int           // concurrent clients
	Duration time.Duration // the mixed workload
	// WriteDuration is how long the deposits run alone, and at most each
	// raw-ceiling measurement; RawLimit bounds the resources each writes.
	WriteDuration time.Duration
	RawLimit      int64
	Log           io.Writer
}

// Territory is the demo territory's size and seed.
type Territory struct {
	Citizens int   `json:"citizens"`
	Seed     int64 `json:"seed"`
}

// TerritoryLoad is how the territory was loaded: now, or (Skipped) by an
// earlier run whose figures are repeated.
type TerritoryLoad struct {
	Skipped         bool    `json:"skipped"`
	Resources       int64   `json:"resources"`
	Seconds         float64 `json:"seconds"`
	ResourcesPerSec float64 `json:"resources_per_sec"`
	// Through is a sample of the territory's resources written again (at
	// new ids) through the FHIR transaction as the loader writes them, and
	// Raw the same rows put straight into the store, in transactions of
	// the loader's size, taking turns; RatioToRaw is Through / Raw.
	Through    RawStats `json:"through_fhir"`
	Raw        RawStats `json:"raw"`
	RatioToRaw float64  `json:"ratio_to_raw"`
	// Database is the store right after the load (MeasureDatabase), before
	// any workload deposited.
	Database DatabaseStats `json:"database"`
}

// RawFunc writes copies of the sample resources ("Type/id"), with fresh
// ids and the index rows the indexer computes for them, straight into the
// store — no parsing, validation, authorisation, consent or audit — in
// transactions of perTx resources from writers concurrent writers, for d
// or until limit resources are written. The fresh ids are ascending when
// ordered (as the territory's, which the loader writes in order), random
// UUIDs otherwise (as the server assigns to a POST): B-tree inserts at
// the end against inserts anywhere.
type RawFunc func(ctx context.Context, sample []string, perTx, writers int, ordered bool, d time.Duration, limit int64) (RawStats, error)

// RawStats is one raw-ceiling measurement.
type RawStats struct {
	Writers         int     `json:"writers"`
	PerTx           int     `json:"resources_per_transaction"`
	Resources       int64   `json:"resources"`
	IndexRows       int64   `json:"index_rows"`
	Seconds         float64 `json:"seconds"`
	ResourcesPerSec float64 `json:"resources_per_sec"`
}

// ClientsFunc runs the load generator for w and says what it cost.
type ClientsFunc func(ctx context.Context, w Workload) (ClientResult, ProcessUsage, error)

// ProcessUsage is the CPU and peak memory of a separate load-generator
// process.
type ProcessUsage struct {
	CPUSeconds   float64
	PeakRSSBytes int64
}

// PlatformReport is the outcome of a run, written as JSON by the command.
type PlatformReport struct {
	Backend        string        `json:"backend"`
	Started        time.Time     `json:"started"`
	Machine        Machine       `json:"machine"`
	Territory      Territory     `json:"territory"`
	Load           TerritoryLoad `json:"load"`
	AnalyzeSeconds float64       `json:"analyze_seconds"`
	Database       DatabaseStats `json:"database"`
	Setup          Setup         `json:"setup"`
	Mix            WorkloadRun   `json:"mix"`
	Deposits       DepositRun    `json:"deposits"`
	// PeakRSS is the server process's peak resident set (the load, the
	// workload; SQLite included, a PostgreSQL server not) and the load
	// generator's when it ran apart.
	PeakRSSBytes       int64 `json:"peak_rss_bytes"`
	ClientPeakRSSBytes int64 `json:"client_peak_rss_bytes"`
}

// DatabaseStats are the store's size: resources current, index rows,
// bytes on disk.
type DatabaseStats struct {
	Resources            int64   `json:"resources"`
	IndexRows            int64   `json:"index_rows"`
	IndexRowsPerResource float64 `json:"index_rows_per_resource"`
	Bytes                int64   `json:"bytes"`
	BytesPerResource     float64 `json:"bytes_per_resource"`
}

// Setup is what the workload was given.
type Setup struct {
	Clinic         string  `json:"clinic"`
	SharedPatients int     `json:"shared_patients"` // sharing consent to Clinic, care relationship made at setup
	HiddenPatients int     `json:"hidden_patients"` // no sharing consent to Clinic
	Reads          int     `json:"reads"`           // resources read by id, a sample of every type
	Patients       int     `json:"patients"`        // queried by the search and $everything
	ObsCode        string  `json:"observation_code"`
	CondCode       string  `json:"condition_code"`
	CondCodeCount  int64   `json:"condition_code_count"`
	CareSeconds    float64 `json:"care_seconds"` // the clinic's Encounters making the care relationships
}

// WorkloadRun is one run of the load generator.
type WorkloadRun struct {
	Clients        int     `json:"clients"`
	Seconds        float64 `json:"seconds"`
	RequestsPerSec float64 `json:"requests_per_sec"`
	// ServerCPUSeconds is this process's CPU time during the run: the
	// server (and SQLite), plus the load generator when ClientApart is
	// false. ClientCPUSeconds is the load generator's own, when apart.
	ServerCPUSeconds float64   `json:"server_cpu_seconds"`
	ClientApart      bool      `json:"client_apart"`
	ClientCPUSeconds float64   `json:"client_cpu_seconds"`
	MachineBusy      float64   `json:"machine_cpu_busy"` // fraction of all CPUs busy
	Ops              []OpStats `json:"ops"`
	usage            ProcessUsage
}

// DepositRun is the deposits alone, against the raw ceiling.
type DepositRun struct {
	WorkloadRun
	ResourcesPerSec float64  `json:"resources_per_sec"`
	Raw             RawStats `json:"raw"`
	RatioToRaw      float64  `json:"ratio_to_raw"`
}

// OpStats is one operation within a run; latencies are nearest-rank
// percentiles over every client's answers.
type OpStats struct {
	Name       string  `json:"name"`
	Count      int     `json:"count"`
	Errors     int     `json:"errors"`
	PerSec     float64 `json:"per_sec"`
	P50        float64 `json:"p50_ms"`
	P95        float64 `json:"p95_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
	Resources  float64 `json:"resources_per_sec,omitempty"` // deposits
	FirstError string  `json:"first_error,omitempty"`
}

// RunPlatform loads the territory, prepares the workload and runs it: the
// mix from cfg.Conc clients, then the deposits alone, then the raw
// ceilings of the deposits and of the load.
func RunPlatform(ctx context.Context, cfg PlatformConfig) (PlatformReport, error) {
	if cfg.DB == nil || cfg.Raw == nil || cfg.Through == nil || cfg.Size == nil || cfg.Base == "" {
		return PlatformReport{}, errors.New("bench: platform config needs DB, Raw, Through, Size and Base")
	}
	cfg.Conc = max(cfg.Conc, 1)
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	rep := PlatformReport{Backend: cfg.Backend, Started: time.Now().UTC(), Territory: cfg.Territory, Machine: Machine{
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		SharedNote: "server, database and load generator share these CPUs",
	}}
	if err := loadTerritory(ctx, cfg, &rep, logf); err != nil {
		return rep, err
	}
	w, err := prepare(ctx, cfg, &rep, logf)
	if err != nil {
		return rep, err
	}
	rep.Machine.LoadBefore = loadAvg()
	logf("mix: %d clients, %s", cfg.Conc, cfg.Duration)
	w.Ops, w.Duration = MixOps, cfg.Duration
	if rep.Mix, err = runWorkload(ctx, cfg, w); err != nil {
		return rep, err
	}
	if err := writes(ctx, cfg, w, &rep, logf); err != nil {
		return rep, err
	}
	rep.Machine.LoadAfter = loadAvg()
	rep.PeakRSSBytes = peakRSS()
	rep.ClientPeakRSSBytes = max(rep.Mix.usage.PeakRSSBytes, rep.Deposits.usage.PeakRSSBytes)
	if cfg.Clients == nil {
		rep.ClientPeakRSSBytes = 0 // the load generator's memory is the server's
	}
	return rep, nil
}

// loadTerritory loads the territory and measures the database.
func loadTerritory(ctx context.Context, cfg PlatformConfig, rep *PlatformReport, logf func(string, ...any)) error {
	if cfg.Load != nil {
		l, err := cfg.Load(ctx)
		if err != nil {
			return err
		}
		if l.Seconds > 0 {
			l.ResourcesPerSec = float64(l.Resources) / l.Seconds
		}
		rep.Load = l
		logf("load: %d resources in %.1f s (%.0f/s)%s", l.Resources, l.Seconds, l.ResourcesPerSec, map[bool]string{true: ", by an earlier run"}[l.Skipped])
	}
	if cfg.Analyze != nil {
		start := time.Now()
		if err := cfg.Analyze(ctx); err != nil {
			return err
		}
		rep.AnalyzeSeconds = time.Since(start).Seconds()
	}
	var err error
	if rep.Database, err = MeasureDatabase(ctx, cfg.DB, cfg.Size); err != nil {
		return err
	}
	db := rep.Database
	logf("database now: %d resources, %.1f index rows and %.0f bytes each", db.Resources, db.IndexRowsPerResource, db.BytesPerResource)
	return nil
}

// MeasureDatabase counts the current resources and the index rows and
// asks size for the bytes on disk.
func MeasureDatabase(ctx context.Context, db *sql.DB, size func(context.Context) (int64, error)) (DatabaseStats, error) {
	var st DatabaseStats
	var err error
	if st.Resources, st.IndexRows, err = counts(ctx, db); err != nil {
		return st, err
	}
	if st.Bytes, err = size(ctx); err != nil {
		return st, err
	}
	if st.Resources > 0 {
		st.IndexRowsPerResource = float64(st.IndexRows) / float64(st.Resources)
		st.BytesPerResource = float64(st.Bytes) / float64(st.Resources)
	}
	return st, nil
}

// runWorkload runs the load generator once and turns what it saw into
// figures.
func runWorkload(ctx context.Context, cfg PlatformConfig, w Workload) (WorkloadRun, error) {
	var rt runTally
	if err := rt.run(ctx, cfg, w); err != nil {
		return WorkloadRun{}, err
	}
	return rt.figures(w.Clients, cfg.Clients != nil), nil
}

// runTally accumulates runs of the load generator (rounds taking turns
// with other measurements).
type runTally struct {
	res         ClientResult
	use         ProcessUsage
	cpu         time.Duration
	busy, ticks uint64
}

// run runs the load generator once and adds what it saw.
func (t *runTally) run(ctx context.Context, cfg PlatformConfig, w Workload) error {
	busy0, ticks0 := machineTicks()
	cpu0 := cpuTime()
	var res ClientResult
	var use ProcessUsage
	var err error
	if cfg.Clients != nil {
		res, use, err = cfg.Clients(ctx, w)
	} else {
		res, err = RunClients(ctx, w)
	}
	if err != nil {
		return err
	}
	t.cpu += cpuTime() - cpu0
	if busy1, ticks1 := machineTicks(); ticks1 > ticks0 {
		t.busy, t.ticks = t.busy+busy1-busy0, t.ticks+ticks1-ticks0
	}
	t.use.CPUSeconds += use.CPUSeconds
	t.use.PeakRSSBytes = max(t.use.PeakRSSBytes, use.PeakRSSBytes)
	t.res.Seconds += res.Seconds
	for i, o := range res.Ops {
		if i == len(t.res.Ops) {
			t.res.Ops = append(t.res.Ops, OpSamples{Name: o.Name})
		}
		a := &t.res.Ops[i]
		a.LatencyUS = append(a.LatencyUS, o.LatencyUS...)
		a.Errors += o.Errors
		a.Resources += o.Resources
		if a.FirstError == "" {
			a.FirstError = o.FirstError
		}
	}
	return nil
}

// figures are the accumulated runs' figures.
func (t *runTally) figures(clients int, apart bool) WorkloadRun {
	run := WorkloadRun{Clients: clients, ClientApart: apart, Seconds: t.res.Seconds,
		ServerCPUSeconds: t.cpu.Seconds(), ClientCPUSeconds: t.use.CPUSeconds, usage: t.use}
	if t.ticks > 0 {
		run.MachineBusy = float64(t.busy) / float64(t.ticks)
	}
	for _, s := range t.res.Ops {
		st := opStats(s, t.res.Seconds)
		run.RequestsPerSec += st.PerSec
		run.Ops = append(run.Ops, st)
	}
	return run
}

// opStats sorts an operation's latencies into its figures.
func opStats(s OpSamples, seconds float64) OpStats {
	st := OpStats{Name: s.Name, Count: len(s.LatencyUS), Errors: s.Errors, FirstError: s.FirstError}
	if st.Count == 0 || seconds <= 0 {
		return st
	}
	lat := make([]time.Duration, len(s.LatencyUS))
	for i, us := range s.LatencyUS {
		lat[i] = time.Duration(us) * time.Microsecond
	}
	slices.Sort(lat)
	st.PerSec = float64(st.Count) / seconds
	st.P50, st.P95, st.P99 = ms(percentile(lat, 50)), ms(percentile(lat, 95)), ms(percentile(lat, 99))
	st.Max = ms(lat[len(lat)-1])
	if s.Resources > 0 {
		st.Resources = float64(s.Resources) / seconds
	}
	return st
}

// writeRounds is how many turns the write measurements and their raw
// ceilings take, so a change in the machine's other load falls on both.
const writeRounds = 3

// writes measures the deposits alone and the same rows put raw into the
// store, taking turns; then the territory's rows written through the
// FHIR transaction as the loader writes them and raw, taking turns.
func writes(ctx context.Context, cfg PlatformConfig, w Workload, rep *PlatformReport, logf func(string, ...any)) error {
	// The deposits' own resources, read back from a deposit made now.
	body, err := DepositBundle(w.Citizens[0], w.DepositOrg, time.Now())
	if err != nil {
		return err
	}
	sample, err := postBundle(ctx, newDriver(w), cfg.Base, cfg.Depositor, body)
	if err != nil {
		return fmt.Errorf("bench: deposit for the raw ceiling: %w", err)
	}
	turn := cfg.WriteDuration / writeRounds
	limit := cfg.RawLimit / writeRounds
	w.Ops, w.Duration = []string{OpDeposit}, turn
	d := &rep.Deposits
	var rt runTally
	for round := range writeRounds {
		logf("writes round %d/%d: deposits alone (%d clients), then raw (%d writers, %d resources a transaction)", round+1, writeRounds, cfg.Conc, cfg.Conc, len(sample))
		if err := rt.run(ctx, cfg, w); err != nil {
			return err
		}
		raw, err := cfg.Raw(ctx, sample, len(sample), cfg.Conc, false, turn, limit)
		if err != nil {
			return err
		}
		d.Raw.add(raw)
	}
	d.WorkloadRun = rt.figures(w.Clients, cfg.Clients != nil)
	if len(d.Ops) == 1 {
		d.ResourcesPerSec = d.Ops[0].Resources
	}
	if d.Raw.ResourcesPerSec > 0 {
		d.RatioToRaw = d.ResourcesPerSec / d.Raw.ResourcesPerSec
	}
	// The territory's resources, every k-th of the database.
	chunk := max(cfg.LoadChunk, 1)
	terr, err := spread(ctx, cfg.DB, cfg.Writer, chunk)
	if err != nil {
		return err
	}
	l := &rep.Load
	writers := max(cfg.LoadWriters, 1)
	for round := range writeRounds {
		logf("writes round %d/%d: %d territory resources a transaction through FHIR, then raw (%d writers)", round+1, writeRounds, chunk, writers)
		through, err := cfg.Through(ctx, terr, chunk, writers, true, turn, limit)
		if err != nil {
			return err
		}
		l.Through.add(through)
		raw, err := cfg.Raw(ctx, terr, chunk, writers, true, turn, limit)
		if err != nil {
			return err
		}
		l.Raw.add(raw)
	}
	if l.Raw.ResourcesPerSec > 0 {
		l.RatioToRaw = l.Through.ResourcesPerSec / l.Raw.ResourcesPerSec
	}
	return nil
}

// add accumulates another measurement of the same shape.
func (r *RawStats) add(o RawStats) {
	r.Writers, r.PerTx = o.Writers, o.PerTx
	r.Resources += o.Resources
	r.IndexRows += o.IndexRows
	r.Seconds += o.Seconds
	if r.Seconds > 0 {
		r.ResourcesPerSec = float64(r.Resources) / r.Seconds
	}
}

// postBundle posts a transaction Bundle and returns the "Type/id" of what
// it created.
func postBundle(ctx context.Context, d *driver, base, bearer string, body []byte) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base, bytesReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("POST transaction: %s: %s", resp.Status, b)
	}
	var out struct {
		Entry []struct {
			Response struct {
				Location string `json:"location"`
			} `json:"response"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("POST transaction: %w", err)
	}
	var refs []string
	for _, e := range out.Entry {
		if ref := typeID(e.Response.Location); ref != "" {
			refs = append(refs, ref)
		}
	}
	if len(refs) == 0 {
		return nil, errors.New("POST transaction: no locations in the response")
	}
	return refs, nil
}
