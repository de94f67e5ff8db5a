package registry

import (
	"context"
	"net/url"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// The operations the registry runs on Patient.
const (
	OpRegister = "$register" // type level
	OpWithdraw = "$withdraw" // instance level
	OpMatch    = "$match"    // type level (https://hl7.org/fhir/R4/patient-operation-match.html)
	OpLink     = "$link"     // instance level
	OpMerge    = "$merge"    // type level (R5 style: https://hl7.org/fhir/R5/patient-operation-merge.html)
	OpUnmerge  = "$unmerge"  // type level
)

// instanceOps run on a stored Patient; the others at type level.
var instanceOps = map[string]bool{OpWithdraw: true, OpLink: true}

// Names lists the registry's operations on typ (all on Patient).
func (r *Registry) Names(typ string) []string {
	if typ != "Patient" {
		return nil
	}
	return []string{OpRegister, OpWithdraw, OpMatch, OpLink, OpMerge, OpUnmerge}
}

// Run runs a registry operation for caller c. Every one is POST with a
// Parameters body: identity numbers never travel in a URL.
func (r *Registry) Run(ctx context.Context, c resource.Caller, typ, name string, instance map[string]any, _ url.Values, body map[string]any) (map[string]any, error) {
	if typ != "Patient" {
		return nil, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ)
	}
	if body == nil {
		return nil, outcome.New(outcome.NotAllowed, "%s is POST with a Parameters body only, so that identity data never goes in a URL", name)
	}
	if instanceOps[name] != (instance != nil) {
		level := "at type level, POST Patient/" + name
		if instanceOps[name] {
			level = "on a Patient, POST Patient/{id}/" + name
		}
		return nil, outcome.New(outcome.NotFound, "%s runs %s", name, level)
	}
	switch name {
	case OpRegister:
		return r.runRegister(ctx, c, body)
	case OpWithdraw:
		return r.runWithdraw(ctx, c, instance, body)
	case OpMatch:
		return r.runMatch(ctx, c, body)
	case OpLink:
		return r.runLink(ctx, c, instance, body)
	case OpMerge:
		return r.runMerge(ctx, c, body, false)
	case OpUnmerge:
		return r.runMerge(ctx, c, body, true)
	}
	return nil, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ)
}

// Operator reports whether c is the platform operator (or the platform's
// own code): a caller without Grants. Operator-only operations refuse
// everyone else with 403.
func Operator(c resource.Caller) bool { return c.Grants == nil }

// staff reports whether c's token lets a provider's system or user (not a
// patient-context app) perform p on Patient: user/ or system/ scopes.
func staff(c resource.Caller, p scope.Perm, typ string) bool {
	if Operator(c) {
		return true
	}
	for _, ctx := range []scope.Context{scope.User, scope.System} {
		if ok, filters := c.Grants.Scopes.Allows(ctx, p, typ); ok && filters == nil {
			return true
		}
	}
	return false
}

func (r *Registry) runRegister(ctx context.Context, c resource.Caller, body map[string]any) (map[string]any, error) {
	if !staff(c, scope.Create, "Patient") {
		return nil, outcome.New(outcome.Forbidden, "registering a citizen needs the operator or a provider's token with user/ or system/ Patient create (c)")
	}
	reg, err := ParseRegistration(r.parser, body)
	if err != nil {
		return nil, err
	}
	done, err := r.Register(ctx, c, reg)
	if err != nil {
		return nil, err
	}
	pairs := []any{
		"patient", map[string]any{"resource": done.Patient},
		"access-key", map[string]any{"valueString": done.AccessKey},
		"consent", map[string]any{"valueReference": ref("Consent", done.Consent)},
	}
	if done.SDM != "" {
		pairs = append(pairs, paramSDM, map[string]any{"valueReference": ref("RelatedPerson", done.SDM)})
	}
	if done.Invitation != "" {
		pairs = append(pairs, "invitation", map[string]any{"valueReference": ref("CommunicationRequest", done.Invitation)})
	}
	return parameters(pairs...), nil
}
