package bulkdata

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// jobNS is the keyed-store namespace of export jobs.
const jobNS = "bulkdata.job"

// The states of a job.
const (
	InProgress = "in-progress"
	Complete   = "complete"
	Failed     = "failed"
)

// DefaultTTL is how long a finished export's files are kept.
const DefaultTTL = 24 * time.Hour

// stale is how long an in-progress job may go without a word from the
// server running it before it is taken for interrupted (that server
// stopped).
const stale = 5 * time.Minute

// Job is an asynchronous export's state, kept in the keyed store so any
// server answers its status.
type Job struct {
	ID      string    `json:"id"`
	Owner   string    `json:"owner"`   // who kicked it off (client and user); only they see it
	Request string    `json:"request"` // the kick-off URL
	State   string    `json:"state"`
	Started time.Time `json:"started"` // the manifest's transactionTime
	Updated time.Time `json:"updated"` // the running server's last word
	Written int64     `json:"written"` // resources written so far
	Files   []File    `json:"files,omitempty"`
	// Inputs are an import's inputs, with what came of each.
	Inputs []Input `json:"inputs,omitempty"`
	// Errors are the OperationOutcome files (type OperationOutcome).
	Errors  []File `json:"errors,omitempty"`
	Problem string `json:"problem,omitempty"` // why it failed
}

// Config configures the jobs.
type Config struct {
	// Dir is where exports write their files (created if missing).
	Dir string
	// TTL is how long a job and its files are kept after it starts (0:
	// DefaultTTL).
	TTL time.Duration
	// ImportDir, when set, is the only directory $import reads file: URLs
	// from; without it file: inputs are refused.
	ImportDir string
	// HTTP fetches $import's http(s) inputs (nil: a client with a 30 s
	// timeout to connect and for headers).
	HTTP *http.Client
	Log  *slog.Logger
}

// Jobs runs Bulk Data exports and imports in the background and keeps
// their state and files.
type Jobs struct {
	svc  *resource.Service
	keys store.Keyed
	dir  string
	ttl  time.Duration
	cfg  Config
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	running map[string]context.CancelFunc
}

// NewJobs runs jobs through svc, keeping their state in keys.
func NewJobs(svc *resource.Service, keys store.Keyed, cfg Config) (*Jobs, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext, ResponseHeaderTimeout: 30 * time.Second}}
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("bulk data: the files' directory: %w", err)
	}
	return &Jobs{svc: svc, keys: keys, dir: cfg.Dir, ttl: cfg.TTL, cfg: cfg, log: cfg.Log, now: time.Now, running: map[string]context.CancelFunc{}}, nil
}

// Start checks that c may export what req asks — the Group exists for it,
// and it may search every type named in _type — and starts the job,
// returning its id at once.
func (j *Jobs) Start(ctx context.Context, c resource.Caller, owner, requestURL string, req Request, baseURL string) (string, error) {
	if req.Level == Group {
		if _, err := j.svc.Read(ctx, c, "Group", req.Group); err != nil {
			return "", err
		}
	}
	for _, typ := range req.Types {
		if _, err := j.svc.Search(ctx, c, typ, url.Values{"_count": {"1"}, "_total": {"none"}}, resource.SearchOptions{BaseURL: baseURL}); err != nil {
			return "", err
		}
	}
	job, runCtx, err := j.begin(ctx, owner, requestURL, nil)
	if err != nil {
		return "", err
	}
	go j.run(runCtx, c, job, req, baseURL)
	return job.ID, nil
}

