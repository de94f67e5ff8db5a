package registry

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// The providers' registry's code systems.
const (
	// ProviderKindSystem codes the kinds of healthcare provider.
	ProviderKindSystem = base + "CodeSystem/provider-kind"
	// ProfessionalRoleSystem codes a professional's roles at a provider.
	ProfessionalRoleSystem = base + "CodeSystem/professional-role"
	// RegistrationSystemPrefix, followed by a council's code, is the
	// Identifier.system of registration numbers on its register.
	RegistrationSystemPrefix = base + "sid/registration/"
)

// ProviderKinds are the kinds of healthcare provider (DOMAIN.md).
var ProviderKinds = map[string]string{
	"hospital":  "Hospital",
	"clinic":    "Clinic",
	"lab":       "Medical laboratory",
	"pharmacy":  "Pharmacy",
	"care-home": "Residential care home",
	"cm-clinic": "Chinese medicine clinic",
	"dental":    "Dental clinic",
}

// Councils are the statutory councils and boards that register healthcare
// professionals in Hong Kong, by the code eHealth+ gives them.
var Councils = map[string]string{
	"mchk":    "Medical Council of Hong Kong",
	"dchk":    "Dental Council of Hong Kong",
	"cmchk":   "Chinese Medicine Council of Hong Kong",
	"ppbhk":   "Pharmacy and Poisons Board of Hong Kong",
	"nchk":    "Nursing Council of Hong Kong",
	"mwchk":   "Midwives Council of Hong Kong",
	"mltb":    "Medical Laboratory Technologists Board",
	"rb":      "Radiographers Board",
	"ptb":     "Physiotherapists Board",
	"otb":     "Occupational Therapists Board",
	"ob":      "Optometrists Board",
	"cchk":    "Chiropractors Council",
	"ars":     "Accredited Registers Scheme for Healthcare Professions",
	"dhygchk": "Dental Council of Hong Kong (dental hygienists)",
}

// ProfessionalRoles are the roles a professional holds at a provider:
// seeing patients, and administering the provider's user accounts.
var ProfessionalRoles = map[string]string{
	"healthcare-professional": "Healthcare professional",
	"user-administrator":      "User administrator",
}

// AddProvider registers a healthcare provider as an active Organization
// of the given kind and returns its id.
func (r *Registry) AddProvider(ctx context.Context, c resource.Caller, name, kind string) (string, error) {
	display, ok := ProviderKinds[kind]
	if !ok {
		return "", outcome.New(outcome.Invalid, "provider kind %q: want one of %s", kind, keys(ProviderKinds))
	}
	if strings.TrimSpace(name) == "" {
		return "", outcome.New(outcome.Invalid, "a provider needs a name")
	}
	org := map[string]any{
		"resourceType": "Organization",
		"active":       true,
		"type": []any{
			map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov", "display": "Healthcare Provider"}}},
			map[string]any{"coding": []any{map[string]any{"system": ProviderKindSystem, "code": kind, "display": display}}},
		},
		"name": name,
	}
	registered(org)
	v, err := r.svc.Create(ctx, system(c), "Organization", org)
	if err != nil {
		return "", err
	}
	r.log.Info("provider added", "organization", v.ID, "kind", kind, "by", c.Writer)
	return v.ID, nil
}

// Professional is a professional to register at a provider.
type Professional struct {
	Name         string   // as written, e.g. "CHAN Tai Man"
	Council      string   // a key of Councils
	Registration string   // the number on the council's register
	Org          string   // Organization/ID
	Roles        []string // keys of ProfessionalRoles; healthcare-professional when none
	// Profession is a key of Professions, recorded as the role's first
	// code; "" for none (a role that sees what every configured-nowhere
	// role sees).
	Profession string
}

