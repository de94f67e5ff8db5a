package resource

import (
	"context"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Write is one resource Transact stores at Type/ID.
type Write struct {
	Type, ID string
	Resource map[string]any
	// IfMatch is the version the resource must be at (0: unconditional,
	// as for a new id), so a concurrent change fails the whole
	// transaction.
	IfMatch int64
}

// Transact stores every write in one transaction Bundle as c
// (https://hl7.org/fhir/R4/http.html#transaction): all land or none does.
// It returns the stored resources in order. The platform's operations
// (registration, consent) write their resources and notices this way.
func (s *Service) Transact(ctx context.Context, c Caller, writes ...Write) ([]map[string]any, error) {
	entries := make([]any, len(writes))
	for i, w := range writes {
		w.Resource["id"] = w.ID
		req := map[string]any{"method": "PUT", "url": w.Type + "/" + w.ID}
		if w.IfMatch > 0 {
			req["ifMatch"] = ETag(w.IfMatch)
		}
		entries[i] = map[string]any{"resource": w.Resource, "request": req}
	}
	bundle := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
	resp, err := s.Bundle(ctx, c, bundle, ReturnRepresentation)
	if err != nil {
		return nil, err
	}
	list, _ := resp["entry"].([]any)
	if len(list) != len(writes) {
		return nil, outcome.New(outcome.Internal, "the transaction answered %d entries for %d writes", len(list), len(writes))
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		m, _ := e.(map[string]any)
		res, ok := m["resource"].(map[string]any)
		if !ok {
			return nil, outcome.New(outcome.Internal, "entry %d of the transaction answered no resource", i)
		}
		out[i] = res
	}
	return out, nil
}