// begin records a new job in progress (with a directory of its own) and
// returns it with the context it runs in, cancelled by Cancel.
func (j *Jobs) begin(ctx context.Context, owner, requestURL string, inputs []Input) (Job, context.Context, error) {
	j.sweep(ctx)
	var b [16]byte
	rand.Read(b[:])
	now := j.now().UTC()
	job := Job{ID: hex.EncodeToString(b[:]), Owner: owner, Request: requestURL, State: InProgress, Started: now, Updated: now, Inputs: inputs}
	if err := os.Mkdir(j.jobDir(job.ID), 0o700); err != nil {
		return Job{}, nil, fmt.Errorf("bulk data: a directory for the job: %w", err)
	}
	if err := j.save(ctx, job); err != nil {
		return Job{}, nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	j.mu.Lock()
	j.running[job.ID] = cancel
	j.mu.Unlock()
	return job, runCtx, nil
}

// end forgets a job's cancel function once it has run.
func (j *Jobs) end(id string) {
	j.mu.Lock()
	if cancel, ok := j.running[id]; ok {
		cancel()
		delete(j.running, id)
	}
	j.mu.Unlock()
}

// finish records how job ended (err nil: complete).
func (j *Jobs) finish(ctx context.Context, job Job, err error) {
	job.Updated = j.now()
	if err != nil {
		job.State, job.Problem = Failed, problem(err)
		j.log.Error("bulk data job failed", "job", job.ID, "err", err)
	} else {
		job.State = Complete
	}
	if err := j.save(ctx, job); err != nil {
		j.log.Error("bulk data: saving the finished job", "job", job.ID, "err", err)
	}
}

// run runs job to its end and records how it ended.
func (j *Jobs) run(ctx context.Context, c resource.Caller, job Job, req Request, baseURL string) {
	defer j.end(job.ID)
	sink := &DirSink{Dir: j.jobDir(job.ID), Keys: true}
	var last time.Time
	res, err := Run(ctx, j.svc, c, req, sink, Options{BaseURL: baseURL, Progress: func(_ string, written int64) {
		job.Written = written
		if j.now().Sub(last) > time.Second { // at most one progress write a second
			last = j.now()
			job.Updated = last
			if err := j.save(ctx, job); err != nil {
				j.log.Warn("export: saving progress", "job", job.ID, "err", err)
			}
		}
	}})
	sink.CloseOpen()
	if ctx.Err() != nil { // cancelled: Cancel removes it
		return
	}
	job.Files = res.Files
	job.Written = 0
	for _, f := range res.Files {
		job.Written += int64(f.Count)
	}
	if err == nil && len(res.Skipped) > 0 {
		var f File
		f, err = j.skippedFile(job.ID, res.Skipped)
		job.Errors = []File{f}
	}
	j.finish(ctx, job, err)
}

// problem is what a failed job's status says: an outcome's own text, or a
// generic one for anything internal (logged instead).
func problem(err error) string {
	var oe *outcome.Error
	if errors.As(err, &oe) && oe.Kind != outcome.Internal && len(oe.Issues) > 0 {
		return oe.Issues[0].Message
	}
	return "the export failed on the server; kick it off again"
}

// skippedFile writes the OperationOutcome file naming the types left out.
func (j *Jobs) skippedFile(id string, types []string) (File, error) {
	oo := map[string]any{"resourceType": "OperationOutcome", "issue": []any{map[string]any{
		"severity": "information", "code": "forbidden",
		"diagnostics": "not exported: the caller may not search " + strings.Join(types, ", "),
	}}}
	b, err := json.Marshal(oo)
	if err != nil {
		return File{}, err
	}
	f := File{Type: "OperationOutcome", N: 1, Count: 1}
	if err := os.WriteFile(filepath.Join(j.jobDir(id), f.Name()), append(b, '\n'), 0o600); err != nil {
		return File{}, fmt.Errorf("export: the error file: %w", err)
	}
	return f, nil
}

// Status returns owner's job id. A job of another owner, an unknown or an
// expired one is outcome.NotFound; one whose server stopped answering
// reads as failed.
func (j *Jobs) Status(ctx context.Context, owner, id string) (Job, error) {
	b, err := j.keys.GetKey(ctx, jobNS, id)
	if outcome.Is(err, outcome.NotFound) {
		return Job{}, outcome.New(outcome.NotFound, "no export job %q", id)
	}
	if err != nil {
		return Job{}, fmt.Errorf("export: read job: %w", err)
	}
	var job Job
	if err := json.Unmarshal(b, &job); err != nil {
		return Job{}, fmt.Errorf("export: job %s: %w", id, err)
	}
	if job.Owner != owner {
		return Job{}, outcome.New(outcome.NotFound, "no export job %q", id)
	}
	if job.State == InProgress && j.now().Sub(job.Updated) > stale {
		job.State, job.Problem = Failed, "the server running the export stopped; kick it off again"
	}
	return job, nil
}

// Open opens a file of owner's finished job, with the patient keys of the
// resources it holds (for the audit of its download).
func (j *Jobs) Open(ctx context.Context, owner, id, name string) (io.ReadCloser, []string, error) {
	job, err := j.Status(ctx, owner, id)
	if err != nil {
		return nil, nil, err
	}
	var found bool
	for _, f := range append(job.Files, job.Errors...) {
		found = found || f.Name() == name
	}
	if job.State != Complete || !found {
		return nil, nil, outcome.New(outcome.NotFound, "export job %s has no file %q", id, name)
	}
	keys, err := readKeys(filepath.Join(j.jobDir(id), keysName(name)))
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(filepath.Join(j.jobDir(id), name))
	if err != nil {
		return nil, nil, fmt.Errorf("export: open %s: %w", name, err)
	}
	return f, keys, nil
}

// Cancel stops owner's job id if it runs and deletes it and its files.
func (j *Jobs) Cancel(ctx context.Context, owner, id string) error {
	if _, err := j.Status(ctx, owner, id); err != nil {
		return err
	}
	j.mu.Lock()
	if cancel, ok := j.running[id]; ok {
		cancel()
		delete(j.running, id)
	}
	j.mu.Unlock()
	if err := j.keys.DeleteKey(ctx, jobNS, id); err != nil {
		return fmt.Errorf("export: delete job: %w", err)
	}
	return j.remove(id)
}

// sweep removes the directories of jobs whose state has expired.
func (j *Jobs) sweep(ctx context.Context) {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := j.keys.GetKey(ctx, jobNS, e.Name()); outcome.Is(err, outcome.NotFound) {
			if err := j.remove(e.Name()); err != nil {
				j.log.Warn("export: removing an expired job's files", "job", e.Name(), "err", err)
			}
		}
	}
}

