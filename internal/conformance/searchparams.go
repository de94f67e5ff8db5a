package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// reindexBatch is how many resources one reindex transaction rewrites.
const reindexBatch = 200

// SearchParameters ties custom SearchParameter resources to the search
// registry: a stored one is registered at once — writes index it from
// then on — and a background job reindexes the existing resources of its
// base types; only then do searches use it. The job reports its progress
// in a Task resource (Task/reindex-{id}-{version}) a client can GET.
type SearchParameters struct {
	reg   *search.Registry
	ix    *search.Indexer
	store store.Store
	log   *slog.Logger
	svc   *resource.Service

	wg     sync.WaitGroup
	cancel context.CancelFunc
	ctx    context.Context
}

// NewSearchParameters returns the link between stored SearchParameters and
// reg. Call Start with the resource service before serving.
func NewSearchParameters(reg *search.Registry, ix *search.Indexer, st store.Store, log *slog.Logger) *SearchParameters {
	ctx, cancel := context.WithCancel(context.Background())
	return &SearchParameters{reg: reg, ix: ix, store: st, log: log, ctx: ctx, cancel: cancel}
}

// Observer returns the resource service option that follows
// SearchParameter writes.
func (p *SearchParameters) Observer() resource.Option {
	return resource.WithObserver(p.Observe, "SearchParameter")
}

// Start registers every stored SearchParameter; those whose reindex has
// not completed (no completed Task) are reindexed again in the background.
func (p *SearchParameters) Start(ctx context.Context, svc *resource.Service) error {
	p.svc = svc
	for v, err := range p.store.Current(ctx, "SearchParameter", "", 0) {
		if err != nil {
			return fmt.Errorf("load stored SearchParameters: %w", err)
		}
		if err := p.register(v); err != nil {
			p.log.Error("stored SearchParameter not usable", "resource", "SearchParameter/"+v.ID, "err", err)
		}
	}
	return nil
}

// Close stops running reindex jobs and waits for them.
func (p *SearchParameters) Close() {
	p.cancel()
	p.wg.Wait()
}

// Observe follows one committed SearchParameter write.
func (p *SearchParameters) Observe(ctx context.Context, v store.Version) {
	if v.VersionID > 1 {
		if prev, err := p.store.ReadVersion(ctx, v.Type, v.ID, v.VersionID-1); err == nil && !prev.Deleted {
			if old, err := fhir.Parse(prev.Body); err == nil {
				if url, _ := old["url"].(string); url != "" {
					p.reg.Remove(url)
				}
			}
		}
	}
	if v.Deleted {
		return
	}
	if err := p.register(v); err != nil {
		p.log.Error("SearchParameter not usable", "resource", "SearchParameter/"+v.ID, "err", err)
	}
}

// register adds the parameter and starts its reindex unless a completed
// Task says it was done for this version.
func (p *SearchParameters) register(v store.Version) error {
	sp, err := fhir.Parse(v.Body)
	if err != nil {
		return err
	}
	if err := p.reg.Add(sp); err != nil {
		return err
	}
	url, _ := sp["url"].(string)
	if done, err := p.store.Read(p.ctx, "Task", taskID(v)); err == nil && !done.Deleted && taskCompleted(done) {
		p.reg.Ready(url)
		return nil
	}
	code, _ := sp["code"].(string)
	bases, _ := sp["base"].([]any)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := p.reindex(p.ctx, v, url, code, bases); err != nil {
			p.log.Error("reindex failed", "search_parameter", url, "err", err)
		}
	}()
	return nil
}

func taskID(v store.Version) string { return fmt.Sprintf("reindex-%s-%d", v.ID, v.VersionID) }

func taskCompleted(v store.Version) bool {
	var t struct {
		Status string `json:"status"`
	}
	return json.Unmarshal(v.Body, &t) == nil && t.Status == "completed"
}

// reindex rewrites the rows of one parameter code for every current
// resource of the base types, batch by batch, reporting progress.
func (p *SearchParameters) reindex(ctx context.Context, sp store.Version, url, code string, bases []any) error {
	done := 0
	report := func(status string) {
		if p.svc == nil {
			return
		}
		task := map[string]any{
			"resourceType": "Task", "id": taskID(sp), "status": status, "intent": "order",
			"code":   map[string]any{"text": "reindex for a search parameter"},
			"focus":  map[string]any{"reference": "SearchParameter/" + sp.ID},
			"input":  []any{map[string]any{"type": map[string]any{"text": "url"}, "valueUri": url}},
			"output": []any{map[string]any{"type": map[string]any{"text": "resources indexed"}, "valueInteger": done}},
		}
		if _, _, err := p.svc.Update(ctx, resource.Caller{Writer: "reindex"}, "Task", taskID(sp), task, 0); err != nil && ctx.Err() == nil {
			p.log.Warn("reindex progress not recorded", "task", taskID(sp), "err", err)
		}
	}
	report("in-progress")
	for _, typ := range baseTypes(bases) {
		n, err := p.reindexType(ctx, typ, code)
		done += n
		if err != nil {
			report("failed")
			return err
		}
		report("in-progress")
	}
	p.reg.Ready(url)
	report("completed")
	p.log.Info("reindex completed", "search_parameter", url, "resources", done)
	return nil
}

// baseTypes are the concrete resource types of a SearchParameter's bases:
// Resource stands for every type, DomainResource for every type but
// Bundle, Binary and Parameters (https://hl7.org/fhir/R4/domainresource.html).
func baseTypes(bases []any) []string {
	var out []string
	add := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, b := range bases {
		switch typ, _ := b.(string); typ {
		case "Resource", "DomainResource":
			for _, t := range fhir.ResourceTypes() {
				if typ == "Resource" || (t != "Bundle" && t != "Binary" && t != "Parameters") {
					add(t)
				}
			}
		case "":
		default:
			add(typ)
		}
	}
	return out
}

func (p *SearchParameters) reindexType(ctx context.Context, typ, code string) (int, error) {
	done, after := 0, ""
	for {
		var batch []store.Version
		for v, err := range p.store.Current(ctx, typ, after, reindexBatch) {
			if err != nil {
				return done, err
			}
			batch = append(batch, v)
		}
		if len(batch) == 0 {
			return done, nil
		}
		err := p.store.Write(ctx, func(tx store.Tx) error {
			for _, v := range batch {
				// A version written since the batch was read was indexed
				// for the parameter by its own write: leave it.
				if cur, err := tx.Read(ctx, v.Type, v.ID); err != nil || cur.VersionID != v.VersionID {
					continue
				}
				res, err := fhir.Parse(v.Body)
				if err != nil {
					return err
				}
				entries, _, err := p.ix.IndexParams(ctx, res, v.PatientKey, []string{code})
				if err != nil {
					return err
				}
				if err := tx.ReplaceIndex(ctx, v.Type, v.ID, []string{code}, entries); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		done += len(batch)
		after = batch[len(batch)-1].ID
	}
}
