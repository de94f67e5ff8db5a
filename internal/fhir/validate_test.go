package fhir

import (
	"fmt"
	"strings"
	"testing"
)

const validPatient = `{"resourceType":"Patient","id":"p1",
 "meta":{"versionId":"1","lastUpdated":"2024-01-02T03:04:05.123Z","profile":["http://example.org/p"]},
 "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Jane <b>Doe</b></p></div>"},
 "extension":[{"url":"http://example.org/ext","valueString":"x"}],
 "modifierExtension":[{"url":"http://example.org/mod","extension":[{"url":"a","valueBoolean":true}]}],
 "identifier":[{"system":"urn:oid:1.2.3","value":"123"}],
 "active":true,
 "name":[{"use":"official","family":"Doe","given":["Jane",null,"Ann"],"_given":[null,{"extension":[{"url":"http://example.org/e","valueCode":"x"}]},null]}],
 "telecom":[{"system":"phone","value":"+1 555","rank":1}],
 "gender":"female","birthDate":"1970-02-28","_birthDate":{"extension":[{"url":"http://example.org/time","valueDateTime":"1970-02-28T10:00:00+01:00"}]},
 "deceasedBoolean":false,
 "photo":[{"contentType":"image/png","data":"iVBORw0KGgo=","size":12}],
 "multipleBirthInteger":2,
 "contained":[{"resourceType":"Organization","id":"org","name":"Clinic"}],
 "managingOrganization":{"reference":"#org"},
 "generalPractitioner":[{"reference":"Practitioner/pr1/_history/2"},{"reference":"https://example.org/fhir/Practitioner/x"},{"reference":"urn:uuid:0f3c7ae6-3ad5-4e4f-9d3d-bb39d4b0e2a1"}],
 "link":[{"other":{"reference":"Patient/p2"},"type":"seealso"}]}`

// mutate returns the JSON of validPatient with the top-level keys replaced
// (or removed, for a nil value) by the JSON fragments given.
func mutate(t *testing.T, base string, changes map[string]string) map[string]any {
	t.Helper()
	res, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	for k, frag := range changes {
		if frag == "" {
			delete(res, k)
			continue
		}
		v, err := Parse([]byte(`{"v":` + frag + `}`))
		if err != nil {
			t.Fatalf("fragment %s: %v", k, err)
		}
		res[k] = v["v"]
	}
	return res
}