// save writes job's state, expiring ttl after it started.
func (j *Jobs) save(ctx context.Context, job Job) error {
	b, err := json.Marshal(job)
	if err != nil {
		return err
	}
	if err := j.keys.PutKey(ctx, store.Key{NS: jobNS, Key: job.ID}, b, job.Started.Add(j.ttl)); err != nil {
		return fmt.Errorf("export: save job: %w", err)
	}
	return nil
}

func (j *Jobs) jobDir(id string) string { return filepath.Join(j.dir, id) }

func (j *Jobs) remove(id string) error {
	if !validID(id) {
		return nil
	}
	return os.RemoveAll(j.jobDir(id))
}

// validID reports whether id can be a job's (hex), so no path is built
// from anything else.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// keysName is the name of the file beside name listing its patient keys.
func keysName(name string) string { return strings.TrimSuffix(name, ".ndjson") + ".keys" }

// readKeys reads a keys file (missing: none).
func readKeys(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, sc.Err()
}

// DirSink writes an export's files into a directory: Type-n.ndjson and,
// with Keys, beside each a Type-n.keys listing its patient keys.
type DirSink struct {
	Dir  string
	Keys bool
	open *os.File
}

// Create opens the file, closing the previous one.
func (s *DirSink) Create(typ string, n int) (io.Writer, error) {
	s.CloseOpen()
	f, err := os.OpenFile(filepath.Join(s.Dir, File{Type: typ, N: n}.Name()), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	s.open = f
	return f, nil
}

// Close closes the file and writes its keys.
func (s *DirSink) Close(f File, keys []string) error {
	if s.open != nil {
		err := s.open.Close()
		s.open = nil
		if err != nil {
			return fmt.Errorf("export: close %s: %w", f.Name(), err)
		}
	}
	if !s.Keys {
		return nil
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('\n')
	}
	return os.WriteFile(filepath.Join(s.Dir, keysName(f.Name())), []byte(b.String()), 0o600)
}

// CloseOpen closes a file left open by a run that stopped half-way.
func (s *DirSink) CloseOpen() {
	if s.open != nil {
		s.open.Close()
		s.open = nil
	}
}
