package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// AuditEntry is one entry of the audit journal: an event (a FHIR
// AuditEvent) about zero or more patients, at a place in a hash chain.
type AuditEntry struct {
	// Seq is the entry's place in the journal: 1, 2, 3 … without gaps,
	// assigned by the store in append (= commit) order.
	Seq int64
	// Time is when the event happened, kept to the microsecond in UTC; a
	// zero Time is set to the time of the append.
	Time time.Time
	// Patients are the patient keys (Patient ids, as Version.PatientKey)
	// of the patients the event concerns: whose data was read, searched,
	// written. ReadAudit finds entries by them.
	Patients []string
	// Body is the event: a FHIR AuditEvent as JSON, kept byte for byte.
	Body []byte
	// PrevHash is the Hash of entry Seq-1; AuditGenesis for entry 1.
	PrevHash []byte
	// Hash is AuditHash(PrevHash, entry): the store sets it on append.
	Hash []byte
}

// AuditGenesis is the PrevHash of the first entry: 32 zero bytes.
var AuditGenesis = make([]byte, sha256.Size)

// auditDomain opens every entry's canonical bytes, so an entry's hash can
// never be mistaken for a hash of something else.
const auditDomain = "ehealth.audit.entry.v1\x00"

// AuditCanonical returns the bytes of e that its hash covers:
//
//	"ehealth.audit.entry.v1" 0x00
//	seq                      8 bytes, big-endian
//	time                     8 bytes, big-endian two's complement: microseconds since 1970-01-01T00:00:00Z
//	len(patients)            4 bytes, big-endian
//	per patient key:         4-byte big-endian length, then its UTF-8 bytes
//	len(body)                8 bytes, big-endian
//	body                     the exact bytes stored
//
// Every field has a fixed width or a length prefix, so two different
// entries never share canonical bytes.
func AuditCanonical(e AuditEntry) []byte {
	n := len(auditDomain) + 8 + 8 + 4 + 8 + len(e.Body)
	for _, p := range e.Patients {
		n += 4 + len(p)
	}
	b := make([]byte, 0, n)
	b = append(b, auditDomain...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixMicro()))
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Patients)))
	for _, p := range e.Patients {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(len(e.Body)))
	return append(b, e.Body...)
}

// AuditHash is the chain hash of entry e following an entry whose hash is
// prev: SHA-256(prev ‖ AuditCanonical(e)). e.PrevHash and e.Hash are not
// read. Because the canonical bytes hold the seq, an entry moved to
// another place no longer matches its hash; because each hash covers the
// previous one, changing or removing an entry breaks every later link
// unless all later hashes are recomputed — which signed checkpoints catch.
func AuditHash(prev []byte, e AuditEntry) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(AuditCanonical(e))
	return h.Sum(nil)
}

// ChainAudit prepares entries for appending after the head (seq, hash):
// it numbers them from seq+1, sets a zero Time to now, keeps Time to the
// microsecond in UTC and sets PrevHash and Hash. Drivers call it inside the
// append transaction, holding the journal's head lock.
func ChainAudit(seq int64, hash []byte, now time.Time, entries []*AuditEntry) {
	for _, e := range entries {
		if e.Time.IsZero() {
			e.Time = now
		}
		e.Time = e.Time.UTC().Truncate(time.Microsecond)
		seq++
		e.Seq, e.PrevHash = seq, hash
		e.Hash = AuditHash(hash, *e)
		hash = e.Hash
	}
}

// CheckAuditEntries reports the first entry an append must refuse: one
// without a body, or with an empty patient key.
func CheckAuditEntries(entries []AuditEntry) error {
	for i, e := range entries {
		if len(e.Body) == 0 {
			return fmt.Errorf("audit entry %d: no body", i)
		}
		for _, p := range e.Patients {
			if p == "" {
				return fmt.Errorf("audit entry %d: empty patient key", i)
			}
		}
	}
	return nil
}

// AuditAppender appends entries to the audit journal.
type AuditAppender interface {
	// AppendAudit appends entries in order, as one unit: all land or none
	// do. It sets each entry's Seq, Time (if zero), PrevHash and Hash.
	//
	// On a Store it runs outside any write transaction and the entries are
	// durable when it returns (for reads and searches, whose record must
	// exist before the response goes out). Concurrent callers are batched
	// into one transaction (group commit). It must not be called from
	// inside a Write callback: use the Tx's AppendAudit there.
	//
	// On a Tx the entries commit or roll back with the transaction's other
	// writes (for writes). The transaction holds the journal's head from
	// then until it ends, so other appends wait: call it last.
	AppendAudit(ctx context.Context, entries []AuditEntry) error
}

// AuditQuery selects journal entries for ReadAudit.
type AuditQuery struct {
	From int64 // the first seq wanted (0: from the start)
	To   int64 // the last seq wanted, inclusive (0: to the end)
	// Patient, when set, selects only the entries concerning that patient key.
	Patient string
	// Newest returns entries newest first (descending seq) rather than oldest first.
	Newest bool
	// Limit is the most entries returned (0: DefaultAuditPage). Page on by
	// setting From to the last Seq + 1 (or To to the last Seq - 1 when Newest).
	Limit int
}

// DefaultAuditPage is the page size of a ReadAudit without a limit.
const DefaultAuditPage = 1000

// AuditCheckpoint is a signed statement that the journal's entry Seq had
// Hash at Time: whoever holds the checkpoint can later prove the journal
// up to Seq was not changed. The store keeps checkpoints as given; package
// audit signs and verifies them.
type AuditCheckpoint struct {
	Seq       int64
	Hash      []byte
	Time      time.Time // kept to the microsecond in UTC
	KeyID     string    // which key signed
	Signature []byte
}

// AuditLog is the audit journal: append-only entries in a hash chain, read
// back by seq or by patient, and the signed checkpoints over it. Rows keep
// their patient keys, so a PostgreSQL sharded by patient could hold them;
// the chain itself is global (one head), and sharding would mean one chain
// per shard with checkpoints per shard.
type AuditLog interface {
	AuditAppender
	// ReadAudit returns the entries q selects, in seq order (descending
	// when q.Newest), at most q.Limit of them.
	ReadAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
	// PutAuditCheckpoint stores c. A checkpoint already stored at c.Seq is
	// kept (servers sharing a database may both checkpoint one head).
	PutAuditCheckpoint(ctx context.Context, c AuditCheckpoint) error
	// AuditCheckpoints returns the stored checkpoints with Seq > after, in
	// seq order, at most limit of them (0: all).
	AuditCheckpoints(ctx context.Context, after int64, limit int) ([]AuditCheckpoint, error)
}
