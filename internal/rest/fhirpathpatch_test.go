package rest_test

import (
	"fmt"
	"strings"
	"testing"
)

// op builds one FHIRPath Patch operation parameter.
func op(typ, path string, parts ...string) string {
	all := []string{fmt.Sprintf(`{"name":"type","valueCode":%q}`, typ), fmt.Sprintf(`{"name":"path","valueString":%q}`, path)}
	all = append(all, parts...)
	return `{"name":"operation","part":[` + strings.Join(all, ",") + `]}`
}

func params(ops ...string) string {
	return `{"resourceType":"Parameters","parameter":[` + strings.Join(ops, ",") + `]}`
}

func TestFHIRPathPatch(t *testing.T) {
	base := `{"resourceType":"Patient","id":"fp","active":true,"gender":"male","birthDate":"1980-01-01",
 "identifier":[{"system":"urn:a","value":"1"},{"system":"urn:b","value":"2"}],
 "name":[{"family":"Chan","given":["Tai","Man"]}]}`
	cases := []struct {
		name   string
		patch  string
		status int
		check  func(res map[string]any) string // "" when right
	}{
		{"replace primitive", params(op("replace", "Patient.gender", `{"name":"value","valueCode":"female"}`)), 200,
			func(r map[string]any) string { return want(r["gender"], "female") }},
		{"delete primitive", params(op("delete", "Patient.active")), 200,
			func(r map[string]any) string { return absent(r, "active") }},
		{"delete with where", params(op("delete", "Patient.identifier.where(system='urn:a')")), 200,
			func(r map[string]any) string { return want(len(r["identifier"].([]any)), 1) }},
		{"delete nothing is fine", params(op("delete", "Patient.identifier.where(system='urn:none')")), 200,
			func(r map[string]any) string { return want(len(r["identifier"].([]any)), 2) }},
		{"add to a list", params(op("add", "Patient", `{"name":"name","valueString":"telecom"}`, `{"name":"value","valueContactPoint":{"system":"phone","value":"2345 6789"}}`)), 200,
			func(r map[string]any) string { return want(len(r["telecom"].([]any)), 1) }},
		{"add a single element", params(op("add", "Patient", `{"name":"name","valueString":"deceased"}`, `{"name":"value","valueBoolean":false}`)), 200,
			func(r map[string]any) string { return want(r["deceasedBoolean"], false) }},
		{"add anonymous complex", params(op("add", "Patient", `{"name":"name","valueString":"contact"}`, `{"name":"value","part":[{"name":"gender","valueCode":"female"},{"name":"name","valueHumanName":{"family":"Wong"}}]}`)), 200,
			func(r map[string]any) string { return want(len(r["contact"].([]any)), 1) }},
		{"insert", params(op("insert", "Patient.name[0].given", `{"name":"value","valueString":"Siu"}`, `{"name":"index","valueInteger":1}`)), 200,
			func(r map[string]any) string { return want(given(r), "Tai Siu Man") }},
		{"move", params(op("move", "Patient.name[0].given", `{"name":"source","valueInteger":0}`, `{"name":"destination","valueInteger":1}`)), 200,
			func(r map[string]any) string { return want(given(r), "Man Tai") }},
		{"replace list item", params(op("replace", "Patient.name[0].given[1]", `{"name":"value","valueString":"Wai"}`)), 200,
			func(r map[string]any) string { return want(given(r), "Tai Wai") }},
		{"two operations in order", params(op("delete", "Patient.birthDate"), op("add", "Patient", `{"name":"name","valueString":"birthDate"}`, `{"name":"value","valueDate":"1990-02-03"}`)), 200,
			func(r map[string]any) string { return want(r["birthDate"], "1990-02-03") }},
		{"result must be valid", params(op("replace", "Patient.gender", `{"name":"value","valueCode":"woman"}`)), 422, nil},
		{"unknown element", params(op("add", "Patient", `{"name":"name","valueString":"nickname"}`, `{"name":"value","valueString":"x"}`)), 422, nil},
		{"add existing single", params(op("add", "Patient", `{"name":"name","valueString":"gender"}`, `{"name":"value","valueCode":"male"}`)), 422, nil},
		{"many matches", params(op("replace", "Patient.identifier", `{"name":"value","valueIdentifier":{"value":"x"}}`)), 422, nil},
		{"bad path", params(op("delete", "Patient.(")), 400, nil},
		{"missing value", params(op("replace", "Patient.gender")), 400, nil},
		{"unknown type", params(op("frobnicate", "Patient.gender")), 400, nil},
		{"not Parameters", `{"resourceType":"Patient"}`, 400, nil},
		{"change the id", params(op("replace", "Patient.id", `{"name":"value","valueId":"other"}`)), 400, nil},
	}
	forEachBackend(t, func(t *testing.T, s *server) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if put := s.do("PUT", "/fhir/Patient/fp", base); put.status >= 300 {
					t.Fatalf("reset: %d %s", put.status, put.raw)
				}
				r := s.do("PATCH", "/fhir/Patient/fp", c.patch)
				if r.status != c.status {
					t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
				}
				if c.check != nil {
					if msg := c.check(r.body); msg != "" {
						t.Errorf("%s: %s", msg, r.raw)
					}
				}
			})
		}
	})
}

func want(got, want any) string {
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	return ""
}

func absent(r map[string]any, key string) string {
	if _, ok := r[key]; ok {
		return key + " is still there"
	}
	return ""
}

func given(r map[string]any) string {
	var out []string
	for _, g := range r["name"].([]any)[0].(map[string]any)["given"].([]any) {
		out = append(out, g.(string))
	}
	return strings.Join(out, " ")
}

func TestPatchEntriesInTransaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		s.do("PUT", "/fhir/Patient/tp", `{"resourceType":"Patient","id":"tp","gender":"male"}`)
		fp := params(op("replace", "Patient.gender", `{"name":"value","valueCode":"female"}`))
		jp := `W3sib3AiOiJhZGQiLCJwYXRoIjoiL2FjdGl2ZSIsInZhbHVlIjp0cnVlfV0=` // [{"op":"add","path":"/active","value":true}]
		tx := `{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":` + fp + `,"request":{"method":"PATCH","url":"Patient/tp"}}]}`
		s.do("POST", "/fhir", tx).must(t, 200)
		tx = `{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` + jp + `"},"request":{"method":"PATCH","url":"Patient/tp"}}]}`
		s.do("POST", "/fhir", tx).must(t, 200)
		r := s.do("GET", "/fhir/Patient/tp", nil).must(t, 200)
		if r.body["gender"] != "female" || r.body["active"] != true || r.header.Get("ETag") != `W/"3"` {
			t.Errorf("after two patch entries: %s %s", r.raw, r.header.Get("ETag"))
		}
	})
}
