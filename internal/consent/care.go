package consent

import (
	"context"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// careRelationship serves Patient/{id}/$care-relationship (accessKey or
// code): a professional at the clinic, having identified the citizen,
// registers that their provider cares for them. It writes one
// EpisodeOfCare per patient and provider (registering again renews it),
// typed EpisodeRegistered, from now for Policy.RelationshipExpiry — the
// care relationship ends then, with no CareAfter.
func (o *Operations) careRelationship(ctx context.Context, c resource.Caller, patientID string, in params) (map[string]any, error) {
	practitioner, org := professional(c)
	if practitioner == "" {
		return nil, o.refuse(ctx, c, "Patient", patientID, "a care relationship is registered by a healthcare professional at the clinic")
	}
	ok, err := o.atClinic(ctx, in, patientID, practitioner)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, o.refuse(ctx, c, "Patient", patientID, "the access key or one-time code is not valid (or has expired)")
	}
	p, ok, err := o.citizen(ctx, patientID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notKnown("Patient", patientID)
	}
	if withdrawn(p) {
		return nil, outcome.New(outcome.Unprocessable, "the citizen has withdrawn from eHealth")
	}
	now := o.now()
	end := now.Add(o.policy.relationshipExpiry())
	episode := map[string]any{
		"resourceType": "EpisodeOfCare",
		"status":       "active",
		"type": []any{map[string]any{"coding": []any{map[string]any{
			"system": EpisodeTypeSystem, "code": EpisodeRegistered, "display": "Care relationship registered at the clinic",
		}}}},
		"patient":              ref("Patient/" + patientID),
		"managingOrganization": ref(org),
		"period":               periodOf(now, end),
		"careManager":          ref(practitioner),
	}
	stored, err := o.transact(ctx, write{typ: "EpisodeOfCare", id: stableID("care", patientID, org), res: episode})
	if err != nil {
		return nil, err
	}
	return parameters("episodeOfCare", map[string]any{"resource": stored[0]},
		"outcome", informational(fmt.Sprintf("care relationship with %s registered until %s", org, instant(end)))), nil
}
