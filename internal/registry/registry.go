package registry

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// The registry's code systems and extensions. (assumed) eHealth+ has no
// published FHIR implementation guide; these URLs are the platform's own.
const (
	base = "https://ehealth.hk/fhir/"
	// MPISystem codes the tags the registry puts on master Patients and on
	// its Provenance records. Only the platform's code and the operator
	// write a record carrying one (resource.MPISystem, origin.go).
	MPISystem = resource.MPISystem
	// ConsentCategorySystem codes the kinds of eHealth consent: joining
	// (any participating provider may deposit) and sharing (one provider
	// may view).
	ConsentCategorySystem = base + "CodeSystem/consent-category"
	// SDMRoleSystem codes the substitute decision maker's ladder (sdm.go).
	SDMRoleSystem = base + "CodeSystem/sdm-role"
	// SDMRankExtension holds an SDM's rank on the ladder (valuePositiveInt,
	// 1 first) on its RelatedPerson.
	SDMRankExtension = base + "StructureDefinition/sdm-rank"
	// CommunicationCategorySystem codes the registry's CommunicationRequests.
	CommunicationCategorySystem = base + "CodeSystem/communication-category"
	// JoiningPolicy is the policy the joining Consent refers to.
	JoiningPolicy = base + "policy/joining-consent"
	// LanguageExtension is the core extension naming a HumanName's language.
	LanguageExtension = "http://hl7.org/fhir/StructureDefinition/language"
)

// The codes of MPISystem.
const (
	TagMaster    = resource.MPIMaster // the master Patient of a registered citizen
	TagWithdrawn = "withdrawn"        // the citizen has withdrawn from eHealth
	TagMerge     = "merge"            // a Provenance recording a merge
	TagUnmerge   = "unmerge"          // a Provenance recording an unmerge
)

// The codes of ConsentCategorySystem.
const (
	CategoryJoining = "joining"
	CategorySharing = "sharing"
)

// The keyed-store namespaces the registry owns.
const (
	// ClaimNS maps a SHA-256 of an identity document to the master Patient
	// registered with it.
	ClaimNS = "registry.document"
	// AccessKeyNS maps a master Patient id to its access key's hash.
	AccessKeyNS = "registry.access-key"
)

// HongKong is the time zone of dates of birth and the age-16 handover
// (UTC+8, no daylight saving since 1979).
var HongKong = time.FixedZone("HKT", 8*60*60)

// Registry registers citizens, keeps the master patient index and the
// providers' registry, over the resource service and the keyed store.
type Registry struct {
	svc     *resource.Service
	keys    store.Keyed
	now     func() time.Time
	log     *slog.Logger
	parser  *identity.Parser
	keyCost int // PBKDF2 iterations of access-key hashes
	newID   func() string
}

// Option configures a Registry.
type Option func(*Registry)

// WithClock makes the registry read the time from now (tests: registration
// dates and the age-16 handover).
func WithClock(now func() time.Time) Option { return func(r *Registry) { r.now = now } }

// WithLogger sets the logger (default: none). Identity numbers reach it
// only redacted.
func WithLogger(log *slog.Logger) Option { return func(r *Registry) { r.log = log } }

// WithParser sets the identity-document rules (the Certificate of
// Exemption's pattern).
func WithParser(p *identity.Parser) Option { return func(r *Registry) { r.parser = p } }

// WithAccessKeyCost sets the PBKDF2 iterations of access-key hashes
// (default DefaultAccessKeyCost); tests lower it.
func WithAccessKeyCost(iterations int) Option {
	return func(r *Registry) {
		if iterations > 0 {
			r.keyCost = iterations
		}
	}
}

// New returns the registry writing through svc and keeping its claims and
// access-key hashes in keys (the same database's keyed store).
func New(svc *resource.Service, keys store.Keyed, opts ...Option) *Registry {
	r := &Registry{
		svc: svc, keys: keys, now: time.Now,
		log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		keyCost: DefaultAccessKeyCost, newID: uuid.NewString,
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// system is the caller the registry writes and reads as: the platform's
// own code (no Grants), recording the requester as the writer of every
// version, so history shows who asked.
func system(c resource.Caller) resource.Caller {
	w := c.Writer
	if w == "" {
		w = "ehealth-registry"
	}
	return resource.Caller{Writer: w}
}

// found is a current resource read by a search, parsed.
type found struct {
	v   store.Version
	res map[string]any
}

// maxFound bounds what one internal search gathers over its pages.
const maxFound = 10000

// search runs a search as the platform and returns every match (up to
// maxFound), following the pages.
func (r *Registry) search(ctx context.Context, typ string, q url.Values, patient string) ([]found, error) {
	var out []found
	cursor := ""
	for {
		res, err := r.svc.Search(ctx, resource.Caller{}, typ, q, resource.SearchOptions{Strict: true, Cursor: cursor, Patient: patient})
		if err != nil {
			return nil, err
		}
		for _, v := range res.Matches {
			body, err := fhir.Parse(v.Body)
			if err != nil {
				return nil, outcome.Wrap(outcome.Internal, "registry: decode "+v.Type+"/"+v.ID, err)
			}
			out = append(out, found{v, body})
		}
		if res.Next == "" {
			return out, nil
		}
		if len(out) >= maxFound {
			return nil, outcome.New(outcome.TooCostly, "more than %d resources to gather; this operation handles at most that many", maxFound)
		}
		cursor = res.Next
	}
}

// read reads typ/id as the platform, parsed.
func (r *Registry) read(ctx context.Context, typ, id string) (found, error) {
	v, err := r.svc.Read(ctx, resource.Caller{}, typ, id)
	if err != nil {
		return found{}, err
	}
	body, err := fhir.Parse(v.Body)
	if err != nil {
		return found{}, outcome.Wrap(outcome.Internal, "registry: decode "+typ+"/"+id, err)
	}
	return found{v, body}, nil
}

// today is the date in Hong Kong at the registry's now.
func (r *Registry) today() time.Time {
	t := r.now().In(HongKong)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, HongKong)
}

// instant formats t as a FHIR instant in UTC to the second.
func instant(t time.Time) string { return t.UTC().Format(time.RFC3339) }
