package bulkdata

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// DefaultPerFile is how many resources one NDJSON file holds at most
// unless Options say otherwise.
const DefaultPerFile = 100_000

// pageSize is how many resources one search page brings: the search's
// maximum page.
const pageSize = 1000

// Sink receives an export's files.
type Sink interface {
	// Create opens the n-th file (from 1) of resources of type typ.
	Create(typ string, n int) (io.Writer, error)
	// Close ends the file f, with the patient keys (store.Version.PatientKey,
	// once each) of the resources it holds.
	Close(f File, patientKeys []string) error
}

// File is one NDJSON file of an export.
type File struct {
	Type  string `json:"type"`
	N     int    `json:"n"` // the file's number among its type's, from 1
	Count int    `json:"count"`
}

// Name is the file's name: Type-n.ndjson.
func (f File) Name() string { return fmt.Sprintf("%s-%d.ndjson", f.Type, f.N) }

// Options tune a run.
type Options struct {
	PerFile int    // resources per file; 0 means DefaultPerFile
	BaseURL string // the FHIR base, so absolute references to it read as local
	// Progress, when set, hears after every page the type being written
	// and how many resources the run has written so far.
	Progress func(typ string, written int64)
}

// Result is what a finished run wrote.
type Result struct {
	Files []File
	// Skipped are the types left out because the caller may not search
	// them (only when the request named no types).
	Skipped []string
}

// Run writes the export req asks for, as caller c, to sink: every type in
// turn, page by page, a file per PerFile resources. Memory holds one page
// and one file's patient keys (and, when a type has several _typeFilters,
// the ids already written for it, so a resource matching two filters is
// written once).
func Run(ctx context.Context, svc *resource.Service, c resource.Caller, req Request, sink Sink, opts Options) (Result, error) {
	if opts.PerFile <= 0 {
		opts.PerFile = DefaultPerFile
	}
	r := run{svc: svc, c: c, req: req, sink: sink, opts: opts}
	patients := []string{""} // "": no patient filter (system and Patient level)
	if req.Level == Group {
		var err error
		if patients, err = r.members(ctx); err != nil {
			return Result{}, err
		}
	}
	explicit := len(req.Types) > 0
	for _, typ := range r.types() {
		w := &typeWriter{run: &r, typ: typ}
		err := r.exportType(ctx, w, patients)
		if err == nil {
			err = w.close()
		}
		if outcome.Is(err, outcome.Forbidden) && !explicit {
			r.res.Skipped = append(r.res.Skipped, typ)
			continue
		}
		if err != nil {
			return r.res, fmt.Errorf("export %s: %w", typ, err)
		}
	}
	return r.res, nil
}

// run is one export in progress.
type run struct {
	svc  *resource.Service
	c    resource.Caller
	req  Request
	sink Sink
	opts Options
	res  Result
	// written counts the resources written, all types.
	written int64
}

// types lists the types to export: those asked for, or every type of the
// level.
func (r *run) types() []string {
	if len(r.req.Types) > 0 {
		return r.req.Types
	}
	var out []string
	for _, t := range fhir.ResourceTypes() {
		if r.req.Level == System || recordType(t) {
			out = append(out, t)
		}
	}
	return out
}

// members lists the ids of the Patients a Group's active members are,
// the Group read as the caller (a Group it may not see is not found).
func (r *run) members(ctx context.Context) ([]string, error) {
	v, err := r.svc.Read(ctx, r.c, "Group", r.req.Group)
	if err != nil {
		return nil, err
	}
	g, err := fhir.Parse(v.Body)
	if err != nil {
		return nil, fmt.Errorf("export: Group/%s: %w", r.req.Group, err)
	}
	var out []string
	ms, _ := g["member"].([]any)
	for _, m := range ms {
		mm, _ := m.(map[string]any)
		if inactive, _ := mm["inactive"].(bool); inactive {
			continue
		}
		e, _ := mm["entity"].(map[string]any)
		ref, _ := e["reference"].(string)
		if id, ok := strings.CutPrefix(ref, "Patient/"); ok && !strings.Contains(id, "/") {
			out = append(out, id)
		}
	}
	return out, nil
}

