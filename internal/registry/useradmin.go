package registry

import (
	"context"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// OpAddProfessional is the instance operation on Organization by which a
// provider's user administrator (or the operator) registers a professional
// at that provider: what `ehealth admin professional add` does, over the
// API. POST Organization/{id}/$add-professional with a Parameters body:
// name, council, registration (strings), profession (code, optional) and
// role (code, repeatable: healthcare-professional, user-administrator).
// The answer holds the practitioner (a reference) and the
// practitionerRole (the stored resource).
const OpAddProfessional = "$add-professional"

// UserAdminRole is the ProfessionalRoles code of a provider's user
// administrators.
const UserAdminRole = "user-administrator"

// UserAdmin offers the user administrators' operations to the FHIR API
// (rest.Operations).
type UserAdmin struct{ r *Registry }

// UserAdmin returns the operation provider over r.
func (r *Registry) UserAdmin() *UserAdmin { return &UserAdmin{r: r} }

// Names lists $add-professional on Organization.
func (u *UserAdmin) Names(typ string) []string {
	if typ != "Organization" {
		return nil
	}
	return []string{OpAddProfessional}
}

// Run registers a professional at Organization/{id}: for the operator, or
// a professional acting for that provider (the token's organisation) who
// holds an active role there coded user-administrator and whose scopes
// let them create PractitionerRoles (user/). Anyone else, who may read the
// Organization (a public registry entry), is refused with 403.
func (u *UserAdmin) Run(ctx context.Context, c resource.Caller, typ, name string, instance map[string]any, _ url.Values, body map[string]any) (map[string]any, error) {
	if typ != "Organization" || name != OpAddProfessional {
		return nil, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ)
	}
	id, _ := instance["id"].(string)
	if id == "" {
		return nil, outcome.New(outcome.NotFound, "%s runs on a provider: POST Organization/{id}/%s", name, name)
	}
	if body == nil {
		return nil, outcome.New(outcome.NotAllowed, "%s is POST with a Parameters body only", name)
	}
	org := "Organization/" + id
	if err := u.mayAdminister(ctx, c, org); err != nil {
		return nil, err
	}
	p, err := parseProfessional(body)
	if err != nil {
		return nil, err
	}
	p.Org = org
	prac, role, err := u.r.AddProfessional(ctx, c, p)
	if err != nil {
		return nil, err
	}
	stored, err := u.r.read(ctx, "PractitionerRole", role)
	if err != nil {
		return nil, err
	}
	return parameters(
		"practitioner", map[string]any{"valueReference": ref("Practitioner", prac)},
		"practitionerRole", map[string]any{"resource": stored.res},
	), nil
}

// mayAdminister: the operator, or a user administrator of org acting for
// it with user/ scopes to create PractitionerRoles.
func (u *UserAdmin) mayAdminister(ctx context.Context, c resource.Caller, org string) error {
	if Operator(c) {
		return nil
	}
	if c.Who.Org != org || !strings.HasPrefix(c.Who.FHIRUser, "Practitioner/") {
		return outcome.New(outcome.Forbidden, "only %s's user administrators register its professionals", org)
	}
	if ok, filters := c.Grants.Scopes.Allows(scope.User, scope.Create, "PractitionerRole"); !ok || filters != nil {
		return outcome.New(outcome.Forbidden, "%s needs a user/ scope granting PractitionerRole create", OpAddProfessional)
	}
	admin, err := u.r.IsUserAdmin(ctx, c.Who.FHIRUser, org)
	if err != nil {
		return err
	}
	if !admin {
		return outcome.New(outcome.Forbidden, "only %s's user administrators register its professionals", org)
	}
	return nil
}

// IsUserAdmin reports whether practitioner ("Practitioner/ID") holds an
// active role at org ("Organization/ID") coded user-administrator, written
// by the providers' registry (a role a token wrote does not count).
func (r *Registry) IsUserAdmin(ctx context.Context, practitioner, org string) (bool, error) {
	roles, err := r.search(ctx, "PractitionerRole", url.Values{
		"practitioner": {practitioner},
		"organization": {org},
		"role":         {ProfessionalRoleSystem + "|" + UserAdminRole},
		"_tag":         {resource.RegistryOriginSystem + "|" + resource.RegistryOriginRegistry},
	}, "")
	if err != nil {
		return false, err
	}
	for _, f := range roles {
		if active, ok := f.res["active"].(bool); ok && !active {
			continue
		}
		period, _ := f.res["period"].(map[string]any)
		if end, _ := period["end"].(string); end != "" && end < instant(r.now()) {
			continue
		}
		return true, nil
	}
	return false, nil
}

// The parameters of $add-professional.
var addProfessionalParams = []string{"name", "council", "registration", "profession", "role"}

// parseProfessional reads $add-professional's parameters; AddProfessional
// checks their values.
func parseProfessional(body map[string]any) (Professional, error) {
	ps, err := parseParams(body, addProfessionalParams...)
	if err != nil {
		return Professional{}, err
	}
	var p Professional
	for _, f := range []struct {
		name string
		to   *string
	}{{"name", &p.Name}, {"council", &p.Council}, {"registration", &p.Registration}, {"profession", &p.Profession}} {
		q, ok, err := ps.one(f.name)
		if err != nil {
			return Professional{}, err
		}
		if !ok {
			continue
		}
		s, ok := q.str()
		if !ok {
			return Professional{}, outcome.At(outcome.Invalid, q.path(), "parameter %q takes a valueString or valueCode", f.name)
		}
		*f.to = strings.TrimSpace(s)
	}
	for _, q := range ps.byName["role"] {
		s, ok := q.str()
		if !ok {
			return Professional{}, outcome.At(outcome.Invalid, q.path(), "parameter \"role\" takes a valueCode")
		}
		p.Roles = append(p.Roles, s)
	}
	return p, nil
}
