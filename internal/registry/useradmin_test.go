package registry_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
)

// addParams is a $add-professional body.
func addParams(name, council, registration, profession string, roles ...string) map[string]any {
	ps := []any{
		map[string]any{"name": "name", "valueString": name},
		map[string]any{"name": "council", "valueCode": council},
		map[string]any{"name": "registration", "valueString": registration},
	}
	if profession != "" {
		ps = append(ps, map[string]any{"name": "profession", "valueCode": profession})
	}
	for _, r := range roles {
		ps = append(ps, map[string]any{"name": "role", "valueCode": r})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": ps}
}

// TestAddProfessional: a provider's user administrator registers a
// professional at their own provider over the API, as `ehealth admin
// professional add` does; a professional who is no user administrator,
// an administrator of another provider, one acting for another provider,
// one without a user/ PractitionerRole create scope and a citizen are
// refused (403) and nothing is written; bad parameters are 400 with the
// parameter's path.
func TestAddProfessional(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx, op := t.Context(), resource.Caller{Writer: "test"}
		clinic, err := e.reg.AddProvider(ctx, op, "Happy Valley Clinic", "clinic")
		if err != nil {
			t.Fatal(err)
		}
		other, err := e.reg.AddProvider(ctx, op, "Kowloon Clinic", "clinic")
		if err != nil {
			t.Fatal(err)
		}
		add := func(p registry.Professional) (string, string) {
			prac, role, err := e.reg.AddProfessional(ctx, op, p)
			if err != nil {
				t.Fatal(err)
			}
			return "Practitioner/" + prac, "PractitionerRole/" + role
		}
		admin, adminRole := add(registry.Professional{Name: "LEE Mei", Council: "nchk", Registration: "N1", Org: "Organization/" + clinic,
			Profession: "nurse", Roles: []string{"healthcare-professional", registry.UserAdminRole}})
		doctor, doctorRole := add(registry.Professional{Name: "CHAN Siu Keung", Council: "mchk", Registration: "M1", Org: "Organization/" + clinic, Profession: "doctor"})
		otherAdmin, otherRole := add(registry.Professional{Name: "HO Ka Yan", Council: "nchk", Registration: "N2", Org: "Organization/" + other,
			Roles: []string{registry.UserAdminRole}})

		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		p := platformtest.Open(t, e.st)
		api := rest.New(e.svc, rest.Config{Tokens: e.tokens, Operations: rest.OperationSet{e.reg, e.reg.UserAdmin()}, Access: p.AccessFor}, log)
		srv := httptest.NewServer(api.Handler())
		defer srv.Close()
		e.srv = srv

		pro := func(who, org, role, scopes string) string {
			c := tokenFor(who, scopes)
			c.Org, c.Role = "Organization/"+org, role
			return e.issue(c)
		}
		path := "/fhir/Organization/" + clinic + "/$add-professional"
		body := addParams("WONG Ka Ming", "mchk", "M77", "doctor")
		for _, c := range []struct {
			name   string
			bearer string
		}{
			{"a professional who is no user administrator", pro(doctor, clinic, doctorRole, "user/*.cruds")},
			{"another provider's user administrator", pro(otherAdmin, other, otherRole, "user/*.cruds")},
			{"the administrator acting for another provider", pro(admin, other, adminRole, "user/*.cruds")},
			{"the administrator without PractitionerRole create", pro(admin, clinic, adminRole, "user/*.rs")},
			{"a citizen", e.issue(tokenFor("Patient/p1", "patient/*.cruds"))},
		} {
			if r := e.do("POST", path, body, c.bearer); r.status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403: %s", c.name, r.status, r.raw)
			}
		}
		if n := fmt.Sprint(e.do("GET", "/fhir/Practitioner?identifier="+registry.RegistrationSystemPrefix+"mchk|M77&_summary=count", nil, "").body["total"]); n != "0" {
			t.Fatalf("a refused request registered the professional (%v)", n)
		}

		tok := pro(admin, clinic, adminRole, "user/*.cruds")
		for _, c := range []struct {
			name string
			body map[string]any
			at   string
		}{
			{"an unknown parameter", map[string]any{"resourceType": "Parameters", "parameter": []any{map[string]any{"name": "org", "valueString": "x"}}}, "Parameters.parameter[0].name"},
			{"a name twice", map[string]any{"resourceType": "Parameters", "parameter": []any{map[string]any{"name": "name", "valueString": "A"}, map[string]any{"name": "name", "valueString": "B"}}}, "Parameters.parameter[1]"},
			{"an unknown council", addParams("WONG Ka Ming", "gmc", "M77", ""), "council"},
			{"a profession of another council", addParams("WONG Ka Ming", "nchk", "M77", "doctor"), "profession"},
			{"an unknown role", addParams("WONG Ka Ming", "mchk", "M77", "doctor", "superuser"), "role"},
			{"no registration", addParams("WONG Ka Ming", "mchk", "", "doctor"), "registration"},
		} {
			r := e.do("POST", path, c.body, tok)
			if r.status != http.StatusBadRequest || !strings.Contains(r.raw, c.at) {
				t.Errorf("%s: %d, want 400 naming %s: %s", c.name, r.status, c.at, r.raw)
			}
		}
		if r := e.do("GET", path, nil, tok); r.status == http.StatusOK {
			t.Errorf("GET $add-professional: 200, want it refused")
		}

		r := e.do("POST", path, addParams("WONG Ka Ming", "mchk", "M77", "doctor", "healthcare-professional", registry.UserAdminRole), tok).must(t, http.StatusOK)
		prac := r.param("practitioner")["valueReference"].(map[string]any)["reference"].(string)
		role := r.param("practitionerRole")["resource"].(map[string]any)
		if role["organization"].(map[string]any)["reference"] != "Organization/"+clinic || role["practitioner"].(map[string]any)["reference"] != prac {
			t.Errorf("the role is not the new professional's at the clinic: %v", role)
		}
		codes := jsonOf(t, role["code"])
		for _, want := range []string{`"medical-practitioner"`, `"158965000"`, `"user-administrator"`, `"healthcare-professional"`} {
			if !strings.Contains(codes, want) {
				t.Errorf("the role's codes lack %s: %s", want, codes)
			}
		}
		if !resource.HasTag(role, resource.RegistryOriginSystem, resource.RegistryOriginRegistry) {
			t.Error("the role is not tagged as the registry's: a token could change it")
		}
		// The new professional is a user administrator too; the operator
		// may add anyone anywhere.
		if ok, err := e.reg.IsUserAdmin(ctx, prac, "Organization/"+clinic); !ok || err != nil {
			t.Errorf("IsUserAdmin(new) = %v %v", ok, err)
		}
		if ok, err := e.reg.IsUserAdmin(ctx, doctor, "Organization/"+clinic); ok || err != nil {
			t.Errorf("IsUserAdmin(doctor) = %v %v", ok, err)
		}
		e.do("POST", "/fhir/Organization/"+other+"/$add-professional", addParams("NG Wai", "nchk", "N9", "nurse"), "").must(t, http.StatusOK)
		if r := e.do("POST", "/fhir/Organization/nowhere/$add-professional", body, ""); r.status != http.StatusNotFound {
			t.Errorf("an unknown provider: %d, want 404", r.status)
		}
	})
}

// jsonOf is v as JSON text.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
