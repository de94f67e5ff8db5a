package conformance

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/terminology"
)

// TerminologyTypes are the resource types the terminology service serves.
var TerminologyTypes = []string{"CodeSystem", "ValueSet", "ConceptMap"}

// Terminology ties the terminology service to the store.
type Terminology struct {
	svc   *terminology.Service
	store store.Store
	log   *slog.Logger
}

// NewTerminology returns the link between svc and the resources in st.
func NewTerminology(svc *terminology.Service, st store.Store, log *slog.Logger) *Terminology {
	return &Terminology{svc: svc, store: st, log: log}
}

// Service is the terminology service the stored resources feed: its
// current tables answer displays and designations.
func (t *Terminology) Service() *terminology.Service { return t.svc }

// Load gives the service every stored, not deleted CodeSystem, ValueSet
// and ConceptMap (their current versions), in one snapshot.
func (t *Terminology) Load(ctx context.Context) (int, error) {
	var all []map[string]any
	for _, typ := range TerminologyTypes {
		seen := map[string]bool{}
		for v, err := range t.store.History(ctx, store.HistoryQuery{Type: typ, Access: store.AccessAll}) {
			if err != nil {
				return 0, fmt.Errorf("load stored %s: %w", typ, err)
			}
			if seen[v.ID] {
				continue // newest first: the first version seen is current
			}
			seen[v.ID] = true
			if v.Deleted {
				continue
			}
			res, err := fhir.Parse(v.Body)
			if err != nil {
				return 0, fmt.Errorf("load stored %s/%s: %w", typ, v.ID, err)
			}
			all = append(all, res)
		}
	}
	if err := t.svc.PutAll(all); err != nil {
		return 0, fmt.Errorf("load stored terminology: %w", err)
	}
	return len(all), nil
}

// Observe is the resource service observer that follows terminology
// writes: a new version replaces the previous one (removed first when its
// url or version changed); a delete removes it.
func (t *Terminology) Observe(ctx context.Context, v store.Version) {
	if err := t.follow(ctx, v); err != nil {
		t.log.Error("terminology cache out of step with the store", "resource", v.Type+"/"+v.ID, "version", v.VersionID, "err", err)
	}
}

func (t *Terminology) follow(ctx context.Context, v store.Version) error {
	var res map[string]any
	if !v.Deleted {
		var err error
		if res, err = fhir.Parse(v.Body); err != nil {
			return err
		}
	}
	if v.VersionID > 1 {
		prev, err := t.store.ReadVersion(ctx, v.Type, v.ID, v.VersionID-1)
		if err != nil {
			return err
		}
		if !prev.Deleted {
			old, err := fhir.Parse(prev.Body)
			if err != nil {
				return err
			}
			if canon := canonical(old); canon != "" && (res == nil || canon != canonical(res)) {
				if err := t.svc.Remove(v.Type, canon); err != nil {
					return err
				}
			}
		}
	}
	if res == nil {
		return nil
	}
	return t.svc.Put(res)
}

// canonical is url|version of a terminology resource ("" without a url).
func canonical(res map[string]any) string {
	u, _ := res["url"].(string)
	if u == "" {
		return ""
	}
	if ver, _ := res["version"].(string); ver != "" {
		return u + "|" + ver
	}
	return u
}

// operations are the terminology operations by resource type.
var operations = map[string][]string{
	"CodeSystem": {"$lookup", "$subsumes", "$validate-code"},
	"ValueSet":   {"$expand", "$validate-code"},
	"ConceptMap": {"$translate"},
}

// Names lists the operations the terminology service runs on typ.
func (t *Terminology) Names(typ string) []string { return operations[typ] }

// Run runs a terminology operation at type level (instance nil) or on a
// stored instance, with parameters from the query (GET) or a Parameters body.
// Terminology is public knowledge: any caller may run it.
func (t *Terminology) Run(ctx context.Context, _ resource.Caller, typ, name string, instance map[string]any, query url.Values, body map[string]any) (map[string]any, error) {
	params := body
	if params == nil {
		params = terminology.QueryParameters(query)
	}
	if instance != nil {
		params = terminology.InstanceParameters(name, instance, params)
	}
	return t.svc.Operation(ctx, typ, name, params)
}

// Observer returns Observe as a resource service option for the
// terminology types.
func (t *Terminology) Observer() resource.Option {
	return resource.WithObserver(t.Observe, TerminologyTypes...)
}

// Codes expands token search modifiers (:in, :not-in, :above, :below)
// from the terminology service's current tables.
func (t *Terminology) Codes() resource.Codes { return codes{t.svc} }

type codes struct{ svc *terminology.Service }

func (c codes) InValueSet(url string) (map[string][]string, error) {
	return c.svc.Tables().InValueSet(url)
}

func (c codes) Below(system, code string) ([]string, bool) { return c.svc.Tables().Below(system, code) }

func (c codes) Above(system, code string) ([]string, bool) { return c.svc.Tables().Above(system, code) }