// AddProfessional registers a professional's role at a provider: the
// Practitioner (one per registration number: a professional at two
// providers has one Practitioner and two roles) and a PractitionerRole
// whose codes are the profession (Professions) and the roles. Both carry
// the registry's origin tag (registered), so no token changes them. Only
// a Practitioner the registry wrote is taken as the professional's: one
// a token wrote with the same registration number is not. It returns
// both ids.
func (r *Registry) AddProfessional(ctx context.Context, c resource.Caller, p Professional) (practitioner, role string, err error) {
	if err := checkProfessional(&p); err != nil {
		return "", "", err
	}
	orgID, _ := localID(p.Org, "Organization")
	if ok, err := r.Active(ctx, p.Org); err != nil {
		return "", "", err
	} else if !ok {
		return "", "", outcome.New(outcome.Unprocessable, "%s is not an active provider", p.Org)
	}
	regSystem := RegistrationSystemPrefix + p.Council
	existing, err := r.search(ctx, "Practitioner", url.Values{
		"identifier": {regSystem + "|" + p.Registration},
		"_tag":       {resource.RegistryOriginSystem + "|" + resource.RegistryOriginRegistry},
	}, "")
	if err != nil {
		return "", "", err
	}
	if len(existing) > 0 {
		practitioner = existing[0].v.ID
	} else if practitioner, err = r.createPractitioner(ctx, c, p, regSystem); err != nil {
		return "", "", err
	}
	var codes []any
	if p.Profession != "" {
		codes = append(codes, professionCode(p.Profession))
	}
	for _, code := range p.Roles {
		codes = append(codes, map[string]any{"coding": []any{map[string]any{"system": ProfessionalRoleSystem, "code": code, "display": ProfessionalRoles[code]}}})
	}
	pr := map[string]any{
		"resourceType": "PractitionerRole",
		"active":       true,
		"practitioner": ref("Practitioner", practitioner),
		"organization": ref("Organization", orgID),
		"code":         codes,
	}
	registered(pr)
	v, err := r.svc.Create(ctx, system(c), "PractitionerRole", pr)
	if err != nil {
		return "", "", err
	}
	r.log.Info("professional added", "practitioner", practitioner, "role", v.ID, "organization", orgID, "profession", p.Profession, "by", c.Writer)
	return practitioner, v.ID, nil
}

// checkProfessional checks p and fills its default role.
func checkProfessional(p *Professional) error {
	if strings.TrimSpace(p.Name) == "" {
		return outcome.New(outcome.Invalid, "a professional needs a name")
	}
	if _, ok := Councils[p.Council]; !ok {
		return outcome.New(outcome.Invalid, "council %q: want one of %s", p.Council, keys(Councils))
	}
	if strings.TrimSpace(p.Registration) == "" || len(p.Registration) > 32 {
		return outcome.New(outcome.Invalid, "a registration number of 1 to 32 characters is needed")
	}
	if _, ok := localID(p.Org, "Organization"); !ok || !strings.HasPrefix(p.Org, "Organization/") {
		return outcome.New(outcome.Invalid, "the provider is Organization/ID, not %q", p.Org)
	}
	if len(p.Roles) == 0 {
		p.Roles = []string{"healthcare-professional"}
	}
	for _, role := range p.Roles {
		if _, ok := ProfessionalRoles[role]; !ok {
			return outcome.New(outcome.Invalid, "role %q: want one of %s", role, keys(ProfessionalRoles))
		}
	}
	return checkProfession(p)
}

func (r *Registry) createPractitioner(ctx context.Context, c resource.Caller, p Professional, regSystem string) (string, error) {
	prac := map[string]any{
		"resourceType": "Practitioner",
		"active":       true,
		"identifier": []any{map[string]any{
			"use": "official",
			"type": map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "LN", "display": "License number",
			}}, "text": Councils[p.Council]},
			"system": regSystem,
			"value":  p.Registration,
		}},
		"name": []any{withLanguage(map[string]any{"text": p.Name})},
	}
	registered(prac)
	v, err := r.svc.Create(ctx, system(c), "Practitioner", prac)
	if err != nil {
		return "", err
	}
	return v.ID, nil
}

// SetActive suspends (active false) or reinstates a provider. Suspension
// takes effect on the next request: Active reads the Organization each
// time.
func (r *Registry) SetActive(ctx context.Context, c resource.Caller, org string, active bool) error {
	id, ok := localID(org, "Organization")
	if !ok {
		return outcome.New(outcome.Invalid, "the provider is Organization/ID, not %q", org)
	}
	return retried(func() error {
		f, err := r.read(ctx, "Organization", id)
		if err != nil {
			return err
		}
		f.res["active"] = active
		_, _, err = r.svc.Update(ctx, system(c), "Organization", id, f.res, f.v.VersionID)
		return err
	})
}

// Active reports whether org ("Organization/ID") is a provider that may
// act now: it exists and is not suspended (active false). The HTTP edge
// calls it for every token naming a provider, so a suspension takes effect
// on the next request; an unknown provider is not active (false, nil).
func (r *Registry) Active(ctx context.Context, org string) (bool, error) {
	id, ok := localID(org, "Organization")
	if !ok {
		return false, nil
	}
	f, err := r.read(ctx, "Organization", id)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	active, ok := f.res["active"].(bool)
	return !ok || active, nil
}

// registered tags res as an entry of the providers' registry
// (resource.RegistryOriginSystem): from then on only the platform's code
// and the operator change or delete it (resource/origin.go).
func registered(res map[string]any) {
	resource.AddTag(res, resource.RegistryOriginSystem, resource.RegistryOriginRegistry)
}

// keys lists a table's keys, sorted, for messages.
func keys(m map[string]string) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
