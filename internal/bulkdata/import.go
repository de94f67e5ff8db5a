package bulkdata

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/bulkload"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// maxProblems bounds the rejections an import's status lists per input
// (the count is always whole).
const maxProblems = 100

// Input is one NDJSON file of an import
// (https://github.com/smart-on-fhir/bulk-import/blob/master/import.md),
// with what came of it once loaded.
type Input struct {
	Type     string   `json:"type"`
	URL      string   `json:"url"`
	Loaded   int64    `json:"loaded"`   // resources written (an unchanged one too: a re-run's)
	Rejected int      `json:"rejected"` // resources refused
	Problems []string `json:"problems,omitempty"`
}

// ParseImport reads an $import kick-off's Parameters: inputFormat (NDJSON
// only), inputSource, and one input (type, url) per file; storageDetail is
// accepted when it is https or file. Urls are http(s), or file: ones
// under the configured directory.
func (j *Jobs) ParseImport(p map[string]any) ([]Input, error) {
	if p["resourceType"] != "Parameters" {
		return nil, outcome.At(outcome.Invalid, "resourceType", "$import takes a Parameters resource")
	}
	var inputs []Input
	params, _ := p["parameter"].([]any)
	for i, pp := range params {
		m, _ := pp.(map[string]any)
		path := fmt.Sprintf("Parameters.parameter[%d]", i)
		switch m["name"] {
		case "inputFormat":
			if f := valueOf(m); f != "application/fhir+ndjson" && f != "application/ndjson" && f != "ndjson" {
				return nil, outcome.At(outcome.Invalid, path, "the inputFormat is application/fhir+ndjson, not %q", f)
			}
		case "inputSource":
		case "storageDetail":
			for _, part := range parts(m) {
				if part["name"] == "type" && valueOf(part) != "https" && valueOf(part) != "file" {
					return nil, outcome.At(outcome.Invalid, path, "storageDetail type %q is not offered (https, file)", valueOf(part))
				}
			}
		case "input":
			var in Input
			for _, part := range parts(m) {
				switch part["name"] {
				case "type":
					in.Type = valueOf(part)
				case "url":
					in.URL = valueOf(part)
				}
			}
			if !fhir.IsResourceType(in.Type) {
				return nil, outcome.At(outcome.Invalid, path, "an input names its resource type, not %q", in.Type)
			}
			if err := j.checkURL(in.URL); err != nil {
				return nil, outcome.At(outcome.Invalid, path, "%v", err)
			}
			inputs = append(inputs, in)
		default:
			return nil, outcome.At(outcome.Invalid, path, "the $import parameter %q is not supported", m["name"])
		}
	}
	if len(inputs) == 0 {
		return nil, outcome.At(outcome.Invalid, "Parameters.parameter", "$import needs at least one input")
	}
	return inputs, nil
}

// checkURL accepts http(s) URLs and file: URLs below the import directory.
func (j *Jobs) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("the input url %q is not a URL", raw)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return fmt.Errorf("the input url %q has no host", raw)
		}
		return nil
	case "file":
		_, err := j.importPath(u)
		return err
	}
	return fmt.Errorf("the input url %q is neither http(s) nor file", raw)
}

// importPath is the local file a file: URL names, which must lie below the
// import directory (symbolic links resolved).
func (j *Jobs) importPath(u *url.URL) (string, error) {
	if j.cfg.ImportDir == "" {
		return "", fmt.Errorf("this server reads no file: inputs (no import directory is configured)")
	}
	root, err := filepath.EvalSymlinks(j.cfg.ImportDir)
	if err != nil {
		return "", fmt.Errorf("the import directory: %w", err)
	}
	path, err := filepath.EvalSymlinks(filepath.Clean(u.Path))
	if err != nil {
		return "", fmt.Errorf("the input %s cannot be read", u.Path)
	}
	if rel, err := filepath.Rel(root, path); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("the input %s is outside the import directory", u.Path)
	}
	return path, nil
}

