package resource_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

const (
	sct        = "http://snomed.info/sct|"
	local      = resource.RoleSystem + "|"
	pharmacist = local + "pharmacist"
	labTech    = local + "medical-laboratory-technologist"
	doctor     = sct + "158965000"
)

// TestDefaultViews: the built-in views parse, and give each role what
// views.json says; the Patient and types in no compartment are in every
// view; a role configured nowhere sees everything; a role with several
// configured codes sees the union of their views, everything when one is
// unrestricted; codes configured nowhere do not widen a configured one.
func TestDefaultViews(t *testing.T) {
	views := resource.DefaultViews()
	for _, tc := range []struct {
		name  string
		codes []string
		all   bool
		sees  []string
		hides []string
	}{
		{"pharmacist (local code)", []string{pharmacist}, false,
			[]string{"MedicationRequest", "MedicationDispense", "MedicationStatement", "MedicationAdministration", "AllergyIntolerance", "Immunization", "Condition", "Patient", "Medication", "Practitioner", "Organization", "Location"},
			[]string{"Observation", "Encounter", "DiagnosticReport", "DocumentReference", "Procedure", "Consent", "RelatedPerson"}},
		{"pharmacist (SNOMED CT)", []string{sct + "46255001"}, false, []string{"MedicationRequest"}, []string{"Observation"}},
		{"dental hygienist", []string{sct + "26042002"}, false, []string{"AllergyIntolerance", "Procedure", "Condition"}, []string{"Observation", "Encounter", "Immunization"}},
		{"laboratory technologist", []string{labTech}, false, []string{"Observation", "DiagnosticReport", "Specimen", "ServiceRequest"}, []string{"Condition", "MedicationRequest", "AllergyIntolerance"}},
		{"doctor", []string{doctor}, true, nil, nil},
		{"nurse", []string{local + "nurse"}, true, nil, nil},
		{"configured nowhere", []string{local + "healthcare-professional"}, true, nil, nil},
		{"no codes", nil, true, nil, nil},
		{"pharmacist and lab technologist", []string{pharmacist, labTech}, false, []string{"MedicationRequest", "Observation", "Specimen"}, []string{"Encounter"}},
		{"pharmacist and doctor", []string{pharmacist, doctor}, true, nil, nil},
		{"pharmacist and a code configured nowhere", []string{local + "healthcare-professional", pharmacist}, false, []string{"MedicationRequest"}, []string{"Observation"}},
	} {
		v := views.For(tc.codes)
		if v.All() != tc.all {
			t.Errorf("%s: All() = %v, want %v (types %v)", tc.name, v.All(), tc.all, v.Types())
		}
		for _, typ := range tc.sees {
			if !v.Sees(typ) {
				t.Errorf("%s does not see %s", tc.name, typ)
			}
		}
		for _, typ := range tc.hides {
			if v.Sees(typ) {
				t.Errorf("%s sees %s", tc.name, typ)
			}
		}
	}
	if !(resource.View{}).All() || !(resource.View{}).Sees("Observation") {
		t.Error("the zero View does not see everything")
	}
}

// TestParseViews: every slip in a views file is an error, so none silently
// changes what a role sees.
func TestParseViews(t *testing.T) {
	role := func(name, codes, types string) string {
		return fmt.Sprintf(`{"name":%q,"codes":[%s],"types":[%s]}`, name, codes, types)
	}
	file := func(roles ...string) string { return `{"roles":[` + strings.Join(roles, ",") + `]}` }
	for _, tc := range []struct {
		name, json, err string
	}{
		{"valid", file(role("p", `"s|c"`, `"MedicationRequest","Patient"`), role("d", `"s|d"`, `"*"`)), ""},
		{"unknown field", `{"roles":[{"name":"p","codes":["s|c"],"types":["Condition"],"type":["Observation"]}]}`, "unknown field"},
		{"not a resource type", file(role("p", `"s|c"`, `"Observations"`)), "not a resource type"},
		{"not in the compartment", file(role("p", `"s|c"`, `"Medication"`)), "no patient's compartment"},
		{"star with others", file(role("p", `"s|c"`, `"*","Condition"`)), "stands alone"},
		{"code without system", file(role("p", `"pharmacist"`, `"Condition"`)), "system|code"},
		{"empty code", file(role("p", `"s|"`, `"Condition"`)), "system|code"},
		{"no codes", file(role("p", ``, `"Condition"`)), "no codes"},
		{"code of two roles", file(role("p", `"s|c"`, `"Condition"`), role("q", `"s|c"`, `"Observation"`)), "another role"},
		{"same name twice", file(role("p", `"s|c"`, `"Condition"`), role("p", `"s|d"`, `"Observation"`)), "name of its own"},
		{"no name", file(role("", `"s|c"`, `"Condition"`)), "name of its own"},
	} {
		views, err := resource.ParseViews([]byte(tc.json))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.err)
		case tc.err == "":
			if v := views.For([]string{"s|c"}); v.All() || !slices.Equal(v.Types(), []string{"MedicationRequest", "Patient"}) {
				t.Errorf("%s: s|c sees %v", tc.name, v.Types())
			}
		}
	}
}

