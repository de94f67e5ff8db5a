package correction

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// The operations. Both are POST with a Parameters body, on an instance.
const (
	// OpRequest runs on a record of a patient's compartment: the citizen
	// (or their SDM) asks its depositing provider to correct it.
	OpRequest = "$request-correction"
	// OpResolve runs on a correction request's Task: its owner amends,
	// answers or rejects.
	OpResolve = "$resolve-correction"
)

// Codes. (assumed) eHealth+ has no published implementation guide; the
// URLs are the platform's own.
const (
	// TaskCodeSystem codes the platform's Tasks (journal.TaskCodeSystem).
	TaskCodeSystem = "https://ehealth.hk/fhir/CodeSystem/task-code"
	// TaskCorrection is the code of a correction request's Task.
	TaskCorrection = "correction-request"
	// OutcomeSystem codes a resolved request's businessStatus and the
	// types of its outputs: amended, answered, rejected.
	OutcomeSystem = "https://ehealth.hk/fhir/CodeSystem/correction-outcome"
	// KindResolved is the notice kind (notify.KindSystem) telling the
	// citizen how their request was resolved.
	KindResolved = "correction-resolved"
)

// Operations serves the correction requests to the FHIR API
// (rest.Operations).
//
// A correction request's Task is written as its owner — the provider's
// Organization, recorded as the versions' writer — so the provider's
// access predicate (store.Access.Writers: what it deposited) covers its
// queue whatever consent the citizen gave it; the citizen reaches it
// through their compartment. The citizen, the provider and the operator
// change it only through these operations.
type Operations struct {
	svc   *resource.Service
	reg   *registry.Registry
	now   func() time.Time
	newID func() string
}

// Option configures Operations.
type Option func(*Operations)

// WithClock makes the operations read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(o *Operations) { o.now = now } }

// New returns the correction operations, writing through svc and asking
// reg who may act for a citizen.
func New(svc *resource.Service, reg *registry.Registry, opts ...Option) *Operations {
	o := &Operations{svc: svc, reg: reg, now: time.Now, newID: uuid.NewString}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// Names lists $resolve-correction on Task and $request-correction on the
// types of a patient's record.
func (o *Operations) Names(typ string) []string {
	switch {
	case typ == "Task":
		return []string{OpResolve}
	case fhir.IsInPatientCompartment(typ):
		return []string{OpRequest}
	}
	return nil
}

// Run runs a correction operation for c on instance, which the API has
// read as c may (so a record or Task c cannot see is answered as missing
// before this runs).
func (o *Operations) Run(ctx context.Context, c resource.Caller, typ, name string, instance map[string]any, _ url.Values, body map[string]any) (map[string]any, error) {
	id, _ := instance["id"].(string)
	switch {
	case !slices.Contains(o.Names(typ), name):
		return nil, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ)
	case id == "":
		return nil, outcome.New(outcome.NotFound, "%s runs on an instance: POST %s/{id}/%s", name, typ, name)
	case body == nil:
		return nil, outcome.New(outcome.NotAllowed, "%s is POST with a Parameters body only", name)
	case name == OpRequest:
		comment, err := parseRequest(body)
		if err != nil {
			return nil, err
		}
		return o.request(ctx, c, typ, id, instance, comment)
	}
	r, err := parseResolution(body)
	if err != nil {
		return nil, err
	}
	return o.resolve(ctx, c, id, r)
}
