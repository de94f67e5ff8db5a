package resource

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Validator checks a resource before it is written; it returns nil or an
// *outcome.Error carrying every issue found.
type Validator interface {
	Validate(res map[string]any) error
}

// Caller is who is asking: the server-recorded writer of any version
// written for them, and what they may see.
type Caller struct {
	Writer string // client id or organisation recorded on every version written
	// Access is the access predicate of the caller's reads; nil means all,
	// as every caller is until consent lands.
	Access *store.Access
	// Grants is what the caller's access token allows (authz.go); nil for
	// the platform's own code and the operator, which may do anything.
	Grants *Grants
	// Who is the person or system behind the request, as the token says
	// (zero for the platform's own code): operations that act for a
	// person — a citizen giving consent, a professional at the clinic —
	// decide by it.
	Who Who
	// View is which types of a patient's record the role the caller acts
	// in sees (views.go); the zero View sees everything. It narrows Grants:
	// a caller without Grants (the platform's own code, the operator)
	// carries none.
	View View
}

// access is the caller's access predicate.
func (c Caller) access() store.Access {
	if c.Access == nil {
		return store.AccessAll
	}
	return *c.Access
}

// Service is the FHIR interaction service over a store.
type Service struct {
	store     store.Store
	validator Validator
	now       func() time.Time
	newID     func() string
	observers map[string][]Observer // by resource type
	txHooks   map[string][]TxHook   // by resource type
	// depositCheck, when set, guards writes by tokens into a compartment.
	depositCheck DepositCheck
	indexer      Indexer          // nil: versions carry no search index rows
	profiles     ProfileCheck     // nil: $validate knows no profile
	registry     *search.Registry // nil: no search
	codes        Codes            // expands :in, :above … (nil: exact codes only)
	// restricted are the security labels that restrict a record, by
	// system and code, with their categories (restrict.go).
	restricted map[coding]string
	// preparing bounds the Bundles validated and indexed at once to one
	// fewer than the processors, so a single-writer store's writer always
	// has one: with as many preparing as there are processors, the
	// writer waited for a processor between its statements, and every
	// client waited for the writer.
	preparing chan struct{}
	// transactions counts the transaction Bundles in flight (prepareAll).
	transactions atomic.Int64
	// broad is the lane of the searches that may read a large share of
	// the database (lane.go).
	broad *lane
}

// Indexer computes the search index rows of a resource version.
type Indexer interface {
	Index(ctx context.Context, res map[string]any, patientKey string) (entries []search.Entry, skipped []error, err error)
}

// ProfileCheck checks a resource against the profile at a canonical URL
// and returns every issue found; an error (outcome.NotFound) when the
// profile is not known. The platform gives the eHealth+ guide's.
type ProfileCheck func(ctx context.Context, res map[string]any, profile string) ([]outcome.Issue, error)

// WithProfileCheck sets the profiles $validate checks against when asked
// (ValidateAgainst).
func WithProfileCheck(fn ProfileCheck) Option { return func(s *Service) { s.profiles = fn } }

// WithIndexer makes every write carry its search index rows, computed by ix
// and stored in the same transaction.
func WithIndexer(ix Indexer) Option { return func(s *Service) { s.indexer = ix } }

// Observer is told of every version of a watched resource type once it is
// committed: caches built from stored resources (terminology, search
// parameters) stay current. It must not block for long.
type Observer func(ctx context.Context, v store.Version)

// WithObserver calls fn after each committed write of the given resource types.
func WithObserver(fn Observer, types ...string) Option {
	return func(s *Service) {
		for _, t := range types {
			s.observers[t] = append(s.observers[t], fn)
		}
	}
}

// TxHook runs inside the write transaction after each version of a
// watched resource type is put, with the transaction: state derived from
// the version (access grants from consents and care relationships) lands
// or goes with it. An error rolls the whole transaction back.
type TxHook func(ctx context.Context, tx store.Tx, v store.Version) error

// WithTxHook calls fn inside the transaction of each write of the given
// resource types.
func WithTxHook(fn TxHook, types ...string) Option {
	return func(s *Service) {
		for _, t := range types {
			s.txHooks[t] = append(s.txHooks[t], fn)
		}
	}
}

// DepositCheck refuses a write by a token (not the platform's own code or
// the operator) into the compartment of patientKey, with the error to
// answer: the citizen withdrew from the platform, or never joined it. The
// write being judged is DepositOf(ctx). in, when not nil, is the write's
// transaction, which the check reads through: a check run inside a
// transaction that took another pooled connection could wait for ever
// once every connection is held by such a transaction. nil: the check runs
// before the transaction and reads as it likes.
type DepositCheck func(ctx context.Context, in Records, patientKey string) error