func TestValidateAcceptsValidPatient(t *testing.T) {
	res := mutate(t, validPatient, nil)
	if issues := Validate(res, ValidateOptions{}); len(issues) != 0 {
		t.Fatalf("unexpected issues: %v", issues)
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name    string
		base    string            // "" means validPatient
		changes map[string]string // top-level key -> JSON ("" deletes)
		path    string
		code    string
	}{
		{"unknown type", `{"resourceType":"Foo"}`, nil, "Resource", "structure"},
		{"abstract type", `{"resourceType":"DomainResource"}`, nil, "Resource", "structure"},
		{"missing resourceType", `{"id":"x"}`, nil, "Resource", "structure"},
		{"unknown element", "", map[string]string{"foo": `1`}, "Patient.foo", "structure"},
		{"min cardinality", `{"resourceType":"Observation","code":{"text":"x"}}`, nil, "Observation.status", "required"},
		{"array for max 1", "", map[string]string{"birthDate": `["2000"]`}, "Patient.birthDate", "structure"},
		{"object for max *", "", map[string]string{"name": `{"family":"x"}`}, "Patient.name", "structure"},
		{"string for complex", "", map[string]string{"name": `["x"]`}, "Patient.name[0]", "structure"},
		{"two choice types", "", map[string]string{"deceasedDateTime": `"2020"`}, "Patient.deceased", "structure"},
		{"unknown choice type", "", map[string]string{"deceasedFoo": `"x"`}, "Patient.deceasedFoo", "structure"},
		{"number for date", "", map[string]string{"birthDate": `2000`}, "Patient.birthDate", "structure"},
		{"string for boolean", "", map[string]string{"active": `"true"`}, "Patient.active", "structure"},
		{"string for integer", "", map[string]string{"multipleBirthInteger": `"2"`}, "Patient.multipleBirthInteger", "structure"},
		{"date month", "", map[string]string{"birthDate": `"2000-13-01"`}, "Patient.birthDate", "value"},
		{"date day", "", map[string]string{"birthDate": `"2001-02-29"`}, "Patient.birthDate", "value"},
		{"dateTime without zone", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2020-01-01T10:00:00"}`, nil, "Observation.effectiveDateTime", "value"},
		{"instant without time", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"issued":"2020-01-01"}`, nil, "Observation.issued", "value"},
		{"time", `{"resourceType":"Location","hoursOfOperation":[{"openingTime":"25:00:00"}]}`, nil, "Location.hoursOfOperation[0].openingTime", "value"},
		{"decimal as string", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"1.0"}}`, nil, "Observation.valueQuantity.value", "structure"},
		{"decimal in component", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"component":[{"code":{"text":"a"}},{"code":{"text":"b"},"valueQuantity":{"value":true}}]}`, nil, "Observation.component[1].valueQuantity.value", "structure"},
		{"integer range", "", map[string]string{"multipleBirthInteger": `2147483648`}, "Patient.multipleBirthInteger", "value"},
		{"integer fraction", "", map[string]string{"multipleBirthInteger": `1.5`}, "Patient.multipleBirthInteger", "value"},
		{"positiveInt zero", "", map[string]string{"telecom": `[{"value":"1","rank":0}]`}, "Patient.telecom[0].rank", "value"},
		{"unsignedInt negative", "", map[string]string{"photo": `[{"size":-1}]`}, "Patient.photo[0].size", "value"},
		{"uri with space", "", map[string]string{"implicitRules": `"a b"`}, "Patient.implicitRules", "value"},
		{"url with space", "", map[string]string{"photo": `[{"url":"http://a b"}]`}, "Patient.photo[0].url", "value"},
		{"canonical with space", "", map[string]string{"meta": `{"profile":["http://x y"]}`}, "Patient.meta.profile[0]", "value"},
		{"code with leading space", "", map[string]string{"gender": `" male"`}, "Patient.gender", "value"},
		{"oid", "", map[string]string{"extension": `[{"url":"http://e","valueOid":"1.2.3"}]`}, "Patient.extension[0].valueOid", "value"},
		{"uuid", "", map[string]string{"extension": `[{"url":"http://e","valueUuid":"urn:uuid:XYZ"}]`}, "Patient.extension[0].valueUuid", "value"},
		{"base64Binary", "", map[string]string{"photo": `[{"data":"***"}]`}, "Patient.photo[0].data", "value"},
		{"markdown empty", "", map[string]string{"extension": `[{"url":"http://e","valueMarkdown":""}]`}, "Patient.extension[0].valueMarkdown", "structure"},
		{"string control char", "", map[string]string{"name": `[{"family":"a\u0001b"}]`}, "Patient.name[0].family", "value"},
		{"id format", "", map[string]string{"id": `"a_b"`}, "Patient.id", "value"},
		{"id too long", "", map[string]string{"id": `"` + strings.Repeat("a", 65) + `"`}, "Patient.id", "value"},
		{"empty string", "", map[string]string{"name": `[{"family":""}]`}, "Patient.name[0].family", "structure"},
		{"primitive extension not object", "", map[string]string{"_birthDate": `"x"`}, "Patient.birthDate", "structure"},
		{"primitive extension unknown key", "", map[string]string{"_birthDate": `{"foo":1}`}, "Patient.birthDate.foo", "structure"},
		{"primitive extension only id", "", map[string]string{"_birthDate": `{"id":"a"}`}, "Patient.birthDate", "invariant"},
		{"null in primitive array", "", map[string]string{"name": `[{"given":[null]}]`}, "Patient.name[0].given[0]", "structure"},
		{"primitive arrays misaligned", "", map[string]string{"name": `[{"given":["a"],"_given":[null,{"id":"x","extension":[{"url":"u","valueString":"s"}]}]}]`}, "Patient.name[0].given", "structure"},
		{"null in complex array", "", map[string]string{"name": `[null]`}, "Patient.name[0]", "structure"},
		{"empty array", "", map[string]string{"name": `[]`}, "Patient.name", "structure"},
		{"empty object", "", map[string]string{"maritalStatus": `{}`}, "Patient.maritalStatus", "structure"},
		{"null value", "", map[string]string{"active": `null`}, "Patient.active", "structure"},
		{"ele-1 only id", "", map[string]string{"maritalStatus": `{"id":"x"}`}, "Patient.maritalStatus", "invariant"},
		{"reference unknown type", "", map[string]string{"managingOrganization": `{"reference":"Foo/1"}`}, "Patient.managingOrganization.reference", "value"},
		{"reference bad id", "", map[string]string{"managingOrganization": `{"reference":"Organization/a b"}`}, "Patient.managingOrganization.reference", "value"},
		{"reference bad uuid", "", map[string]string{"managingOrganization": `{"reference":"urn:uuid:1234"}`}, "Patient.managingOrganization.reference", "value"},
		{"local reference missing", "", map[string]string{"generalPractitioner": `[{"reference":"#nope"}]`}, "Patient.generalPractitioner[0].reference", "invariant"},
		{"contained nested", "", map[string]string{"contained": `[{"resourceType":"Organization","id":"org","contained":[{"resourceType":"Basic","id":"b","code":{"text":"x"}}]}]`}, "Patient.contained[0].contained", "invariant"},
		{"contained versionId", "", map[string]string{"contained": `[{"resourceType":"Organization","id":"org","meta":{"versionId":"1"}}]`}, "Patient.contained[0].meta.versionId", "invariant"},
		{"contained security", "", map[string]string{"contained": `[{"resourceType":"Organization","id":"org","meta":{"security":[{"code":"R"}]}}]`}, "Patient.contained[0].meta.security", "invariant"},
		{"contained unreferenced", "", map[string]string{"managingOrganization": ""}, "Patient.contained[0]", "invariant"},
		{"contained without id", "", map[string]string{"contained": `[{"resourceType":"Organization","name":"x"}]`}, "Patient.contained[0]", "invariant"},
		{"contained element", "", map[string]string{"contained": `[{"resourceType":"Organization","id":"org","name":""}]`}, "Patient.contained[0].name", "structure"},
		{"bundle entry", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","birthDate":"x"}}]}`, nil, "Bundle.entry[0].resource.birthDate", "value"},
		{"narrative not xml", "", map[string]string{"text": `{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</div>"}`}, "Patient.text.div", "invariant"},
		{"narrative namespace", "", map[string]string{"text": `{"status":"generated","div":"<div><p>x</p></div>"}`}, "Patient.text.div", "invariant"},
		{"narrative script", "", map[string]string{"text": `{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x<script>alert(1)</script></div>"}`}, "Patient.text.div", "invariant"},
		{"narrative iframe", "", map[string]string{"text": `{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x<iframe src=\"http://e\"/></div>"}`}, "Patient.text.div", "invariant"},
		{"narrative event attribute", "", map[string]string{"text": `{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">x</p></div>"}`}, "Patient.text.div", "invariant"},
		{"narrative javascript url", "", map[string]string{"text": `{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\" JavaScript:x()\">x</a></div>"}`}, "Patient.text.div", "invariant"},
		{"narrative empty", "", map[string]string{"text": `{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"> <p> </p> </div>"}`}, "Patient.text.div", "invariant"},
		{"narrative not a div", "", map[string]string{"text": `{"status":"generated","div":"<p xmlns=\"http://www.w3.org/1999/xhtml\">x</p>"}`}, "Patient.text.div", "invariant"},
		{"narrative status missing", "", map[string]string{"text": `{"div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}`}, "Patient.text.status", "required"},
		{"extension without url", "", map[string]string{"extension": `[{"valueString":"x"}]`}, "Patient.extension[0].url", "required"},
		{"extension value and extensions", "", map[string]string{"extension": `[{"url":"http://e","valueString":"x","extension":[{"url":"a","valueString":"y"}]}]`}, "Patient.extension[0]", "invariant"},
		{"extension empty", "", map[string]string{"modifierExtension": `[{"url":"http://e"}]`}, "Patient.modifierExtension[0]", "invariant"},
		{"meta unknown element", "", map[string]string{"meta": `{"version":"1"}`}, "Patient.meta.version", "structure"},
		{"contentReference", `{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"string","bogus":true}]}]}`, nil, "Questionnaire.item[0].item[0].bogus", "structure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.base
			if base == "" {
				base = validPatient
			}
			issues := Validate(mutate(t, base, tt.changes), ValidateOptions{})
			if !hasIssue(issues, "error", tt.code, tt.path) {
				t.Errorf("want error %s at %s, got:\n%s", tt.code, tt.path, formatIssues(issues))
			}
		})
	}
}

