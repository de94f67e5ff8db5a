package fhir

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseKeepsNumberText(t *testing.T) {
	res, err := Parse([]byte(`{"resourceType":"Observation","valueQuantity":{"value":1.50},"x":[-0.0,1e3,12345678901234567890]}`))
	if err != nil {
		t.Fatal(err)
	}
	q := res["valueQuantity"].(map[string]any)
	if got := q["value"]; got != json.Number("1.50") {
		t.Errorf("value = %#v, want json.Number(1.50)", got)
	}
	x := res["x"].([]any)
	for i, want := range []json.Number{"-0.0", "1e3", "12345678901234567890"} {
		if x[i] != want {
			t.Errorf("x[%d] = %#v, want %v", i, x[i], want)
		}
	}
}

func TestParseStrings(t *testing.T) {
	res, err := Parse([]byte(`{"a":"\u00e9\n\"\\\/\ud83d\ude00","b":"é","c":"\ud800x"}`))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"a": "é\n\"\\/😀", "b": "é", "c": "\uFFFDx"} {
		if res[k] != want {
			t.Errorf("%s = %q, want %q", k, res[k], want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, in string
		offset   int
		path     string
	}{
		{"empty", ``, 0, ""},
		{"array top", `[1]`, 0, ""},
		{"string top", `"x"`, 0, ""},
		{"trailing", `{} {}`, 3, ""},
		{"trailing garbage", `{}x`, 2, ""},
		{"duplicate key", `{"a":1,"a":2}`, 7, "a"},
		{"nested duplicate", `{"name":[{"family":"x","given":[],"family":"y"}]}`, 34, "name[0].family"},
		{"unterminated", `{"a":"x`, 7, "a"},
		{"bad literal", `{"a":tru}`, 5, "a"},
		{"bad number", `{"a":01}`, 6, ""},
		{"number dot", `{"a":1.}`, 7, "a"},
		{"plus number", `{"a":+1}`, 5, "a"},
		{"missing colon", `{"a" 1}`, 5, ""},
		{"missing comma", `{"a":1 "b":2}`, 7, ""},
		{"trailing comma", `{"a":[1,]}`, 8, "a[1]"},
		{"control char", "{\"a\":\"x\ty\"}", 7, "a"},
		{"bad escape", `{"a":"\x"}`, 6, "a"},
		{"invalid utf8", "{\"a\":\"\xff\"}", 6, "a"},
		{"single quotes", `{'a':1}`, 1, ""},
		{"deep", strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300), 1280, strings.TrimSuffix(strings.Repeat("a.", 256), ".")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if pe.Offset != tt.offset || pe.Path != tt.path {
				t.Errorf("offset %d path %q, want %d %q (%v)", pe.Offset, pe.Path, tt.offset, tt.path, err)
			}
		})
	}
}

func TestMarshal(t *testing.T) {
	res, err := Parse([]byte(`{"gender":"female","zeta":1,"birthDate":"1970","resourceType":"Patient","active":true,"id":"p",
		"text":{"div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">a &amp; b</div>","status":"generated"},
		"name":[{"given":["A\u0001\"\\"],"family":"D"}],"multipleBirthInteger":1.50}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">a &amp; b</div>"},` +
		`"active":true,"name":[{"family":"D","given":["A\u0001\"\\"]}],"gender":"female","birthDate":"1970","multipleBirthInteger":1.50,"zeta":1}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	ind, err := MarshalIndent(map[string]any{"resourceType": "Basic", "code": map[string]any{"text": "<b>"}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"resourceType\": \"Basic\",\n  \"code\": {\n    \"text\": \"<b>\"\n  }\n}"; string(ind) != want {
		t.Errorf("indent got %s", ind)
	}
}

func TestMarshalGoValues(t *testing.T) {
	got, err := Marshal(map[string]any{"resourceType": "Basic", "a": 1, "b": 2.5, "c": []string{"x<"}, "d": int64(-3), "e": nil})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"resourceType":"Basic","a":1,"b":2.5,"c":["x<"],"d":-3,"e":null}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := Marshal(map[string]any{"x": json.Number("1.")}); err == nil {
		t.Error("invalid json.Number accepted")
	}
}

func TestResourceTypes(t *testing.T) {
	types := ResourceTypes()
	if len(types) != 146 {
		t.Fatalf("len = %d, want 146", len(types))
	}
	for i := 1; i < len(types); i++ {
		if types[i-1] >= types[i] {
			t.Fatalf("not sorted at %d: %s, %s", i, types[i-1], types[i])
		}
	}
	for name, want := range map[string]bool{"Patient": true, "Observation": true, "Resource": false, "DomainResource": false, "HumanName": false, "patient": false, "": false} {
		if got := IsResourceType(name); got != want {
			t.Errorf("IsResourceType(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLookupElement(t *testing.T) {
	tests := []struct {
		path, elem, typ string
		min, max        int
	}{
		{"Patient.name.family", "HumanName.family", "string", 0, 1},
		{"Patient.contact.name", "Patient.contact.name", "HumanName", 0, 1},
		{"Observation.valueQuantity", "Observation.value[x]", "Quantity", 0, 1},
		{"Observation.value", "Observation.value[x]", "Quantity", 0, 1},
		{"Observation.component.valueQuantity.value", "Quantity.value", "decimal", 0, 1},
		{"Questionnaire.item.item.linkId", "Questionnaire.item.linkId", "string", 1, 1},
		{"Questionnaire.item.item", "Questionnaire.item.item", "BackboneElement", 0, -1},
		{"Patient.id", "Patient.id", "id", 0, 1},
		{"Patient.name.id", "HumanName.id", "string", 0, 1},
	}
	for _, tt := range tests {
		e, typ, ok := LookupElement(tt.path)
		if !ok || e.Path != tt.elem || typ != tt.typ || e.Min != tt.min || e.Max != tt.max {
			t.Errorf("LookupElement(%s) = %+v %q %v", tt.path, e, typ, ok)
		}
	}
	if _, _, ok := LookupElement("Patient.nope"); ok {
		t.Error("found Patient.nope")
	}
	e, _, _ := LookupElement("Patient.gender")
	if !e.Summary || e.Binding.Strength != "required" || e.Binding.ValueSet != "http://hl7.org/fhir/ValueSet/administrative-gender" {
		t.Errorf("Patient.gender = %+v", e)
	}
	if e, _, _ := LookupElement("Patient.active"); !e.Modifier {
		t.Errorf("Patient.active not a modifier")
	}
}

// TestPrimitiveMatchersFollowRegex checks the hand-written matchers against
// the spec's regexes on a corpus of tricky values.
func TestPrimitiveMatchersFollowRegex(t *testing.T) {
	corpus := []string{"", " ", "a", "a b", "a  b", " a", "a ", "a\tb", "a\nb", "A-1.b", strings.Repeat("x", 64),
		strings.Repeat("x", 65), "a_b", "é", "2020", "2020-01-01", "1", "-1", "0", "01", "1.5", "1e5", "-0", "+1",
		"http://x", "urn:oid:1.2", "a\fb"}
	for _, p := range primitiveTable {
		pc := newPrimitiveCheck(p)
		if pc.match == nil || p.Name == "string" || p.Name == "markdown" {
			continue // regex-only, or deliberately stricter (control characters)
		}
		for _, s := range corpus {
			if got, want := pc.valid(s), pc.regex(s); got != want {
				t.Errorf("%s(%q) = %v, regex says %v", p.Name, s, got, want)
			}
		}
	}
}