// exportType writes every resource of w's type, for each patient (or
// none), for each of its filters (or none).
func (r *run) exportType(ctx context.Context, w *typeWriter, patients []string) error {
	filters := r.req.TypeFilters[w.typ]
	if len(filters) == 0 {
		filters = []url.Values{{}}
	}
	if len(filters) > 1 {
		w.seen = map[string]bool{}
	}
	for _, patient := range patients {
		for _, f := range filters {
			if err := r.pages(ctx, w, patient, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// pages writes one search's every page.
func (r *run) pages(ctx context.Context, w *typeWriter, patient string, filter url.Values) error {
	q := url.Values{}
	for k, v := range filter {
		q[k] = v
	}
	q.Set("_count", fmt.Sprint(pageSize))
	q.Set("_total", "none")
	if !r.req.Since.IsZero() {
		q.Add("_lastUpdated", "gt"+r.req.Since.UTC().Format(time.RFC3339Nano))
	}
	opts := resource.SearchOptions{BaseURL: r.opts.BaseURL, Patient: patient}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := r.svc.Search(ctx, r.c, w.typ, q, opts)
		if err != nil {
			return err
		}
		for _, v := range page.Matches {
			if r.req.Level != System && store.BaseKey(v.PatientKey) == "" {
				continue // in a record type, but in nobody's record
			}
			if err := w.write(v); err != nil {
				return err
			}
		}
		if r.opts.Progress != nil {
			r.opts.Progress(w.typ, r.written)
		}
		if page.Next == "" {
			return nil
		}
		opts.Cursor = page.Next
	}
}

// typeWriter writes one type's files.
type typeWriter struct {
	run  *run
	typ  string
	file File
	out  *bufio.Writer
	keys map[string]bool
	seen map[string]bool // ids written, when several filters may match one resource
	line bytes.Buffer
}

// write appends v's body as one NDJSON line, opening the next file when
// the current one is full.
func (w *typeWriter) write(v store.Version) error {
	if w.seen != nil {
		if w.seen[v.ID] {
			return nil
		}
		w.seen[v.ID] = true
	}
	if w.out != nil && w.file.Count >= w.run.opts.PerFile {
		if err := w.close(); err != nil {
			return err
		}
	}
	if w.out == nil {
		f, err := w.run.sink.Create(w.typ, w.file.N+1)
		if err != nil {
			return fmt.Errorf("export: open the next %s file: %w", w.typ, err)
		}
		w.file = File{Type: w.typ, N: w.file.N + 1}
		w.out = bufio.NewWriterSize(f, 64<<10)
		w.keys = map[string]bool{}
	}
	w.line.Reset()
	if err := json.Compact(&w.line, v.Body); err != nil {
		return fmt.Errorf("export: %s/%s is not JSON: %w", v.Type, v.ID, err)
	}
	w.line.WriteByte('\n')
	if _, err := w.out.Write(w.line.Bytes()); err != nil {
		return fmt.Errorf("export: write %s: %w", w.file.Name(), err)
	}
	if v.PatientKey != "" {
		w.keys[v.PatientKey] = true
	}
	w.file.Count++
	w.run.written++
	return nil
}

// close ends the current file, if one is open.
func (w *typeWriter) close() error {
	if w.out == nil {
		return nil
	}
	if err := w.out.Flush(); err != nil {
		return fmt.Errorf("export: write %s: %w", w.file.Name(), err)
	}
	keys := make([]string, 0, len(w.keys))
	for k := range w.keys {
		keys = append(keys, k)
	}
	if err := w.run.sink.Close(w.file, keys); err != nil {
		return err
	}
	w.run.res.Files = append(w.run.res.Files, w.file)
	w.out = nil
	return nil
}
