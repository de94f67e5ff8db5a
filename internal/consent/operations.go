package consent

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// The consent operations. Every one is POST with a Parameters body and
// runs on an instance: a Patient, a patient's record, or a review Task.
const (
	OpShare            = "$share"             // Patient: give a sharing consent to a provider
	OpShareCode        = "$share-code"        // Patient: a professional at the clinic has a code sent to the citizen
	OpRevokeSharing    = "$revoke-sharing"    // Patient: revoke a sharing consent
	OpCareRelationship = "$care-relationship" // Patient: register a care relationship at the clinic
	OpEmergencyAccess  = "$emergency-access"  // Patient: break-glass, behind Policy.Emergency
	OpReview           = "$review"            // Task: the operator reviews an emergency access
	OpRestrict         = "$restrict"          // a record, or Patient with type/category: restrict
	OpUnrestrict       = "$unrestrict"        // a record: lift the restriction
	OpRestrictedCode   = "$restricted-code"   // Patient: ask the citizen to open restricted records
	OpOpenRestricted   = "$open-restricted"   // Patient: open them with the citizen's code
	OpRestrictedExists = "$restricted-exists" // Patient: only with Policy.ShowRestrictedExists
)

// Writer is the writer recorded on the versions the operations write (the
// requester is named in the resources themselves): a provider's Writers
// rule must not make a one-time code's notice visible to the professional
// who asked for it.
const Writer = "ehealth-consent"

// Citizens is what the operations ask the citizens' registry.
type Citizens struct {
	// VerifyAccessKey reports whether key is the access key of the master
	// Patient patientID (registry.Registry.VerifyAccessKey).
	VerifyAccessKey func(ctx context.Context, patientID, key string) (bool, error)
	// ActsFor reports for which patient RelatedPerson/id may act now as a
	// substitute decision maker (registry.Registry.ActsFor without the
	// role).
	ActsFor func(ctx context.Context, relatedPersonID string) (patientID string, ok bool, err error)
}

// Operations serves the consent operations: the only way, besides the
// operator, that sharing, emergency, restriction and restricted-access
// Consents, registered care relationships and emergency review Tasks are
// written. Each writes in one transaction Bundle with the notice
// (notify.Notice) it owes the citizen.
type Operations struct {
	policy   *Policy
	svc      *resource.Service
	store    store.Store
	citizens Citizens
	now      func() time.Time
	newID    func() string
}

// Option configures Operations.
type Option func(*Operations)

// WithClock makes the operations read the time from now (tests: expiry).
func WithClock(now func() time.Time) Option { return func(o *Operations) { o.now = now } }

// NewOperations returns the consent operations writing through svc as the
// platform, keeping one-time codes in st's keyed store and deciding by
// policy (whose switches may change while serving).
func NewOperations(svc *resource.Service, st store.Store, policy *Policy, citizens Citizens, opts ...Option) *Operations {
	o := &Operations{policy: policy, svc: svc, store: st, citizens: citizens, now: time.Now, newID: uuid.NewString}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// patientOps are the operations on a Patient.
var patientOps = []string{OpShare, OpShareCode, OpRevokeSharing, OpCareRelationship, OpEmergencyAccess,
	OpRestrict, OpRestrictedCode, OpOpenRestricted}

// Names lists the operations on typ. $restricted-exists is offered only
// when the policy shows that restricted records exist.
func (o *Operations) Names(typ string) []string {
	switch typ {
	case "":
		return nil
	case "Patient":
		names := slices.Clone(patientOps)
		if o.policy.ShowRestrictedExists {
			names = append(names, OpRestrictedExists)
		}
		return names
	case "Task":
		return []string{OpReview, OpRestrict, OpUnrestrict}
	}
	return []string{OpRestrict, OpUnrestrict}
}

// DecidesInstance: every consent operation reads its instance itself (a
// professional at the clinic cannot see the citizen yet), answering a
// caller who may not act on it as for one that does not exist.
func (o *Operations) DecidesInstance(typ, name string) bool {
	return slices.Contains(o.Names(typ), name)
}

// Run runs a consent operation for c on typ/instance.id.
func (o *Operations) Run(ctx context.Context, c resource.Caller, typ, name string, instance map[string]any, _ url.Values, body map[string]any) (map[string]any, error) {
	if !slices.Contains(o.Names(typ), name) {
		return nil, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ)
	}
	id, _ := instance["id"].(string)
	if instance == nil || id == "" {
		return nil, outcome.New(outcome.NotFound, "%s runs on an instance: POST %s/{id}/%s", name, typ, name)
	}
	if body == nil {
		return nil, outcome.New(outcome.NotAllowed, "%s is POST with a Parameters body only", name)
	}
	in, err := parseParams(body)
	if err != nil {
		return nil, err
	}
	if typ != "Patient" {
		switch name {
		case OpReview:
			return o.review(ctx, c, id, in)
		case OpRestrict, OpUnrestrict:
			return o.labelRecord(ctx, c, typ, id, name == OpRestrict)
		}
	}
	run := map[string]func(context.Context, resource.Caller, string, params) (map[string]any, error){
		OpShare: o.share, OpShareCode: o.shareCode, OpRevokeSharing: o.revoke, OpCareRelationship: o.careRelationship,
		OpEmergencyAccess: o.emergency, OpRestrict: o.restrictPatient, OpRestrictedCode: o.restrictedCode,
		OpOpenRestricted: o.openRestricted, OpRestrictedExists: o.restrictedExists,
	}[name]
	return run(ctx, c, id, in)
}

// notKnown is the answer for an instance the caller may not act on: word
// for word the one for an instance that does not exist.
func notKnown(typ, id string) error {
	return outcome.New(outcome.NotFound, "%s/%s is not known", typ, id)
}

// refuse answers a caller who may not do what they asked on typ/id: one
// who may see it learns why (403), anyone else gets exactly the answer
// for an instance that does not exist.
func (o *Operations) refuse(ctx context.Context, c resource.Caller, typ, id, format string, args ...any) error {
	if _, err := o.svc.Read(ctx, c, typ, id); err != nil {
		return notKnown(typ, id)
	}
	return outcome.New(outcome.Forbidden, format, args...)
}