// roleBody is a PractitionerRole coded with code ("system|code").
func roleBody(id, code string) string {
	system, c, _ := strings.Cut(code, "|")
	return fmt.Sprintf(`{"resourceType":"PractitionerRole","id":%q,"active":true,"code":[{"coding":[{"system":%q,"code":%q}]}]}`, id, system, c)
}

// TestRoleViews: a role's view comes from its stored PractitionerRole; it
// is cached for the ttl (a recoding is not seen until it passes, or until
// Observe hears of the write); a role the platform does not hold, or
// deleted, is refused.
func TestRoleViews(t *testing.T) {
	for _, be := range backends {
		t.Run(be.Name, func(t *testing.T) {
			svc := newService(t, be.Open(t))
			ctx := context.Background()
			put := func(id, code string) {
				t.Helper()
				if _, _, err := svc.Update(ctx, resource.Caller{}, "PractitionerRole", id, parse(t, roleBody(id, code)), 0); err != nil {
					t.Fatal(err)
				}
			}
			put("r1", pharmacist)
			cached := resource.NewRoleViews(svc, resource.DefaultViews(), time.Hour)
			uncached := resource.NewRoleViews(svc, resource.DefaultViews(), time.Nanosecond)
			sees := func(rv *resource.RoleViews, typ string) bool {
				t.Helper()
				v, err := rv.View(ctx, "PractitionerRole/r1")
				if err != nil {
					t.Fatal(err)
				}
				return v.Sees(typ)
			}
			if sees(cached, "Observation") || !sees(cached, "MedicationRequest") || sees(uncached, "Observation") {
				t.Fatal("a pharmacist's role sees Observations, or not MedicationRequests")
			}
			put("r1", labTech)
			if sees(cached, "Observation") {
				t.Error("the cached view changed before its ttl")
			}
			if !sees(uncached, "Observation") || sees(uncached, "MedicationRequest") {
				t.Error("the recoded role's view is not the lab technologist's")
			}
			v, err := svc.Read(ctx, resource.Caller{}, "PractitionerRole", "r1")
			if err != nil {
				t.Fatal(err)
			}
			cached.Observe(ctx, v)
			if !sees(cached, "Observation") {
				t.Error("Observe did not forget the cached view")
			}
			if _, err := svc.Delete(ctx, resource.Caller{}, "PractitionerRole", "r1", 0); err != nil {
				t.Fatal(err)
			}
			for _, role := range []string{"PractitionerRole/r1", "PractitionerRole/nobody", "Practitioner/r1"} {
				if _, err := uncached.View(ctx, role); !outcome.Is(err, outcome.Forbidden) {
					t.Errorf("the view of %s: %v, want forbidden", role, err)
				}
			}
		})
	}
}

// BenchmarkRoleView is what finding a professional's view adds to each of
// their requests: a cache hit, and (ttl ~0) a PractitionerRole read.
func BenchmarkRoleView(b *testing.B) {
	for _, be := range backends {
		svc := newService(b, be.Open(b))
		ctx := context.Background()
		if _, _, err := svc.Update(ctx, resource.Caller{}, "PractitionerRole", "r1", parse(b, roleBody("r1", pharmacist)), 0); err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name string
			ttl  time.Duration
		}{{"cached", time.Hour}, {"read", time.Nanosecond}} {
			b.Run(be.Name+"/"+c.name, func(b *testing.B) {
				rv := resource.NewRoleViews(svc, resource.DefaultViews(), c.ttl)
				for b.Loop() {
					if _, err := rv.View(ctx, "PractitionerRole/r1"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