func hasIssue(issues []Issue, severity, code, path string) bool {
	for _, is := range issues {
		if is.Severity == severity && is.Code == code && is.Path == path {
			return true
		}
	}
	return false
}

func formatIssues(issues []Issue) string {
	var b strings.Builder
	for _, is := range issues {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", is.Severity, is.Code, is.Path, is.Message)
	}
	return b.String()
}

// TestValidateReportsEveryIssue checks that validation does not stop early.
func TestValidateReportsEveryIssue(t *testing.T) {
	res := mutate(t, validPatient, map[string]string{"birthDate": `"x"`, "gender": `1`, "foo": `true`})
	issues := Validate(res, ValidateOptions{})
	for _, p := range []string{"Patient.birthDate", "Patient.gender", "Patient.foo"} {
		if !hasIssue(issues, "error", issuesCodeAt(issues, p), p) {
			t.Errorf("no issue at %s in\n%s", p, formatIssues(issues))
		}
	}
	if len(issues) != 3 {
		t.Errorf("want 3 issues, got\n%s", formatIssues(issues))
	}
}

func issuesCodeAt(issues []Issue, path string) string {
	for _, is := range issues {
		if is.Path == path {
			return is.Code
		}
	}
	return ""
}

// fakeCodes is a CodeChecker over a fixed set of value sets: "vs" ->
// "system|code" members. Value sets not listed are unknown.
type fakeCodes map[string][]string

