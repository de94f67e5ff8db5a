package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ehealthplus/ehealth/internal/fhirpath"
)

// Indexer computes the search index rows of a resource at write time:
// every parameter the registry holds for its type, its FHIRPath expression
// evaluated on the resource, each value found turned into rows by the
// Extractor. Expressions are compiled once and shared; an Indexer is safe
// for concurrent use.
type Indexer struct {
	reg *Registry
	ext Extractor

	mu       sync.RWMutex
	compiled map[string]*fhirpath.Expression // by expression text
}

// NewIndexer returns an indexer over reg's parameters.
func NewIndexer(reg *Registry, ext Extractor) *Indexer {
	return &Indexer{reg: reg, ext: ext, compiled: map[string]*fhirpath.Expression{}}
}

// Index returns the rows of res and of the resources it contains
// (contained.go), each carrying patientKey. A parameter whose expression
// fails on this resource is skipped and reported in skipped (the write
// goes on: a resource is never refused because of its index), and the
// error of a cancelled ctx ends the work.
func (ix *Indexer) Index(ctx context.Context, res map[string]any, patientKey string) (entries []Entry, skipped []error, err error) {
	typ, _ := res["resourceType"].(string)
	entries, skipped, err = ix.index(ctx, res, patientKey, ix.reg.ForType(typ))
	if err != nil {
		return nil, nil, err
	}
	return ix.indexContained(ctx, res, patientKey, nil, entries, skipped)
}

// IndexParams is Index for the given parameter codes only: a reindex after
// a custom SearchParameter is added.
func (ix *Indexer) IndexParams(ctx context.Context, res map[string]any, patientKey string, codes []string) (entries []Entry, skipped []error, err error) {
	typ, _ := res["resourceType"].(string)
	var params []*Param
	for _, p := range ix.reg.ForType(typ) {
		if slices.Contains(codes, p.Code) {
			params = append(params, p)
		}
	}
	entries, skipped, err = ix.index(ctx, res, patientKey, params)
	if err != nil {
		return nil, nil, err
	}
	return ix.indexContained(ctx, res, patientKey, codes, entries, skipped)
}

func (ix *Indexer) index(ctx context.Context, res map[string]any, patientKey string, params []*Param) (entries []Entry, skipped []error, err error) {
	typ, _ := res["resourceType"].(string)
	id, _ := res["id"].(string)
	opts := &fhirpath.Options{Resource: res, RootResource: res, Resolver: referenceStub}
	var buf fhirpath.Collection
	for _, p := range params {
		if fullText[p.Code] {
			if r, ok := textRow(p.Code, res); ok {
				entries = append(entries, Entry{ResourceType: typ, ResourceID: id, PatientKey: patientKey, Code: p.Code, Row: r})
			}
			continue
		}
		if p.Expression == "" || p.Type == Special && !IsNear(p) || answeredByStore[p.Code] {
			continue
		}
		var rows []Row
		rows, buf, err = ix.rows(ctx, p, res, opts, buf[:0])
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			skipped = append(skipped, fmt.Errorf("%s.%s: %w", typ, p.Code, err))
			continue
		}
		for _, r := range rows {
			entries = append(entries, Entry{ResourceType: typ, ResourceID: id, PatientKey: patientKey, Code: p.Code, Row: r})
		}
	}
	return entries, skipped, nil
}

// rows evaluates one parameter on res.
func (ix *Indexer) rows(ctx context.Context, p *Param, res map[string]any, opts *fhirpath.Options, buf fhirpath.Collection) ([]Row, fhirpath.Collection, error) {
	e, err := ix.compile(p.Expression)
	if err != nil {
		return nil, buf, err
	}
	found, err := e.EvaluateAppend(ctx, buf, res, opts)
	if err != nil {
		return nil, buf, err
	}
	var rows []Row
	for _, v := range found {
		if p.Type != Composite {
			rows = append(rows, ix.ext.Extract(p, v.TypeName(), v.JSON())...)
			continue
		}
		parts, err := ix.components(ctx, p, v, opts)
		if err != nil {
			return nil, found, err
		}
		rows = append(rows, ExtractComposite(p, parts)...)
	}
	return rows, found, nil
}

// components evaluates a composite parameter's components on one element.
func (ix *Indexer) components(ctx context.Context, p *Param, v fhirpath.Value, opts *fhirpath.Options) ([][]Row, error) {
	parts := make([][]Row, len(p.Components))
	for i, c := range p.Components {
		e, err := ix.compile(c.Expression)
		if err != nil {
			return nil, err
		}
		found, err := e.Evaluate(ctx, v, opts)
		if err != nil {
			return nil, err
		}
		part := &Param{Code: c.Code, Type: c.Type}
		for _, f := range found {
			parts[i] = append(parts[i], ix.ext.Extract(part, f.TypeName(), f.JSON())...)
		}
	}
	return parts, nil
}

func (ix *Indexer) compile(expr string) (*fhirpath.Expression, error) {
	ix.mu.RLock()
	e, ok := ix.compiled[expr]
	ix.mu.RUnlock()
	if ok {
		return e, nil
	}
	e, err := fhirpath.Compile(expr)
	if err != nil {
		return nil, err
	}
	ix.mu.Lock()
	ix.compiled[expr] = e
	ix.mu.Unlock()
	return e, nil
}

// answeredByStore are the parameters the store answers from the resource
// itself (its id and the time of its current version), not from index rows.
var answeredByStore = map[string]bool{"_id": true, "_lastUpdated": true}

// referenceStub resolves a literal reference to a stub of the resource it
// names, {"resourceType": T, "id": id}, so expressions such as
// "subject.where(resolve() is Patient)" work at write time without reading
// other resources.
func referenceStub(ref string) map[string]any {
	ref, _, _ = strings.Cut(ref, "/_history/")
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return nil
	}
	typ, id := parts[len(parts)-2], parts[len(parts)-1]
	if typ == "" || id == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return nil
	}
	return map[string]any{"resourceType": typ, "id": id}
}
