// Package platform assembles the FHIR services over an opened store: the
// terminology service loaded with the stored code systems, validation,
// the search registry and write-time indexer, custom SearchParameters with
// their reindex jobs, and the resource service that uses them all. The
// command and the API tests build the server the same way through it.
package platform

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/ehealthplus/ehealth/internal/conformance"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/profile"
	mpi "github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/terminology"
	"github.com/ehealthplus/ehealth/internal/validate"
)

// Platform is the assembled services over one store.
type Platform struct {
	Service     *resource.Service
	Store       store.Store
	Terminology *conformance.Terminology
	Search      *conformance.SearchParameters
	// Registry registers citizens, keeps the master patient index and the
	// providers' registry; it offers its operations to rest.
	Registry *mpi.Registry
	// Consent records access grants with the consents and care
	// relationships written, and turns callers into access predicates;
	// its switches (emergency access, "more exists", deemed providers,
	// windows) may be set before serving.
	Consent *consent.Policy
	// ConsentOps are the consent operations ($share, $revoke-sharing,
	// $care-relationship, $emergency-access, $restrict …): with the
	// operator, the only writers of policy-bearing Consents.
	ConsentOps *consent.Operations
	// Profiles are the eHealth+ profiles (the implementation guide):
	// writes declaring one are validated against it, $validate?profile=
	// checks against any, and deposits are checked with them.
	Profiles *profile.Set
	// Roles turns a professional's role into the view of a record it
	// sees (rest.Config.View).
	Roles *resource.RoleViews
	// noticed is called after a Communication (a notice) is written:
	// the delivery worker's kick (OnNotice).
	noticed *atomic.Pointer[func()]
}

// OnNotice sets fn to be called after each Communication written (a
// notice in the outbox), so the delivery worker need not wait for its
// next poll.
func (p *Platform) OnNotice(fn func()) { p.noticed.Store(&fn) }

// Option configures Open.
type Option func(*options)

type options struct {
	policy consent.Policy
	views  *resource.Views
	broad  int
}

// WithBroadSearches sets how many broad searches run at once
// (resource.WithBroadSearches; 0: the default).
func WithBroadSearches(n int) Option { return func(o *options) { o.broad = n } }

// WithViews sets the role-based views (resource.DefaultViews otherwise).
func WithViews(v *resource.Views) Option { return func(o *options) { o.views = v } }

// WithPolicy sets the consent policy: deemed providers, emergency access,
// "more exists", windows (the zero Policy's defaults otherwise).
func WithPolicy(p consent.Policy) Option { return func(o *options) { o.policy = p } }

// Open migrates st and assembles the services over it. Close stops the
// background jobs; the caller closes st.
func Open(ctx context.Context, st store.Store, log *slog.Logger, opts ...Option) (*Platform, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := st.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	base, err := terminology.Load()
	if err != nil {
		return nil, fmt.Errorf("load terminology: %w", err)
	}
	terms := terminology.NewService(base)
	link := conformance.NewTerminology(terms, st, log)
	n, err := link.Load(ctx)
	if err != nil {
		return nil, err
	}
	log.Debug("terminology loaded", "stored_resources", n)
	registry := search.NewRegistry()
	indexer := search.NewIndexer(registry, search.Extractor{})
	params := conformance.NewSearchParameters(registry, indexer, st, log)
	policy := &o.policy
	var reg *mpi.Registry         // made over the service below; the deposit check reads it
	var roles *resource.RoleViews // likewise; it forgets a role's view when the role is written
	noticed := &atomic.Pointer[func()]{}
	profiles, err := profile.Load(terms)
	if err != nil {
		return nil, err
	}
	v := profiles.Validator(validate.New(terms))
	svc := resource.New(st, v,
		resource.WithProfileCheck(v.CheckProfile),
		resource.WithDepositCheck(func(ctx context.Context, in resource.Records, key string) error { return reg.Deposits(ctx, in, key) }),
		link.Observer(), params.Observer(),
		resource.WithObserver(func(ctx context.Context, v store.Version) { roles.Observe(ctx, v) }, "PractitionerRole"),
		resource.WithObserver(func(context.Context, store.Version) {
			if fn := noticed.Load(); fn != nil {
				(*fn)()
			}
		}, "Communication"),
		resource.WithIndexer(indexer),
		resource.WithSearch(registry, link.Codes()),
		resource.WithTxHook(policy.Hook, consent.Types...),
		resource.WithBroadSearches(o.broad))
	if err := params.Start(ctx, svc); err != nil {
		params.Close()
		return nil, err
	}
	if err := storeGuide(ctx, svc, profiles); err != nil {
		params.Close()
		return nil, err
	}
	reg = mpi.New(svc, st, mpi.WithLogger(log))
	if o.views == nil {
		o.views = resource.DefaultViews()
	}
	roles = resource.NewRoleViews(svc, o.views, 0)
	ops := consent.NewOperations(svc, st, policy, consent.Citizens{
		VerifyAccessKey: reg.VerifyAccessKey,
		ActsFor: func(ctx context.Context, id string) (string, bool, error) {
			patient, _, ok, err := reg.ActsFor(ctx, id)
			return patient, ok, err
		},
	})
	return &Platform{Service: svc, Store: st, Terminology: link, Search: params, Registry: reg, Profiles: profiles, Consent: policy, ConsentOps: ops, Roles: roles, noticed: noticed}, nil
}

// InEmergency tells whether who holds an emergency access to patient now
// (rest.Config.Emergency: such accesses are audited as emergencies).
func (p *Platform) InEmergency(ctx context.Context, who resource.Who, patient string) (bool, error) {
	return p.Consent.InEmergency(ctx, p.Store, who, patient)
}

// AccessFor is the consent decision: the access predicate of a caller's
// reads and searches (rest.Config.Access).
func (p *Platform) AccessFor(w resource.Who) store.Access { return p.Consent.Access(w) }

// Close stops the background jobs (reindexing).
func (p *Platform) Close() { p.Search.Close() }
