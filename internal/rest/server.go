package rest

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/bulkdata"
	"github.com/ehealthplus/ehealth/internal/hl7v2"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Config configures the FHIR API.
type Config struct {
	// BaseURL is the absolute URL of the FHIR base, e.g.
	// "https://ehr.example.hk/fhir"; empty means derived from each request.
	BaseURL string
	// MaxBodyBytes limits request bodies (413 above it); 0 means 64 MiB.
	MaxBodyBytes int64
	// Tokens verifies the bearer token every request but the public ones
	// must carry (auth.go); without it the API answers 401 to all of them.
	Tokens Tokens
	// Active, when set, is asked of every verified token whether it is
	// still active — not revoked at the authorization server (RFC 7009) —
	// and an inactive one is refused like an invalid one.
	Active func(ctx context.Context, c token.Claims) (bool, error)
	// Access is the consent decision: the access predicate of a caller
	// other than the operator. Without it such callers see nothing.
	Access func(w resource.Who) store.Access
	// View, when set, is the role-based view (resource.View) of the role a
	// professional's token acts in ("PractitionerRole/ID": resource.RoleViews
	// does it); an error refuses the request. Without it, or for a token
	// with no role, every caller sees every type consent lets it see.
	View func(ctx context.Context, role string) (resource.View, error)
	// Audit records every read and search in the audit journal before the
	// response is sent (audit.go); a failure refuses the request.
	Audit Auditor
	// Notified, when set with Audit, remembers which providers have opened
	// which citizens' records: a provider's first audited read or search
	// of a citizen writes a first-access notice to them before the answer
	// (notice.go). The keyed store of the platform's database.
	Notified store.Keyed
	// Emergency, when set, tells whether who is in an emergency access
	// (break-glass) to patient now: their audited accesses to that
	// patient are marked emergency (consent.Policy.InEmergency).
	Emergency func(ctx context.Context, who resource.Who, patient string) (bool, error)
	// HL7v2, when set, accepts lab results as HL7 v2 ORU^R01 at POST
	// /hl7v2 (hl7v2.go), converted with these options.
	HL7v2 *hl7v2.Options
	// Deposit, when set, takes the batch and transaction Bundles of
	// providers' system clients (a token for an organisation, without a
	// user: deposit.IsSystemClient) and their HL7 v2 messages into the
	// citizens' records (deposit.Service); other callers' Bundles go to
	// the resource service as they are.
	Deposit Depositor
	// Version is the software version stated in the CapabilityStatement.
	Version string
	// Operations runs the operations beyond the core interactions (nil: none).
	Operations Operations
	// Journal, when set, serves AuditEvent reads and searches from the audit
	// journal (journal.go); without it AuditEvents are ordinary resources.
	Journal Journal
	// AllowExplain offers _explain=true on searches: the Bundle then carries
	// the store's SQL and query plan (never values) in an OperationOutcome
	// entry. An operator's tuning tool, off by default; off, _explain is an
	// unsupported parameter.
	AllowExplain bool
	// Export, when set, offers FHIR Bulk Data export (export.go): $export at
	// system, Patient and Group level, its status and files.
	Export *bulkdata.Jobs
}

// Depositor runs a provider's deposit Bundle as the caller and answers
// the response Bundle (deposit.Service).
type Depositor interface {
	Deposit(ctx context.Context, c resource.Caller, bundle map[string]any) (map[string]any, error)
}

// DefaultMaxBodyBytes is the default request size limit.
const DefaultMaxBodyBytes = 64 << 20

// API is the FHIR HTTP API.
type API struct {
	svc *resource.Service
	cfg Config
	log *slog.Logger
	// announced remembers, in this process, the provider–citizen pairs
	// already announced (notice.go), sparing the keyed-store read on every
	// later access; it is forgotten wholesale when it grows past
	// announcedMax (the store still knows).
	announced  sync.Map
	announcedN atomic.Int64
}

// New returns the API over svc.
func New(svc *resource.Service, cfg Config, log *slog.Logger) *API {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &API{svc: svc, cfg: cfg, log: log}
}

// Handler returns the HTTP handler serving the FHIR base at /fhir, with
// request ids, panic recovery and the size limit around every route.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fhir/metadata", a.capabilities)
	mux.HandleFunc("GET /fhir", a.systemSearch)
	mux.HandleFunc("GET /fhir/{$}", a.systemSearch)
	mux.HandleFunc("POST /fhir", a.bundle)
	mux.HandleFunc("POST /fhir/{$}", a.bundle)
	mux.HandleFunc("GET /fhir/_history", a.history)
	mux.HandleFunc("GET /fhir/{type}/_history", a.history)
	mux.HandleFunc("GET /fhir/{type}/{id}/_history", a.history)
	mux.HandleFunc("GET /fhir/{type}/{id}/_history/{vid}", a.vread)
	mux.HandleFunc("GET /fhir/{type}/{id}/{op}", a.instanceOperation)
	mux.HandleFunc("POST /fhir/{type}/{id}/{op}", a.instanceOperation)
	mux.HandleFunc("GET /fhir/{type}/{id}", a.read)
	mux.HandleFunc("GET /fhir/{type}", a.search)
	mux.HandleFunc("POST /fhir/{type}", a.create)
	mux.HandleFunc("POST /fhir/{type}/{op}", a.typeOperation)
	mux.HandleFunc("PUT /fhir/{type}/{id}", a.update)
	mux.HandleFunc("PUT /fhir/{type}", a.conditionalUpdate)
	mux.HandleFunc("DELETE /fhir/{type}", a.conditionalDelete)
	mux.HandleFunc("DELETE /fhir/{type}/{id}", a.delete)
	mux.HandleFunc("PATCH /fhir/{type}/{id}", a.patch)
	mux.HandleFunc("/fhir/", a.notFound)
	if a.cfg.HL7v2 != nil {
		mux.HandleFunc("POST "+HL7v2Path, a.hl7v2Message)
	}
	var routes http.Handler = mux
	if a.cfg.Export != nil {
		routes = a.exportRoutes(mux)
	}
	return a.middleware(a.authenticate(a.journal(routes)))
}
