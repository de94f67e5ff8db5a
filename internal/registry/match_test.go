package registry_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/ehealthplus/ehealth/internal/registry"
)

// match posts $match for patient.
func (e *env) match(patient map[string]any, onlyCertain bool, bearer ...string) response {
	e.t.Helper()
	body := map[string]any{"resourceType": "Parameters", "parameter": []any{
		map[string]any{"name": "resource", "resource": patient},
		map[string]any{"name": "onlyCertainMatches", "valueBoolean": onlyCertain},
	}}
	tok := ""
	if len(bearer) > 0 {
		tok = bearer[0]
	}
	return e.do("POST", "/fhir/Patient/$match", body, tok)
}

// hit is one $match entry.
type hit struct {
	id    string
	score float64
	grade string
	keys  []string
}

func hits(t *testing.T, r response) []hit {
	t.Helper()
	if r.body["resourceType"] != "Bundle" || r.body["type"] != "searchset" {
		t.Fatalf("not a searchset: %s", r.raw)
	}
	var out []hit
	for _, e := range list(r.body["entry"]) {
		m := e.(map[string]any)
		res := m["resource"].(map[string]any)
		search := m["search"].(map[string]any)
		var h hit
		h.id = res["id"].(string)
		switch s := search["score"].(type) {
		case json.Number:
			h.score, _ = s.Float64()
		case float64:
			h.score = s
		}
		ext := list(search["extension"])[0].(map[string]any)
		if ext["url"] != registry.MatchGradeExtension || search["mode"] != "match" {
			t.Errorf("entry search: %v", search)
		}
		h.grade, _ = ext["valueCode"].(string)
		for k := range res {
			h.keys = append(h.keys, k)
		}
		slices.Sort(h.keys)
		out = append(out, h)
	}
	return out
}

// TestMatch: an identity document is a certain match; name, birth date
// and sex probable; a family name possible; answers hold only id, name,
// birth date and sex; lookups are POST only and for providers.
func TestMatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		a := citizen{doc: hkid("A123456(3)"), family: "CHAN", given: "Tai Man", chinese: "陳大文", birthDate: "1980-01-01", gender: "male"}
		b := citizen{doc: hkid("E364912(5)"), family: "Chan", given: "Tai-Man", birthDate: "1980-01-01", gender: "male"} // another man, same name
		c := citizen{doc: hkid("AB987654(3)"), family: "CHAN", given: "Siu Ming", birthDate: "1980-01-01", gender: "male"}
		d := citizen{doc: hkid("G123456(A)"), family: "WONG", given: "Tai Man", birthDate: "1980-01-01", gender: "male"}
		ida, _ := e.register(a, nil)
		idb, _ := e.register(b, nil)
		idc, _ := e.register(c, nil)
		e.register(d, nil)

		minimal := []string{"birthDate", "gender", "id", "meta", "name", "resourceType"}
		got := hits(t, e.match(a.patient(), false).must(t, 200))
		if len(got) < 1 || got[0].id != ida || got[0].score != 1 || got[0].grade != registry.GradeCertain || !slices.Equal(got[0].keys, minimal) {
			t.Fatalf("match by document: %+v", got)
		}
		// The document's match is not repeated as a demographic one; the
		// other Chan Tai Man has another HKID and is left out.
		if len(got) != 1 {
			t.Errorf("match by document and demographics: %+v", got)
		}
		certain := hits(t, e.match(a.patient(), true).must(t, 200))
		if len(certain) != 1 || certain[0].id != ida {
			t.Errorf("only certain: %+v", certain)
		}

		noDoc := a
		noDoc.doc, noDoc.chinese = nil, ""
		got = hits(t, e.match(noDoc.patient(), false).must(t, 200))
		ids := []string{}
		for _, h := range got {
			ids = append(ids, h.id)
			if h.id == ida || h.id == idb {
				if h.grade != registry.GradeProbable || h.score != 0.9 {
					t.Errorf("name, birth date and sex: %+v", h)
				}
			}
			if h.id == idc && (h.grade != registry.GradePossible || h.score != 0.5) {
				t.Errorf("family name only: %+v", h)
			}
		}
		if len(got) != 3 || !slices.Contains(ids, ida) || !slices.Contains(ids, idb) || !slices.Contains(ids, idc) {
			t.Errorf("match by demographics: %+v", got)
		}
		if len(hits(t, e.match(noDoc.patient(), true).must(t, 200))) != 0 {
			t.Error("onlyCertainMatches returned a probable match")
		}
		chinese := citizen{chinese: "陳大文", birthDate: "1980-01-01"}
		got = hits(t, e.match(chinese.patient(), false).must(t, 200))
		if len(got) != 1 || got[0].id != ida || got[0].score != 0.85 {
			t.Errorf("match by Chinese name and birth date: %+v", got)
		}
		wrongDOB := a
		wrongDOB.birthDate = "1981-01-01"
		got = hits(t, e.match(wrongDOB.patient(), false).must(t, 200))
		if len(got) != 1 || got[0].id != ida || got[0].grade != registry.GradeProbable {
			t.Errorf("document with another birth date: %+v", got)
		}

		e.match(citizen{family: "CHAN"}.patient(), false).must(t, 400) // not enough to go on
		e.match(citizen{doc: hkid("A123456(4)"), birthDate: "1980-01-01"}.patient(), false).must(t, 422)
		e.do("GET", "/fhir/Patient/$match?identifier=A123456(3)", nil, "").must(t, 405)
		app := e.issue(tokenFor("Patient/p1", "patient/*.rs"))
		e.match(a.patient(), false, app).must(t, 403)
		hits(t, e.match(a.patient(), false, e.clinic("system/Patient.rs")).must(t, 200))
	})
}
