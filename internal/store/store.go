package store

import (
	"context"
	"iter"
	"time"

	"github.com/ehealthplus/ehealth/internal/search"
)

// Method is the interaction that produced a version.
type Method string

// The methods recorded on versions.
const (
	MethodCreate Method = "create"
	MethodUpdate Method = "update"
	MethodPatch  Method = "patch"
	MethodDelete Method = "delete"
)

// Version is one immutable version of a resource.
type Version struct {
	Type       string    // resource type, e.g. "Patient"
	ID         string    // logical id
	VersionID  int64     // 1, 2, 3 … per resource
	Updated    time.Time // when the version was written (UTC, microsecond precision)
	Deleted    bool      // a delete marker; Body is nil
	Method     Method    // the interaction that wrote it
	Writer     string    // the server-recorded writer: client id or organisation
	PatientKey string    // the patient compartment the row belongs to; "" for none
	Body       []byte    // the resource as FHIR JSON, with meta.versionId and meta.lastUpdated set
	Seq        int64     // store-assigned, increasing in write order; the history cursor
	// Index holds the search index rows of this version (written by Put,
	// replacing the resource's previous rows; a delete marker removes them).
	// Reads leave it empty.
	Index []search.Entry
	// Contained is set by Search on a match that is a contained resource
	// returned as itself (_containedType=contained): the match is the k-th
	// resource of Body's contained list, not the resource. 0 otherwise.
	Contained int
}

// Store is the storage contract. Methods return errors of kind
// outcome.NotFound for unknown resources and versions, and outcome.Conflict
// when a conditional write loses a race.
type Store interface {
	// Migrate brings the schema up to date.
	Migrate(ctx context.Context) error
	// Ping checks the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	// Read returns the current version of a resource, which may be a delete marker.
	Read(ctx context.Context, typ, id string) (Version, error)
	// ReadVersion returns one version of a resource.
	ReadVersion(ctx context.Context, typ, id string, versionID int64) (Version, error)
	// History streams versions newest first (by Seq), as the query says.
	History(ctx context.Context, q HistoryQuery) iter.Seq2[Version, error]
	// CountHistory counts the versions History would return without Count and Before.
	CountHistory(ctx context.Context, q HistoryQuery) (int64, error)
	// Current streams the current, not deleted versions of typ in id order
	// (the database's collation), starting after afterID ("" from the
	// start), at most limit of them (0: all). It is for reindexing: it
	// reads in pages and holds no connection while the consumer's loop
	// body runs, so the body may write, and the versions are never all in
	// memory at once. Versions are read without Index.
	Current(ctx context.Context, typ, afterID string, limit int) iter.Seq2[Version, error]

	// Searcher finds current resources by a search plan under an access
	// predicate (search.go).
	Searcher
	// Keyed keeps short-lived non-FHIR state for services (keys.go).
	Keyed
	// AuditLog is the tamper-evident audit journal (audit.go).
	AuditLog

	// Write runs fn in one database transaction: all its writes land or none
	// do. On SQLite writes go through one writer, so concurrent callers queue
	// instead of failing with SQLITE_BUSY.
	Write(ctx context.Context, fn func(Tx) error) error
}

// Tx is a write transaction.
type Tx interface {
	// Read returns the current version as this transaction sees it.
	Read(ctx context.Context, typ, id string) (Version, error)
	// ReadVersion returns one version as this transaction sees it.
	ReadVersion(ctx context.Context, typ, id string, versionID int64) (Version, error)
	// Put appends v as the new current version of v.Type/v.ID. expect is the
	// version id the caller read as current (0: the resource must not exist);
	// if the current version differs, Put returns an outcome.Conflict error and
	// writes nothing. v.VersionID must be expect+1. Put sets v.Seq.
	Put(ctx context.Context, v *Version, expect int64) error
	// ReplaceIndex replaces the search index rows of the current version of
	// typ/id for the parameters codes (a composite's parts included) with
	// entries, whose codes must all be among codes, without writing a new
	// version: for indexing existing resources by a new SearchParameter.
	// Rows of other parameters are untouched. It is a no-op (nil) when the
	// resource is deleted or unknown. Entries computed from a version read
	// before this transaction may be stale: read the current version
	// through the Tx first.
	ReplaceIndex(ctx context.Context, typ, id string, codes []string, entries []search.Entry) error
	// GrantWriter records the grants access predicates read (grants.go).
	GrantWriter
	// RekeyCompartment files every current resource of patient compartment
	// from, and its search index rows, under patient key to instead (a
	// provider's record linked to the master, a merged record): the rows
	// of each of CompartmentKeys(from) under the matching key of to, so
	// restricted records stay restricted. It returns how many resources
	// moved. Past versions keep the key they were written with.
	RekeyCompartment(ctx context.Context, from, to string) (int64, error)
	// CurrentIn returns the current, not deleted versions of typ filed
	// under patientKey as this transaction sees them, in id order: what a
	// write decides by inside its transaction (a patient's Consents). It
	// is meant for the few resources of one type in one compartment.
	CurrentIn(ctx context.Context, typ, patientKey string) ([]Version, error)
	// AuditAppender appends audit entries that land or go with this
	// transaction (audit.go).
	AuditAppender
}

// HistoryQuery selects versions for _history at the instance, type or system level.
type HistoryQuery struct {
	Type   string    // "" for the whole system
	ID     string    // "" for a type or the system; needs Type
	Since  time.Time // _since: only versions updated at or after it (zero: no limit)
	AtFrom time.Time // _at: only versions current at some moment in [AtFrom, AtTo) (zero: no limit)
	AtTo   time.Time
	Before int64 // paging cursor: only versions with Seq < Before (0: from the newest)
	Count  int   // at most this many (0: no limit)
	// Access is the caller's access predicate, applied inside the query
	// (and the count): a version is returned only when its resource is
	// visible under it, decided as a read decides — on the resource's
	// current patient key and the writer of its current version. Past
	// versions keep the key they were written under but follow their
	// resource: one now hidden hides its whole history, delete markers
	// included. The zero value sees nothing; AccessAll everything.
	Access Access
}
