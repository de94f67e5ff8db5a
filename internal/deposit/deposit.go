package deposit

import (
	"context"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/profile"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// SourceBase starts every provider's namespace of source-system
// identifiers: SourceBase + the provider's Organization id + "/".
const SourceBase = "https://ehealth.hk/fhir/source/"

// Namespace is the namespace of the source-system identifiers of the
// provider org ("Organization/ID" or "ID"): Identifier.system values under
// it are that provider's, and name the source system after it.
func Namespace(org string) string {
	return SourceBase + strings.TrimPrefix(org, "Organization/") + "/"
}

// The Provenance the deposit records for amendments and withdrawals.
const (
	// DataOperationSystem codes Provenance.activity
	// (http://terminology.hl7.org/CodeSystem/v3-DataOperation).
	DataOperationSystem = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
	// ProvenanceOriginDeposit is the provenance-origin tag of the
	// Provenances a deposit records.
	ProvenanceOriginDeposit = "deposit"
	// DefaultAmendmentReason is the reason recorded for an amendment the
	// Bundle gives none for.
	DefaultAmendmentReason = "amended by the source system"
)

// Checker checks a resource against the eHealth+ profile that applies to
// it (profile.Set does).
type Checker interface {
	Check(ctx context.Context, res map[string]any) (profile.Report, error)
}

// Citizens is the master patient index as a deposit needs it
// (registry.Registry).
type Citizens interface {
	// MasterOf finds the registered citizen a provider's Patient is about;
	// ok false, with the reason in err (outcome.Unprocessable), when none
	// matches.
	MasterOf(ctx context.Context, patient map[string]any) (masterID string, ok bool, err error)
	// Participating reports whether the citizen takes part in eHealth (an
	// active joining Consent).
	Participating(ctx context.Context, id string) (bool, error)
}

// Service runs deposits through the resource service.
type Service struct {
	svc      *resource.Service
	citizens Citizens
	checker  Checker
	parser   *identity.Parser
	now      func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithChecker checks every deposited resource against the profiles
// (without one, only the resource service's validation applies).
func WithChecker(c Checker) Option { return func(s *Service) { s.checker = c } }

// WithParser sets the identity-document rules (the Certificate of
// Exemption's pattern), as the registry's.
func WithParser(p *identity.Parser) Option { return func(s *Service) { s.parser = p } }

// WithClock sets the time recorded in Provenances (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns the deposit service writing through svc and matching
// patients in citizens (the platform's registry).
func New(svc *resource.Service, citizens Citizens, opts ...Option) *Service {
	s := &Service{svc: svc, citizens: citizens, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if s.parser == nil {
		s.parser, _ = identity.NewParser("")
	}
	return s
}

// IsSystemClient reports whether c is a provider's system client: a token
// acting for an organisation, with no person behind it. Its Bundles are
// deposits.
func IsSystemClient(c resource.Caller) bool {
	return c.Grants != nil && !c.Who.Operator && c.Who.FHIRUser == "" && strings.HasPrefix(c.Who.Org, "Organization/")
}

// maxAttempts bounds how often a deposit that lost a race (a record
// changed between its reading and its writing) is run again.
const maxAttempts = 3

// Deposit runs a transaction or batch Bundle from a provider's system
// client (package doc) and returns the transaction-response or
// batch-response Bundle. A refused transaction is an *outcome.Error with
// every entry's issues.
func (s *Service) Deposit(ctx context.Context, c resource.Caller, bundle map[string]any) (map[string]any, error) {
	if !IsSystemClient(c) {
		return nil, outcome.New(outcome.Forbidden, "deposits come from a provider's system client (a token for an organisation, without a user)")
	}
	if rt, _ := bundle["resourceType"].(string); rt != "Bundle" {
		return nil, outcome.At(outcome.Invalid, "resourceType", "a deposit is a Bundle, not %q", rt)
	}
	typ, _ := bundle["type"].(string)
	if typ != "transaction" && typ != "batch" {
		return nil, outcome.At(outcome.Invalid, "Bundle.type", "a deposit is a transaction or batch Bundle, not %q", typ)
	}
	for attempt := 1; ; attempt++ {
		d, err := s.plan(ctx, c, bundle)
		if err != nil {
			return nil, err
		}
		var resp map[string]any
		if typ == "transaction" {
			resp, err = d.transaction(ctx)
		} else {
			resp, err = d.batch(ctx)
		}
		if !d.raced(err) || attempt >= maxAttempts {
			return resp, err
		}
	}
}

// lookupCaller is who the deposit reads existing records as: the
// platform, seeing only what the provider wrote, so a provider's client
// needs no search scope to deposit, and another provider's records are
// never matched.
func lookupCaller(org string) resource.Caller {
	return resource.Caller{Writer: org, Access: &store.Access{Writers: []string{org}}}
}
