package registry_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/registry"
)

func mergeBody(source, target string) map[string]any {
	return map[string]any{"resourceType": "Parameters", "parameter": []any{
		map[string]any{"name": "source-patient", "valueReference": map[string]any{"reference": "Patient/" + source}},
		map[string]any{"name": "target-patient", "valueReference": map[string]any{"reference": "Patient/" + target}},
	}}
}

// observation deposits an Observation about Patient/patient.
func (e *env) observation(patient string) string {
	e.t.Helper()
	o := map[string]any{
		"resourceType": "Observation", "status": "final",
		"code":          map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "8867-4"}}},
		"subject":       map[string]any{"reference": "Patient/" + patient},
		"valueQuantity": map[string]any{"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
	}
	return e.do("POST", "/fhir/Observation", o, "").must(e.t, 201).body["id"].(string)
}

// searchIDs runs a search as the operator and returns the ids found.
func (e *env) searchIDs(typ string, q url.Values) []string {
	e.t.Helper()
	r := e.do("GET", "/fhir/"+typ+"?"+q.Encode(), nil, "").must(e.t, 200)
	var ids []string
	for _, en := range list(r.body["entry"]) {
		ids = append(ids, en.(map[string]any)["resource"].(map[string]any)["id"].(string))
	}
	return ids
}

