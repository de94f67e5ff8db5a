package registry

import (
	"context"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// write is one resource a transaction stores at typ/id.
type write struct {
	typ, id string
	res     map[string]any
	// ifMatch is the version the resource must be at (0: unconditional, as
	// for a new id), so a concurrent change fails the whole transaction.
	ifMatch int64
}

// transact stores every write in one transaction Bundle as the platform on
// c's behalf (https://hl7.org/fhir/R4/http.html#transaction) and returns
// the stored resources in order: all land or none does.
func (r *Registry) transact(ctx context.Context, c resource.Caller, writes []write) ([]map[string]any, error) {
	entries := make([]any, len(writes))
	for i, w := range writes {
		w.res["id"] = w.id
		req := map[string]any{"method": "PUT", "url": w.typ + "/" + w.id}
		if w.ifMatch > 0 {
			req["ifMatch"] = resource.ETag(w.ifMatch)
		}
		entries[i] = map[string]any{"resource": w.res, "request": req}
	}
	bundle := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
	resp, err := r.svc.Bundle(ctx, system(c), bundle, resource.ReturnRepresentation)
	if err != nil {
		return nil, err
	}
	list, _ := resp["entry"].([]any)
	if len(list) != len(writes) {
		return nil, outcome.New(outcome.Internal, "registry: the transaction answered %d entries for %d writes", len(list), len(writes))
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		m, _ := e.(map[string]any)
		res, ok := m["resource"].(map[string]any)
		if !ok {
			return nil, outcome.New(outcome.Internal, "registry: entry %d of the transaction answered no resource", i)
		}
		out[i] = res
	}
	return out, nil
}

// versionOf reads meta.versionId of a stored resource (0 when absent).
func versionOf(res map[string]any) int64 {
	meta, _ := res["meta"].(map[string]any)
	s, _ := meta["versionId"].(string)
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return 0
	}
	return n
}

// retried runs fn again when a concurrent writer changed one of its
// resources first (412 from an entry's ifMatch), at most three times.
func retried(fn func() error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = fn()
		if !outcome.Is(err, outcome.PreconditionFailed) {
			return err
		}
	}
	return err
}
