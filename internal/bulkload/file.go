package bulkload

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// maxLine bounds one NDJSON line (one resource).
const maxLine = 64 << 20

// loadJSON loads a file holding one resource or one Bundle.
func (l *Loader) loadJSON(ctx context.Context, path string, r io.Reader) {
	data, err := io.ReadAll(r)
	if err != nil {
		l.reject(path, "", fmt.Errorf("read: %w", err))
		return
	}
	res, err := fhir.Parse(data)
	if err != nil {
		l.reject(path, "", fmt.Errorf("not FHIR JSON: %w", err))
		return
	}
	rt, _ := res["resourceType"].(string)
	typ, _ := res["type"].(string)
	switch {
	case rt == "Bundle" && (typ == "transaction" || typ == "batch"):
		l.loadBundle(ctx, path, res)
	case rt == "Bundle":
		l.loadCollection(ctx, path, res)
	default:
		l.writeChunk(ctx, path, []item{{where: "", res: res}})
	}
}

// loadBundle sends a transaction or batch Bundle, its creates made
// updates at fixed ids (resume.go).
func (l *Loader) loadBundle(ctx context.Context, path string, b map[string]any) {
	if !l.copies {
		atFixedIDs(path, b)
	}
	resp, err := l.svc.Bundle(ctx, l.caller, b, resource.ReturnMinimal)
	if err != nil {
		l.reject(path, "", err)
		return
	}
	l.count(path, resp, func(i int) string { return fmt.Sprintf("entry %d", i) })
}

// count tallies a response Bundle: 2xx entries were written, others are
// rejections.
func (l *Loader) count(path string, resp map[string]any, where func(int) string) {
	out, _ := resp["entry"].([]any)
	for i, e := range out {
		m, _ := e.(map[string]any)
		r, _ := m["response"].(map[string]any)
		status, _ := r["status"].(string)
		if strings.HasPrefix(status, "2") {
			l.resources.Add(1)
			continue
		}
		msg := status
		if oo, ok := r["outcome"].(map[string]any); ok {
			msg = outcomeText(oo)
		}
		l.reject(path, where(i), fmt.Errorf("%s", msg))
	}
}

// loadCollection loads the resources of a Bundle that is not a transaction
// (collection, searchset, document…) as updates at their ids.
func (l *Loader) loadCollection(ctx context.Context, path string, b map[string]any) {
	entries, _ := b["entry"].([]any)
	chunk := make([]item, 0, l.chunk)
	for i, e := range entries {
		m, _ := e.(map[string]any)
		res, ok := m["resource"].(map[string]any)
		if !ok {
			l.reject(path, fmt.Sprintf("entry %d", i), fmt.Errorf("entry has no resource"))
			continue
		}
		chunk = append(chunk, item{where: fmt.Sprintf("entry %d", i), res: res})
		if len(chunk) == l.chunk {
			l.writeChunk(ctx, path, chunk)
			chunk = chunk[:0]
		}
	}
	l.writeChunk(ctx, path, chunk)
}

// loadNDJSON loads one resource per line, streaming, in chunks.
func (l *Loader) loadNDJSON(ctx context.Context, path string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), maxLine)
	chunk := make([]item, 0, l.chunk)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if len(strings.TrimSpace(string(text))) == 0 {
			continue
		}
		res, err := fhir.Parse(text)
		if err != nil {
			l.reject(path, fmt.Sprintf("line %d", line), fmt.Errorf("not FHIR JSON: %w", err))
			continue
		}
		chunk = append(chunk, item{where: fmt.Sprintf("line %d", line), res: res})
		if len(chunk) == l.chunk {
			l.writeChunk(ctx, path, chunk)
			chunk = chunk[:0]
		}
	}
	if err := sc.Err(); err != nil {
		l.reject(path, fmt.Sprintf("line %d", line+1), fmt.Errorf("read: %w", err))
	}
	l.writeChunk(ctx, path, chunk)
}

// item is one resource to load and where it came from.
type item struct {
	where string
	res   map[string]any
}

// writeChunk writes resources as one transaction (the fast path); if that
// fails it writes them again as a batch, so each resource lands or is
// rejected on its own. Resources with an id are updated at it (so a reload
// is idempotent and references between files hold); others at an id fixed
// by their file and place (resume.go).
func (l *Loader) writeChunk(ctx context.Context, path string, items []item) {
	if len(items) == 0 {
		return
	}
	entries := make([]any, len(items))
	for i, it := range items {
		rt, _ := it.res["resourceType"].(string)
		id, _ := it.res["id"].(string)
		if id == "" {
			id = placeID(path, it.where)
			it.res["id"] = id
		}
		entries[i] = map[string]any{"resource": it.res, "request": map[string]any{"method": "PUT", "url": rt + "/" + id}}
	}
	where := func(i int) string { return items[i].where }
	tx := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
	if resp, err := l.svc.Bundle(ctx, l.caller, tx, resource.ReturnMinimal); err == nil {
		l.count(path, resp, where)
		return
	}
	batch := map[string]any{"resourceType": "Bundle", "type": "batch", "entry": entries}
	resp, err := l.svc.Bundle(ctx, l.caller, batch, resource.ReturnMinimal)
	if err != nil {
		l.reject(path, items[0].where, err)
		return
	}
	l.count(path, resp, where)
}

// outcomeText flattens an OperationOutcome's diagnostics.
func outcomeText(oo map[string]any) string {
	issues, _ := oo["issue"].([]any)
	msgs := []string{}
	for _, is := range issues {
		m, _ := is.(map[string]any)
		if sev, _ := m["severity"].(string); sev == "warning" || sev == "information" {
			continue // a rejection is explained by its errors
		}
		d, _ := m["diagnostics"].(string)
		if exprs, ok := m["expression"].([]any); ok && len(exprs) > 0 {
			d += fmt.Sprintf(" (at %v)", exprs[0])
		}
		msgs = append(msgs, d)
	}
	return strings.Join(msgs, "; ")
}
