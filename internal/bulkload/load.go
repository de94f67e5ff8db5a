package bulkload

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// Loader loads files into the store behind a resource service.
type Loader struct {
	svc     *resource.Service
	caller  resource.Caller
	workers int
	chunk   int
	copies  bool // Options.Copies

	resources atomic.Int64 // resources written
	bytes     atomic.Int64 // bytes of input read
	mu        sync.Mutex
	rejected  []Rejection
}

// Rejection is one file, entry or line that was not loaded, and why.
type Rejection struct {
	File   string
	Where  string // "entry 3", "line 17", or "" for the whole file
	Reason string
}

// Summary is the result of a load.
type Summary struct {
	Files     int
	Resources int64 // resources written
	Rejected  []Rejection
}

// Options configures a Loader.
type Options struct {
	Workers int    // concurrent files; 1 for stores with one writer
	Chunk   int    // resources per transaction for NDJSON and collections; default 500
	Writer  string // recorded as the writer of every version; default "import"
	// Copies loads every pass as new resources: a Bundle's creates stay
	// creates at ids the server chooses (a benchmark growing a database
	// by loading one sample again and again). Such a load is not
	// resumable (resume.go).
	Copies bool
}

// New returns a loader writing through svc.
func New(svc *resource.Service, opts Options) *Loader {
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	if opts.Chunk < 1 {
		opts.Chunk = 500
	}
	if opts.Writer == "" {
		opts.Writer = "import"
	}
	return &Loader{svc: svc, caller: resource.Caller{Writer: opts.Writer}, workers: opts.Workers, chunk: opts.Chunk, copies: opts.Copies}
}

// Progress reports resources written and input bytes read so far.
func (l *Loader) Progress() (resources, bytes int64) { return l.resources.Load(), l.bytes.Load() }

// Files lists the loadable files under paths (files or directories), in
// load order, with their total size. Files whose name contains "hospital"
// or "practitioner" come first, as Synthea's provider bundles must.
func Files(paths []string) ([]string, int64, error) {
	var files []string
	var total int64
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !loadable(path) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
			files = append(files, path)
			return nil
		})
		if err != nil {
			return nil, 0, fmt.Errorf("list %s: %w", p, err)
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return providerFile(files[i]) && !providerFile(files[j]) })
	return files, total, nil
}

func loadable(path string) bool {
	name := strings.TrimSuffix(strings.ToLower(filepath.Base(path)), ".gz")
	return strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".ndjson")
}

func providerFile(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	return strings.Contains(base, "hospital") || strings.Contains(base, "practitioner")
}

// Load loads files: provider files first, one at a time, then the rest by
// the loader's workers. It stops early only when ctx is cancelled;
// anything rejected is in the summary.
func (l *Loader) Load(ctx context.Context, files []string) (Summary, error) {
	first := 0
	for first < len(files) && providerFile(files[first]) {
		l.loadFile(ctx, files[first])
		first++
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				l.loadFile(ctx, f)
			}
		}()
	}
feed:
	for _, f := range files[first:] {
		select {
		case work <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return Summary{Files: len(files), Resources: l.resources.Load(), Rejected: l.rejected}, ctx.Err()
}

func (l *Loader) reject(file, where string, err error) {
	reason := err.Error()
	var oe *outcome.Error
	if errors.As(err, &oe) && len(oe.Issues) > 0 {
		msgs := make([]string, 0, len(oe.Issues))
		for _, is := range oe.Issues {
			if is.Severity == outcome.SeverityWarning || is.Severity == outcome.SeverityInformation {
				continue // a rejection is explained by its errors
			}
			m := is.Message
			if is.Expression != "" {
				m += " (at " + is.Expression + ")"
			}
			msgs = append(msgs, m)
		}
		reason = strings.Join(msgs, "; ")
	}
	l.mu.Lock()
	l.rejected = append(l.rejected, Rejection{File: file, Where: where, Reason: reason})
	l.mu.Unlock()
}

// loadFile loads one file, recording rejections.
func (l *Loader) loadFile(ctx context.Context, path string) {
	f, err := os.Open(path)
	if err != nil {
		l.reject(path, "", err)
		return
	}
	defer f.Close()
	l.load(ctx, path, f)
}

// LoadReader loads one input read from r — a Bundle, a resource, or NDJSON
// when name (a path or URL) ends in .ndjson, gzipped when it ends in .gz —
// and returns the loader's summary so far.
func (l *Loader) LoadReader(ctx context.Context, name string, r io.Reader) (Summary, error) {
	l.load(ctx, name, r)
	l.mu.Lock()
	defer l.mu.Unlock()
	return Summary{Files: 1, Resources: l.resources.Load(), Rejected: l.rejected}, ctx.Err()
}

// load loads one input named name, recording rejections.
func (l *Loader) load(ctx context.Context, name string, in io.Reader) {
	var r io.Reader = &countingReader{r: in, n: &l.bytes}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			l.reject(name, "", fmt.Errorf("gunzip: %w", err))
			return
		}
		defer gz.Close()
		r = gz
	}
	if strings.HasSuffix(strings.TrimSuffix(lower, ".gz"), ".ndjson") {
		l.loadNDJSON(ctx, name, r)
		return
	}
	l.loadJSON(ctx, name, r)
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