// StartImport starts loading inputs and returns the job's id at once. Each
// input is loaded as `ehealth import` loads a file — streamed, in
// transactions, every resource at its id, so an import run again after a
// failure writes nothing twice.
func (j *Jobs) StartImport(ctx context.Context, owner, requestURL string, inputs []Input) (string, error) {
	job, runCtx, err := j.begin(ctx, owner, requestURL, inputs)
	if err != nil {
		return "", err
	}
	go j.runImport(runCtx, job)
	return job.ID, nil
}

// runImport loads job's inputs one after the other.
func (j *Jobs) runImport(ctx context.Context, job Job) {
	defer j.end(job.ID)
	var failed error
	for i := range job.Inputs {
		in := &job.Inputs[i]
		l := bulkload.New(j.svc, bulkload.Options{Writer: "import"})
		stop := j.importProgress(ctx, &job, l)
		sum, err := j.loadInput(ctx, l, in.URL)
		stop()
		if ctx.Err() != nil {
			return // cancelled: Cancel removes it
		}
		in.Loaded, in.Rejected = sum.Resources, len(sum.Rejected)
		for _, r := range sum.Rejected[:min(len(sum.Rejected), maxProblems)] {
			in.Problems = append(in.Problems, strings.TrimSpace(r.Where+": "+r.Reason))
		}
		job.Written += sum.Resources
		if err != nil {
			failed = fmt.Errorf("import %s: %w", in.URL, err)
			break
		}
	}
	j.finish(ctx, job, failed)
}

// loadInput fetches one input and loads it.
func (j *Jobs) loadInput(ctx context.Context, l *bulkload.Loader, raw string) (bulkload.Summary, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return bulkload.Summary{}, outcome.New(outcome.Invalid, "the input url %q is not a URL", raw)
	}
	var body io.ReadCloser
	switch u.Scheme {
	case "file":
		path, err := j.importPath(u)
		if err != nil {
			return bulkload.Summary{}, outcome.New(outcome.Invalid, "%v", err)
		}
		if body, err = os.Open(path); err != nil {
			return bulkload.Summary{}, outcome.New(outcome.Invalid, "the input %s cannot be read", u.Path)
		}
	default:
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
		if err != nil {
			return bulkload.Summary{}, outcome.New(outcome.Invalid, "the input url %q cannot be fetched", raw)
		}
		req.Header.Set("Accept", "application/fhir+ndjson")
		resp, err := j.cfg.HTTP.Do(req)
		if err != nil {
			return bulkload.Summary{}, outcome.New(outcome.Invalid, "fetching %s failed: %v", raw, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return bulkload.Summary{}, outcome.New(outcome.Invalid, "fetching %s answered %s", raw, resp.Status)
		}
		body = resp.Body
	}
	defer body.Close()
	name := u.Path
	if !strings.HasSuffix(strings.TrimSuffix(strings.ToLower(name), ".gz"), ".ndjson") {
		name += ".ndjson" // an input is NDJSON whatever its URL says
	}
	if u.Scheme != "file" {
		name = u.Scheme + "://" + u.Host + name
	}
	return l.LoadReader(ctx, name, body)
}

// importProgress saves job's progress (what is written so far) every
// second until stopped.
func (j *Jobs) importProgress(ctx context.Context, job *Job, l *bulkload.Loader) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	base := job.Written
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n, _ := l.Progress()
				p := *job
				p.Written, p.Updated = base+n, j.now()
				if err := j.save(ctx, p); err != nil {
					j.log.Warn("import: saving progress", "job", job.ID, "err", err)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// parts returns a parameter's parts.
func parts(m map[string]any) []map[string]any {
	ps, _ := m["part"].([]any)
	out := make([]map[string]any, 0, len(ps))
	for _, p := range ps {
		if pm, ok := p.(map[string]any); ok {
			out = append(out, pm)
		}
	}
	return out
}

// valueOf returns a parameter's string-like value.
func valueOf(m map[string]any) string {
	for _, k := range []string{"valueCode", "valueUri", "valueUrl", "valueString"} {
		if v, ok := m[k].(string); ok {
			return v
		}
	}
	return ""
}