// Records is what a deposit check reads inside a transaction: a current
// resource, and the current resources of a type under a patient key.
type Records interface {
	Read(ctx context.Context, typ, id string) (store.Version, error)
	CurrentIn(ctx context.Context, typ, patientKey string) ([]store.Version, error)
}

// Deposit is a write a DepositCheck judges: the resource written and the
// compartment (patient key) it lands in. A write of the compartment's own
// Patient record (Type "Patient", ID == PatientKey: a provider's local
// record not linked to a master, or the master itself) is the record, not
// a deposit about someone in it.
type Deposit struct {
	Type, ID, PatientKey string
}

type depositKey struct{}

// DepositOf is the write a DepositCheck is running for (ok false outside
// one). It reaches the check through the context so the check's signature
// stays the one the platform wires.
func DepositOf(ctx context.Context) (d Deposit, ok bool) {
	d, ok = ctx.Value(depositKey{}).(Deposit)
	return d, ok
}

// WithDepositCheck makes every write by a token into a patient's
// compartment pass check first.
func WithDepositCheck(check DepositCheck) Option { return func(s *Service) { s.depositCheck = check } }

// Option configures a Service.
type Option func(*Service)

// New returns a service writing to st and validating every write with v.
func New(st store.Store, v Validator, opts ...Option) *Service {
	s := &Service{store: st, validator: v, now: time.Now, newID: uuid.NewString, observers: map[string][]Observer{},
		txHooks: map[string][]TxHook{}, restricted: labelSet(DefaultRestrictedLabels),
		preparing: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))}
	for _, o := range opts {
		o(s)
	}
	if s.broad == nil {
		s.broad = newLane(0, func() time.Time { return s.now() })
	}
	return s
}

// write runs fn in one store transaction, records what it did when ctx
// carries a WriteAudit (last, inside the transaction), and once it
// commits tells the observers of what it wrote. The transaction fn gets
// caches what the writes in it decide by (compartment keys, restrictions).
func (s *Service) write(ctx context.Context, fn func(tx store.Tx) error) error {
	audit := writeAudit(ctx)
	var rec *recordingTx
	err := s.store.Write(ctx, func(tx store.Tx) error {
		rec = &recordingTx{Tx: tx, watch: s.observers, hooks: s.txHooks}
		if err := fn(rec); err != nil {
			return err
		}
		if audit == nil || len(rec.done) == 0 {
			return nil
		}
		return audit(ctx, tx, rec.done)
	})
	if err != nil {
		return err
	}
	for _, v := range rec.written {
		for _, o := range s.observers[v.Type] {
			o(ctx, v)
		}
	}
	return nil
}

// recordingTx remembers the versions a transaction puts (and reads, for
// the audit) and runs the transaction hooks on them.
type recordingTx struct {
	store.Tx
	watch   map[string][]Observer
	hooks   map[string][]TxHook
	written []store.Version // versions of watched types, for the observers
	done    []Done          // everything stored and read, for the audit
	// keys caches the compartment keys patients resolved to in this
	// transaction (compartmentKey); a Patient written clears it.
	keys map[string]string
	// restrictions caches the restrictions of patients' Consents by
	// patient key (restrictionsOf); a Consent written clears it.
	restrictions map[string][]restriction
	// deposits are the patient keys whose deposit check passed for a
	// record in this transaction; a Patient or Consent written clears it
	// (a withdrawal, a joining consent).
	deposits map[string]bool
}

// Put records v and runs its type's hooks.
func (r *recordingTx) Put(ctx context.Context, v *store.Version, expect int64) error {
	if err := r.Tx.Put(ctx, v, expect); err != nil {
		return err
	}
	switch v.Type {
	case "Patient": // links change where compartments are filed
		clear(r.keys)
		clear(r.restrictions)
		clear(r.deposits)
	case "Consent":
		clear(r.restrictions)
		clear(r.deposits)
	}
	if _, ok := r.watch[v.Type]; ok {
		r.written = append(r.written, *v)
	}
	r.done = append(r.done, Done{Version: *v})
	for _, h := range r.hooks[v.Type] {
		if err := h(ctx, r.Tx, *v); err != nil {
			return err
		}
	}
	return nil
}

// Ping checks the store answers (readiness).
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// stamp returns the time a new version is written: UTC, microseconds, the
// precision both stores keep.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
