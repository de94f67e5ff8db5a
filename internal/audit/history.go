package audit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

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

// idPrefix starts the id of every AuditEvent served from the journal.
// '-' is a FHIR id character, so "j-42" is a valid id; ids of AuditEvents
// stored as ordinary resources (sent by other systems) are UUIDs, and
// nothing may be written at a "j-" id (the API refuses it), so the two
// never meet.
const idPrefix = "j-"

// EventID is the id of the AuditEvent of journal entry seq: "j-" and the
// seq. It names nothing but a place in the journal.
func EventID(seq int64) string { return idPrefix + strconv.FormatInt(seq, 10) }

// ParseEventID returns the seq an EventID names; ok is false for any other
// id, so ordinary AuditEvent ids go to the store.
func ParseEventID(id string) (seq int64, ok bool) {
	digits, found := strings.CutPrefix(id, idPrefix)
	if !found || digits == "" || digits[0] == '0' || len(digits) > 18 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	seq, err := strconv.ParseInt(digits, 10, 64)
	return seq, err == nil
}

// IsEventID reports whether id is in the journal's id space ("j-…"): an
// id nobody may write at, whether or not it names an entry.
func IsEventID(id string) bool { return strings.HasPrefix(id, idPrefix) }

// Resource returns the AuditEvent of entry e as served: its body with id
// EventID(e.Seq), meta.versionId 1 (an entry never changes) and
// meta.lastUpdated its time. The stored body has no id (the seq is
// assigned as it is appended), and is left unchanged.
func Resource(e store.AuditEntry) ([]byte, error) {
	res, err := fhir.Parse(e.Body)
	if err != nil {
		return nil, fmt.Errorf("audit: entry %d: %w", e.Seq, err)
	}
	res["id"] = EventID(e.Seq)
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	meta["versionId"] = "1"
	meta["lastUpdated"] = e.Time.UTC().Format(instant)
	return fhir.Marshal(res)
}

// Served is a journal AuditEvent as served to one reader: what the API
// answers and records the read of.
type Served struct {
	Seq  int64
	Time time.Time
	// Body is the AuditEvent (Resource), shaped for the reader.
	Body []byte
	// Patients are the entry's patient keys: whose access history the
	// read of this AuditEvent belongs in.
	Patients []string
}

// Page is one page of a search of the journal, newest first, and the
// opaque cursor of the next page ("" on the last).
type Page struct {
	Events []Served
	Next   string
}
