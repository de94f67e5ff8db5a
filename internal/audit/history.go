package audit

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/store"
)

// ReadForPatient returns a page of the journal entries about a patient
// (by Patient id), newest first: at most limit of them (0: 50) with seq
// below before (0: from the newest). next is the before of the following
// page, 0 on the last. It is what the citizen's access history and the
// AuditEvent search read; each entry names only this patient.
func ReadForPatient(ctx context.Context, log store.AuditLog, patient string, before int64, limit int) (entries []store.AuditEntry, next int64, err error) {
	if patient == "" {
		return nil, 0, nil
	}
	if limit <= 0 {
		limit = 50
	}
	q := store.AuditQuery{Patient: patient, Newest: true, Limit: limit + 1}
	if before > 0 {
		if before == 1 {
			return nil, 0, nil
		}
		q.To = before - 1
	}
	entries, err = log.ReadAudit(ctx, q)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: read for patient: %w", err)
	}
	if len(entries) > limit {
		entries = entries[:limit]
		next = entries[limit-1].Seq
	}
	return entries, next, nil
}

// Resource returns the AuditEvent of entry e as served: its body with id
// set to the entry's seq, so AuditEvent/{seq} names it, and
// meta.lastUpdated to its time. The stored body has no id (the seq is
// assigned as it is appended), and is left unchanged.
func Resource(e store.AuditEntry) ([]byte, error) {
	res, err := fhir.Parse(e.Body)
	if err != nil {
		return nil, fmt.Errorf("audit: entry %d: %w", e.Seq, err)
	}
	res["id"] = strconv.FormatInt(e.Seq, 10)
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	meta["lastUpdated"] = e.Time.UTC().Format(instant)
	return fhir.Marshal(res)
}
