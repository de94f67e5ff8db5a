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
// c's behalf (resource.Service.Transact) and returns the stored resources
// in order: all land or none does.
func (r *Registry) transact(ctx context.Context, c resource.Caller, writes []write) ([]map[string]any, error) {
	ws := make([]resource.Write, len(writes))
	for i, w := range writes {
		ws[i] = resource.Write{Type: w.typ, ID: w.id, Resource: w.res, IfMatch: w.ifMatch}
	}
	return r.svc.Transact(ctx, system(c), ws...)
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
