package registry_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// TestProfessionsMatchViews: every profession's council is known; its
// SNOMED CT code, where it has one, selects the same built-in view as its
// local code; and the professions the built-in views narrow are found by
// their local code (a code drifting from views.json would give the role
// every type).
func TestProfessionsMatchViews(t *testing.T) {
	views := resource.DefaultViews()
	for name, p := range registry.Professions {
		if _, ok := registry.Councils[p.Council]; !ok {
			t.Errorf("%s: council %q is not known", name, p.Council)
		}
		local := views.For([]string{registry.ProfessionalRoleSystem + "|" + p.Code})
		if p.SNOMED == "" {
			continue
		}
		sct := views.For([]string{registry.SNOMEDSystem + "|" + p.SNOMED})
		if local.All() != sct.All() || !slices.Equal(local.Types(), sct.Types()) {
			t.Errorf("%s: the local code's view %v and SNOMED CT %s's %v differ", name, local.Types(), p.SNOMED, sct.Types())
		}
	}
	for _, name := range []string{"pharmacist", "laboratory-technologist", "radiographer", "dental-hygienist"} {
		p := registry.Professions[name]
		if views.For([]string{registry.ProfessionalRoleSystem + "|" + p.Code}).All() {
			t.Errorf("%s: the built-in views do not narrow %s|%s", name, registry.ProfessionalRoleSystem, p.Code)
		}
	}
}

// TestAddProfessionalProfession: the profession is checked — unknown, or
// of another council, is 400 at profession — and the registry's entries
// carry its origin tag; a Practitioner someone else wrote with the same
// registration number is not taken as the registered professional.
func TestAddProfessionalProfession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx, op := t.Context(), resource.Caller{Writer: "test"}
		id, err := e.reg.AddProvider(ctx, op, "Kowloon Pharmacy", "pharmacy")
		if err != nil {
			t.Fatal(err)
		}
		org := "Organization/" + id
		for _, bad := range []registry.Professional{
			{Name: "X", Council: "ppbhk", Registration: "P1", Org: org, Profession: "alchemist"},
			{Name: "X", Council: "mchk", Registration: "P1", Org: org, Profession: "pharmacist"},
		} {
			_, _, err := e.reg.AddProfessional(ctx, op, bad)
			var oe *outcome.Error
			if !errors.As(err, &oe) || oe.Kind != outcome.Invalid || oe.Issues[0].Expression != "profession" {
				t.Errorf("%+v: %v, want 400 at profession", bad, err)
			}
		}
		// A Practitioner with the number, not written by the registry.
		impostor, err := e.svc.Create(ctx, resource.Caller{Writer: "Organization/other"}, "Practitioner", map[string]any{
			"resourceType": "Practitioner",
			"identifier":   []any{map[string]any{"system": registry.RegistrationSystemPrefix + "ppbhk", "value": "P1"}},
			"name":         []any{map[string]any{"text": "NOT HO Wing"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		p := registry.Professional{Name: "HO Wing", Council: "ppbhk", Registration: "P1", Org: org, Profession: "pharmacist"}
		prac, role, err := e.reg.AddProfessional(ctx, op, p)
		if err != nil {
			t.Fatal(err)
		}
		if prac == impostor.ID {
			t.Error("the registry took a Practitioner it did not write as the professional")
		}
		again, _, err := e.reg.AddProfessional(ctx, op, p)
		if err != nil || again != prac {
			t.Errorf("a second role of the professional: Practitioner %q %v, want %q", again, err, prac)
		}
		for _, ref := range [][2]string{{"Organization", id}, {"Practitioner", prac}, {"PractitionerRole", role}} {
			if res := e.read(ref[0], ref[1]); !resource.HasTag(res, resource.RegistryOriginSystem, resource.RegistryOriginRegistry) {
				t.Errorf("%s/%s lacks the registry's origin tag: %v", ref[0], ref[1], res["meta"])
			}
		}
	})
}