// TestMergeUnmerge: a citizen registered twice (passport, then HKID) is
// merged by the operator: records, consents and provider links move to
// the target in one step, the source is replaced-by the target; the
// unmerge restores all of it. Nobody but the operator may do either.
func TestMergeUnmerge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		passport := map[string]any{"system": identity.SystemPassportPrefix + "GBR", "value": "123456789"}
		first := citizen{doc: passport, family: "CHAN", given: "Tai Man", birthDate: "1980-05-17", gender: "male"}
		second := first
		second.doc = hkid("A123456(3)")
		source, r1 := e.register(first, nil)
		target, _ := e.register(second, nil)
		sourceConsent := refOf(r1.param("consent")["valueReference"])
		obs := e.observation(source)
		local := e.localRecord("HOSP-1", first)
		e.do("POST", "/fhir/Patient/"+local+"/$link", emptyParams(), "").must(t, 200)

		clinic := e.clinic("system/*.cruds")
		e.do("POST", "/fhir/Patient/$merge", mergeBody(source, target), clinic).must(t, 403)
		e.do("POST", "/fhir/Patient/$unmerge", mergeBody(source, target), clinic).must(t, 403)

		preview := mergeBody(source, target)
		preview["parameter"] = append(list(preview["parameter"]), map[string]any{"name": "preview", "valueBoolean": true})
		e.do("POST", "/fhir/Patient/$merge", preview, "").must(t, 200)
		if o := e.read("Observation", obs); refOf(o["subject"]) != "Patient/"+source {
			t.Fatal("a preview wrote")
		}

		r := e.do("POST", "/fhir/Patient/$merge", mergeBody(source, target), "").must(t, 200)
		result := r.param("result")["resource"].(map[string]any)
		if result["id"] != target || linkType(result, source) != "replaces" || linkType(result, local) != "seealso" {
			t.Errorf("result: %v", result)
		}
		if o := e.read("Observation", obs); refOf(o["subject"]) != "Patient/"+target {
			t.Errorf("the observation was not moved: %v", o["subject"])
		}
		if got := e.searchIDs("Observation", url.Values{"patient": {target}}); len(got) != 1 || got[0] != obs {
			t.Errorf("the target's compartment holds %v", got)
		}
		if c := e.read("Consent", sourceConsent[len("Consent/"):]); refOf(c["patient"]) != "Patient/"+target || refOf(list(c["performer"])[0]) != "Patient/"+target {
			t.Errorf("the consent was not moved: %v", c)
		}
		if l := e.read("Patient", local); linkType(l, target) != "refer" || linkType(l, source) != "" {
			t.Errorf("the provider's record links %v", l["link"])
		}
		src := e.read("Patient", source)
		if src["active"] != false || linkType(src, target) != "replaced-by" {
			t.Errorf("source after merge: %v", src)
		}
		tgt := e.read("Patient", target)
		if ids := fmt.Sprint(tgt["identifier"]); !contains(ids, "123456789") || !contains(ids, "old") {
			t.Errorf("the target lacks the source's old identifier: %v", ids)
		}
		prov := refOf(r.param("provenance")["valueReference"])
		if p := e.read("Provenance", prov[len("Provenance/"):]); len(list(p["target"])) != 5 || len(list(p["entity"])) != 5 {
			t.Errorf("merge provenance: %v", p)
		}
		// The passport, now an old identifier, no longer finds anyone for
		// certain; the HKID finds the target.
		if got := hits(t, e.match(first.patient(), true).must(t, 200)); len(got) != 0 {
			t.Errorf("the old passport still matches: %+v", got)
		}
		if got := hits(t, e.match(second.patient(), true).must(t, 200)); len(got) != 1 || got[0].id != target {
			t.Errorf("the HKID matches %+v", got)
		}
		e.do("POST", "/fhir/Patient/$merge", mergeBody(source, target), "").must(t, 422)
		// The merged record's key is one of the target's: its audit
		// entries stay filed under it, and the citizen's history reads them.
		if keys, err := e.reg.Compartments(t.Context(), target); err != nil || !sameSet(keys, []string{target, local, source}) {
			t.Errorf("Compartments(target) after merge = %v %v", keys, err)
		}

		r = e.do("POST", "/fhir/Patient/$unmerge", mergeBody(source, target), "").must(t, 200)
		if o := e.read("Observation", obs); refOf(o["subject"]) != "Patient/"+source || o["meta"].(map[string]any)["versionId"] != "3" {
			t.Errorf("the observation was not moved back: %v", o)
		}
		if c := e.read("Consent", sourceConsent[len("Consent/"):]); refOf(c["patient"]) != "Patient/"+source {
			t.Errorf("the consent was not moved back: %v", c["patient"])
		}
		if l := e.read("Patient", local); linkType(l, source) != "refer" || linkType(l, target) != "" {
			t.Errorf("the provider's record links %v after unmerge", l["link"])
		}
		if s := e.read("Patient", source); s["active"] != true || linkType(s, target) != "" || linkType(s, local) != "seealso" {
			t.Errorf("source after unmerge: %v", s)
		}
		if tg := e.read("Patient", target); len(list(tg["link"])) != 0 || len(list(tg["identifier"])) != 1 {
			t.Errorf("target after unmerge: %v", tg)
		}
		if got := hits(t, e.match(first.patient(), true).must(t, 200)); len(got) != 1 || got[0].id != source {
			t.Errorf("the passport matches %+v after unmerge", got)
		}
		if got := e.searchIDs("Provenance", url.Values{"_tag": {registry.MPISystem + "|" + registry.TagUnmerge}}); len(got) != 1 {
			t.Errorf("unmerge provenance: %v", got)
		}
		e.do("POST", "/fhir/Patient/$unmerge", mergeBody(source, target), "").must(t, 422)
		if keys, err := e.reg.Compartments(t.Context(), target); err != nil || !sameSet(keys, []string{target}) {
			t.Errorf("Compartments(target) after unmerge = %v %v", keys, err)
		}

		// Merged again, and the target corrected after the merge: the
		// unmerge keeps the correction and takes out only the merge's edits.
		e.do("POST", "/fhir/Patient/$merge", mergeBody(source, target), "").must(t, 200)
		tgt = e.read("Patient", target)
		tgt["telecom"] = []any{map[string]any{"system": "email", "value": "chan@example.hk"}}
		e.do("PUT", "/fhir/Patient/"+target, tgt, "").must(t, 200)
		r = e.do("POST", "/fhir/Patient/$unmerge", mergeBody(source, target), "").must(t, 200)
		if oo := fmt.Sprint(r.param("outcome")); !contains(oo, "Patient/"+target+" changed after the merge") {
			t.Errorf("no warning about the changed target: %s", oo)
		}
		tg := e.read("Patient", target)
		if len(list(tg["link"])) != 0 || len(list(tg["identifier"])) != 1 || !contains(fmt.Sprint(tg["telecom"]), "chan@example.hk") {
			t.Errorf("changed target after unmerge: %v", tg)
		}
		if s := e.read("Patient", source); s["active"] != true || linkType(s, local) != "seealso" {
			t.Errorf("source after the second unmerge: %v", s)
		}
		if o := e.read("Observation", obs); refOf(o["subject"]) != "Patient/"+source {
			t.Errorf("observation after the second unmerge: %v", o["subject"])
		}
	})
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
