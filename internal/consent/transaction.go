package consent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// write is one resource a transaction stores at typ/id.
type write struct {
	typ, id string
	res     map[string]any
	// ifMatch is the version the resource must be at (0: unconditional),
	// so a concurrent change fails the whole transaction.
	ifMatch int64
}

// transact stores every write in one transaction Bundle as the platform
// (https://hl7.org/fhir/R4/http.html#transaction): the resource and the
// notice it owes the citizen land together or not at all. It returns the
// stored resources in order.
func (o *Operations) transact(ctx context.Context, writes ...write) ([]map[string]any, error) {
	ws := make([]resource.Write, len(writes))
	for i, w := range writes {
		ws[i] = resource.Write{Type: w.typ, ID: w.id, Resource: w.res, IfMatch: w.ifMatch}
	}
	return o.svc.Transact(ctx, platform, ws...)
}

// notice is the write of a notice of kind about patientID to recipients,
// saying m.
func (o *Operations) notice(kind, patientID string, recipients []string, m notify.Message) write {
	return write{typ: "Communication", id: o.newID(), res: notify.Notice(kind, patientID, recipients, m, o.now())}
}

// stableID is the id of the one resource per key the operations keep (one
// sharing consent per patient and provider …): giving again updates it.
func stableID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return prefix + "-" + hex.EncodeToString(h.Sum(nil))[:40]
}

// instant formats t as a FHIR instant, UTC, to the second.
func instant(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// hongKong is the time zone notices speak in.
var hongKong = time.FixedZone("HKT", 8*60*60)

// when is t for a notice, in Hong Kong time.
func when(t time.Time) string { return t.In(hongKong).Format("2 Jan 2006 15:04") + " HKT" }