func (f fakeCodes) CheckCode(vs, system, code string) (member, known bool) {
	members, ok := f[vs]
	if !ok {
		return false, false
	}
	for _, m := range members {
		if m == system+"|"+code {
			return true, true
		}
	}
	return false, true
}

func TestValidateRequiredBindings(t *testing.T) {
	codes := fakeCodes{
		"http://hl7.org/fhir/ValueSet/administrative-gender": {"|female", "|male"},
		"http://hl7.org/fhir/ValueSet/condition-clinical":    {"http://terminology.hl7.org/CodeSystem/condition-clinical|active"},
	}
	cond := func(coding string) string {
		return `{"resourceType":"Condition","subject":{"reference":"Patient/p"},"clinicalStatus":` + coding + `}`
	}
	tests := []struct {
		name  string
		res   string
		codes CodeChecker
		path  string // "" means no issue expected
	}{
		{"code member", validPatient, codes, ""},
		{"code not member", strings.Replace(validPatient, `"female"`, `"femal"`, 1), codes, "Patient.gender"},
		{"nil checker", strings.Replace(validPatient, `"female"`, `"femal"`, 1), nil, ""},
		{"unknown value set", `{"resourceType":"Observation","status":"nope","code":{"text":"x"}}`, codes, ""},
		{"concept member", cond(`{"coding":[{"system":"x","code":"y"},{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}`), codes, ""},
		{"concept no member", cond(`{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"gone"}]}`), codes, "Condition.clinicalStatus"},
		{"concept coding without system", cond(`{"coding":[{"code":"active"}]}`), codes, "Condition.clinicalStatus"},
		{"concept text only", cond(`{"text":"active"}`), codes, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse([]byte(tt.res))
			if err != nil {
				t.Fatal(err)
			}
			issues := Validate(res, ValidateOptions{Codes: tt.codes})
			switch {
			case tt.path == "" && len(issues) > 0:
				t.Errorf("unexpected issues:\n%s", formatIssues(issues))
			case tt.path != "" && !hasIssue(issues, "error", "code-invalid", tt.path):
				t.Errorf("want code-invalid at %s, got:\n%s", tt.path, formatIssues(issues))
			}
		})
	}
}

// TestValidateCodingBinding covers Coding with a required binding, which no
// base R4 element has but profiles do.
func TestValidateCodingBinding(t *testing.T) {
	f := &field{typ: "Coding", elem: &ElementDef{Path: "X.c", Binding: Binding{Strength: "required", ValueSet: "vs"}}}
	codes := fakeCodes{"vs": {"s|a"}}
	tests := []struct {
		coding map[string]any
		bad    bool
	}{
		{map[string]any{"system": "s", "code": "a"}, false},
		{map[string]any{"system": "s", "code": "b"}, true},
		{map[string]any{"code": "a"}, true},
		{map[string]any{"display": "a"}, false},
	}
	for _, tt := range tests {
		v := validator{ix: index(), codes: codes}
		v.codedBinding(tt.coding, f)
		if got := len(v.issues) > 0; got != tt.bad {
			t.Errorf("%v: got issues %v, want bad=%v", tt.coding, v.issues, tt.bad)
		}
	}
}
