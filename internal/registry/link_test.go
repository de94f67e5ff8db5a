package registry_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// localRecord creates a provider's own Patient for c, written by the
// clinic's system (so it is the clinic's own deposit), with the local
// record number mrn (its system names the provider) and c's document.
func (e *env) localRecord(mrn string, c citizen) string {
	e.t.Helper()
	p := c.patient()
	provider, _, _ := strings.Cut(mrn, "-")
	p["identifier"] = append([]any{map[string]any{
		"use": "usual", "system": "https://" + strings.ToLower(provider) + ".example.hk/mrn", "value": mrn,
		"type": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}}},
	}}, list(p["identifier"])...)
	r := e.do("POST", "/fhir/Patient", p, e.clinic("user/*.cruds")).must(e.t, 201)
	return r.body["id"].(string)
}

// linkType is the type of p's link to Patient/id.
func linkType(p map[string]any, id string) string {
	for _, l := range list(p["link"]) {
		m := l.(map[string]any)
		if refOf(m["other"]) == "Patient/"+id {
			return m["type"].(string)
		}
	}
	return ""
}

// TestLink links two providers' records of one citizen to the master:
// "refer" from each, "seealso" back; a record whose birth date or name
// disagree is refused without showing the master's.
func TestLink(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c := citizen{doc: hkid("A123456(3)"), family: "CHAN", given: "Tai Man", chinese: "陳大文", birthDate: "1980-05-17", gender: "male"}
		master, _ := e.register(c, nil)
		hospital := e.localRecord("HOSP-0001", c)
		atClinic := c
		atClinic.family, atClinic.given, atClinic.chinese = "Chan", "Tai-man", "" // written their way
		clinic := e.localRecord("CLINIC-77", atClinic)

		tok := e.clinic("user/Patient.cruds")
		for _, local := range []string{hospital, clinic} {
			r := e.do("POST", "/fhir/Patient/"+local+"/$link", emptyParams(), tok).must(t, 200)
			if refOf(r.param("master")["valueReference"]) != "Patient/"+master {
				t.Errorf("link %s: %s", local, r.raw)
			}
			if got := linkType(e.read("Patient", local), master); got != "refer" {
				t.Errorf("local %s links to the master as %q", local, got)
			}
		}
		m := e.read("Patient", master)
		if linkType(m, hospital) != "seealso" || linkType(m, clinic) != "seealso" || len(list(m["link"])) != 2 {
			t.Errorf("master links: %v", m["link"])
		}
		// Again: nothing changes.
		e.do("POST", "/fhir/Patient/"+hospital+"/$link", emptyParams(), tok).must(t, 200)
		if v := e.read("Patient", master)["meta"].(map[string]any)["versionId"]; v != "3" {
			t.Errorf("relinking wrote the master again: version %v", v)
		}
		keys, err := e.reg.Compartments(t.Context(), master)
		slices.Sort(keys)
		want := []string{master, hospital, clinic}
		slices.Sort(want)
		if err != nil || !slices.Equal(keys, want) {
			t.Errorf("Compartments = %v %v, want %v", keys, err, want)
		}
		// The provider's records are searchable by the master's links.
		q := url.Values{"link": {"Patient/" + master}}
		s := e.do("GET", "/fhir/Patient?"+q.Encode(), nil, "").must(t, 200)
		if n := len(list(s.body["entry"])); n != 2 {
			t.Errorf("Patient?link=master finds %d", n)
		}

		wrong := c
		wrong.birthDate = "1980-05-18"
		bad := e.localRecord("HOSP-0002", wrong)
		r := e.do("POST", "/fhir/Patient/"+bad+"/$link", emptyParams(), tok).must(t, 422)
		if contains(r.raw, "1980-05-17") || contains(r.raw, master) {
			t.Errorf("the refusal shows the master's data: %s", r.raw)
		}
		stranger := e.localRecord("HOSP-0003", citizen{doc: hkid("E364912(5)"), family: "LEE", given: "Ka Yan", birthDate: "1990-01-01", gender: "female"})
		e.do("POST", "/fhir/Patient/"+stranger+"/$link", emptyParams(), tok).must(t, 422)
		e.do("POST", "/fhir/Patient/"+master+"/$link", emptyParams(), tok).must(t, 422)
		e.do("POST", "/fhir/Patient/"+hospital+"/$link", emptyParams(), e.clinic("user/Patient.rs")).must(t, 403)
	})
}
