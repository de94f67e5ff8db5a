package registry_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// TestWithdraw withdraws a citizen: the joining Consent gets an inactive
// version (the active one stays in history), the master Patient is tagged,
// Participating turns false for the master and a linked record, the access
// key stops working; only the citizen or the operator may withdraw.
func TestWithdraw(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c := citizen{doc: hkid("A123456(3)"), family: "CHAN", given: "Tai Man", birthDate: "1980-05-17", gender: "male"}
		id, r := e.register(c, nil)
		key := r.param("access-key")["valueString"].(string)
		consentID := refOf(r.param("consent")["valueReference"])[len("Consent/"):]
		local := e.localRecord("MRN-1", c)
		e.do("POST", "/fhir/Patient/"+local+"/$link", emptyParams(), "").must(t, 200)
		for _, p := range []string{id, local} {
			if ok, err := e.reg.Participating(t.Context(), p); !ok || err != nil {
				t.Fatalf("Participating(%s) before withdrawal: %v %v", p, ok, err)
			}
		}

		other := e.issue(tokenFor("Patient/someone-else", "patient/*.cruds"))
		e.do("POST", "/fhir/Patient/"+id+"/$withdraw", emptyParams(), other).must(t, 404) // not even visible
		clinic := e.clinic("user/*.cruds")
		if r := e.do("POST", "/fhir/Patient/"+id+"/$withdraw", emptyParams(), clinic); r.status != 403 && r.status != 404 {
			t.Errorf("a clinic withdrew a citizen: %d %s", r.status, r.raw)
		}

		// A professional launched in the citizen's context, whatever their
		// scopes, does not withdraw them.
		pro := resource.Caller{Writer: "Organization/clinic", Grants: &resource.Grants{Scopes: scope.MustParse("patient/*.cruds"), Patient: id},
			Who: resource.Who{FHIRUser: "Practitioner/dr", Org: "Organization/clinic", Patient: id}}
		if _, err := e.reg.Run(t.Context(), pro, "Patient", registry.OpWithdraw, e.read("Patient", id), nil, emptyParams()); err == nil {
			t.Error("a professional launched in the citizen's context withdrew them")
		}
		if r := e.do("POST", "/fhir/Observation", json.RawMessage(fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"text":"bp"},"subject":{"reference":"Patient/%s"}}`, local)), clinic); r.status != 201 {
			t.Errorf("a deposit before withdrawal: %d %s", r.status, r.raw)
		}
		self := e.issue(tokenFor("Patient/"+id, "patient/*.cruds"))
		out := e.do("POST", "/fhir/Patient/"+id+"/$withdraw", emptyParams(), self).must(t, 200)
		if refOf(out.param("consent")["valueReference"]) != "Consent/"+consentID {
			t.Errorf("withdraw answered %s", out.raw)
		}
		consent := e.read("Consent", consentID)
		if consent["status"] != "inactive" || consent["meta"].(map[string]any)["versionId"] != "2" {
			t.Errorf("consent after withdrawal: %v", consent)
		}
		v1 := e.do("GET", "/fhir/Consent/"+consentID+"/_history/1", nil, "").must(t, 200)
		if v1.body["status"] != "active" {
			t.Errorf("the consent's history lost its active version: %s", v1.raw)
		}
		if p := e.read("Patient", id); !contains(fmt.Sprint(p["meta"]), registry.TagWithdrawn) || p["active"] != true {
			t.Errorf("patient after withdrawal: %v", p)
		}
		for _, p := range []string{id, local} {
			if ok, err := e.reg.Participating(t.Context(), p); ok || err != nil {
				t.Errorf("Participating(%s) after withdrawal: %v %v", p, ok, err)
			}
		}
		if ok, _ := e.reg.VerifyAccessKey(t.Context(), id, key); ok {
			t.Error("the access key still works after withdrawal")
		}
		// Deposits stop: a provider's write into the citizen's record — by
		// the master or by its own linked record — is refused.
		obs := func(patient string) json.RawMessage {
			return json.RawMessage(fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"text":"bp"},"subject":{"reference":"Patient/%s"}}`, patient))
		}
		for _, p := range []string{id, local} {
			if r := e.do("POST", "/fhir/Observation", obs(p), clinic); r.status != 403 || !contains(string(r.raw), "withdrawn") {
				t.Errorf("a deposit for %s after withdrawal: %d %s", p, r.status, r.raw)
			}
		}
		e.do("POST", "/fhir/Observation", obs(id), "").must(t, 201) // the operator still may (corrections)
		e.do("POST", "/fhir/Patient/"+id+"/$withdraw", emptyParams(), "").must(t, 409)
		e.do("POST", "/fhir/Patient/"+local+"/$withdraw", emptyParams(), "").must(t, 422)
		// A withdrawn citizen is not offered to providers by $match.
		m := e.match(c.patient(), false).must(t, 200)
		if len(list(m.body["entry"])) != 0 {
			t.Errorf("$match offers a withdrawn citizen: %s", m.raw)
		}
	})
}

func emptyParams() map[string]any { return map[string]any{"resourceType": "Parameters"} }
