package terminology

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

const (
	hkSystem = "http://ehealth.example/CodeSystem/hk-clinical"
	hkVS     = "http://ehealth.example/ValueSet/hk-respiratory"
	hkMap    = "http://ehealth.example/ConceptMap/hk-to-icd10"
	icd10    = "http://hl7.org/fhir/sid/icd-10"
)

// A local Hong Kong clinical terminology: bilingual, hierarchical.
const hkCodeSystem = `{"resourceType": "CodeSystem", "url": "` + hkSystem + `", "version": "2024", "name": "HKClinical",
  "status": "active", "content": "complete", "hierarchyMeaning": "is-a",
  "concept": [
    {"code": "RESP", "display": "Respiratory disorder", "designation": [{"language": "zh-HK", "value": "呼吸系統疾病"}], "concept": [
      {"code": "URTI", "display": "Upper respiratory tract infection", "designation": [{"language": "zh-HK", "value": "上呼吸道感染"}]},
      {"code": "FLU", "display": "Influenza", "designation": [{"language": "zh-HK", "value": "流行性感冒"}], "concept": [
        {"code": "FLU-A", "display": "Influenza A", "designation": [{"language": "zh-HK", "value": "甲型流感"}]}
      ]}
    ]},
    {"code": "CARD", "display": "Cardiac disorder", "designation": [{"language": "zh-HK", "value": "心臟疾病"}]}
  ]}`

const hkValueSet = `{"resourceType": "ValueSet", "url": "` + hkVS + `", "status": "active",
  "compose": {"include": [{"system": "` + hkSystem + `", "filter": [{"property": "concept", "op": "is-a", "value": "RESP"}]}]}}`

const hkConceptMap = `{"resourceType": "ConceptMap", "url": "` + hkMap + `", "status": "active",
  "group": [{"source": "` + hkSystem + `", "target": "` + icd10 + `", "element": [
    {"code": "FLU", "target": [{"code": "J11", "display": "Influenza, virus not identified", "equivalence": "wider"}]},
    {"code": "FLU-A", "target": [{"code": "J10", "equivalence": "equivalent"}, {"code": "J11", "equivalence": "wider"}]},
    {"code": "URTI", "target": [{"code": "J06.9", "equivalence": "equal"}]},
    {"code": "CARD", "target": [{"equivalence": "unmatched"}]}
  ]}]}`

func parse(t testing.TB, s string) map[string]any {
	t.Helper()
	res, err := fhir.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// newService returns a service over the built-in tables with the Hong
// Kong resources stored.
func newService(t testing.TB) *Service {
	t.Helper()
	s := NewService(tables(t), WithClock(func() time.Time { return time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) }))
	if err := s.PutAll([]map[string]any{parse(t, hkCodeSystem), parse(t, hkValueSet), parse(t, hkConceptMap)}); err != nil {
		t.Fatal(err)
	}
	return s
}

// in builds a Parameters resource from name, value[x] type, value triples.
func in(args ...any) map[string]any {
	var list []any
	for i := 0; i+2 < len(args); i += 3 {
		list = append(list, map[string]any{"name": args[i], "value" + args[i+1].(string): args[i+2]})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": list}
}

// get returns the value of output parameter name (parts as a map).
func get(p map[string]any, name string) any {
	for _, x := range p["parameter"].([]any) {
		m := x.(map[string]any)
		if m["name"] != name {
			continue
		}
		for k, v := range m {
			if k != "name" {
				return v
			}
		}
	}
	return nil
}

func TestValidateCode(t *testing.T) {
	s := newService(t)
	const gender = "http://hl7.org/fhir/ValueSet/administrative-gender"
	const genderSys = "http://hl7.org/fhir/administrative-gender"
	coding := func(system, code, display string) map[string]any {
		return map[string]any{"system": system, "code": code, "display": display}
	}
	tests := []struct {
		name    string
		params  map[string]any
		result  bool
		display string
		message string // substring; "" means no message
	}{
		{"member", in("url", "Uri", gender, "system", "Uri", genderSys, "code", "Code", "female"), true, "Female", ""},
		{"member, right display", in("url", "Uri", gender, "coding", "Coding", coding(genderSys, "male", "male")), true, "Male", ""},
		{"wrong display is a warning", in("url", "Uri", gender, "coding", "Coding", coding(genderSys, "male", "Man")), true, "Male", `the display "Man" is not a display`},
		{"unknown code", in("url", "Uri", gender, "system", "Uri", genderSys, "code", "Code", "woman"), false, "", `unknown code "woman"`},
		{"wrong system", in("url", "Uri", gender, "system", "Uri", "http://example.org/gender", "code", "Code", "female"), false, "", "with system " + genderSys},
		{"code of the system, not in the value set", in("url", "Uri", hkVS, "system", "Uri", hkSystem, "code", "Code", "CARD"), false, "", "is not in value set"},
		{"is-a member, bilingual display", in("url", "Uri", hkVS, "system", "Uri", hkSystem, "code", "Code", "FLU-A", "displayLanguage", "Code", "zh-HK"), true, "甲型流感", ""},
		{"zh-HK designation is a valid display", in("url", "Uri", hkVS, "coding", "Coding", coding(hkSystem, "FLU", "流行性感冒")), true, "Influenza", ""},
		{"codeableConcept: one good coding is enough", in("url", "Uri", gender, "codeableConcept", "CodeableConcept",
			map[string]any{"coding": []any{coding("http://example.org", "x", ""), coding(genderSys, "other", "")}}), true, "Other", "is not in value set"},
		{"ucum by grammar", in("url", "Uri", "http://hl7.org/fhir/ValueSet/ucum-units", "system", "Uri", "http://unitsofmeasure.org", "code", "Code", "mmol/L"), true, "", ""},
		{"bad ucum", in("url", "Uri", "http://hl7.org/fhir/ValueSet/ucum-units", "system", "Uri", "http://unitsofmeasure.org", "code", "Code", "mmol/LL"), false, "", "not a valid UCUM code"},
		{"snomed accepted unchecked", in("url", "Uri", "http://hl7.org/fhir/ValueSet/clinical-findings", "system", "Uri", "http://snomed.info/sct", "code", "Code", "38341003"), true, "", "could not be checked"},
		{"inline value set", map[string]any{"resourceType": "Parameters", "parameter": []any{
			map[string]any{"name": "valueSet", "resource": parse(t, hkValueSet)},
			map[string]any{"name": "coding", "valueCoding": coding(hkSystem, "URTI", "")}}}, true, "Upper respiratory tract infection", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := s.ValidateCode(context.Background(), tc.params)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := get(out, "message").(string)
			if get(out, "result") != tc.result || get(out, "display") != nil && get(out, "display") != tc.display && tc.display != "" {
				t.Errorf("result %v display %v message %q; want %v %q", get(out, "result"), get(out, "display"), msg, tc.result, tc.display)
			}
			if tc.display != "" && get(out, "display") != tc.display {
				t.Errorf("display %v, want %q", get(out, "display"), tc.display)
			}
			if (tc.message == "") != (msg == "") || !contains(msg, tc.message) {
				t.Errorf("message %q, want one containing %q", msg, tc.message)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestValidateCodeErrors(t *testing.T) {
	s := newService(t)
	tests := []struct {
		name   string
		params map[string]any
		kind   outcome.Kind
	}{
		{"unknown value set", in("url", "Uri", "http://example.org/nope", "code", "Code", "x"), outcome.NotFound},
		{"no code", in("url", "Uri", hkVS), outcome.Invalid},
		{"not Parameters", map[string]any{"resourceType": "Patient"}, outcome.Invalid},
	}
	for _, tc := range tests {
		if _, err := s.ValidateCode(context.Background(), tc.params); !outcome.Is(err, tc.kind) {
			t.Errorf("%s: err = %v, want kind %v", tc.name, err, tc.kind)
		}
	}
}

func TestValidateCodeInCodeSystem(t *testing.T) {
	s := newService(t)
	tests := []struct {
		system, code, display string
		result                bool
	}{
		{hkSystem, "CARD", "", true},
		{hkSystem, "card", "", false}, // case-sensitive by default
		{hkSystem, "FLU", "Flu", true},
		{"urn:ietf:bcp:47", "zh-HK", "", true},
		{"urn:ietf:bcp:47", "zh_HK", "", false},
		{"http://loinc.org", "8480-6", "", true}, // accepted unchecked
	}
	for _, tc := range tests {
		out, err := s.ValidateCodeInCodeSystem(context.Background(), in("url", "Uri", tc.system, "code", "Code", tc.code, "display", "String", tc.display))
		if err != nil {
			t.Fatal(err)
		}
		if get(out, "result") != tc.result {
			t.Errorf("%s#%s: result %v (%v), want %v", tc.system, tc.code, get(out, "result"), get(out, "message"), tc.result)
		}
	}
}

func TestTranslate(t *testing.T) {
	s := newService(t)
	type match struct{ eq, system, code string }
	tests := []struct {
		name    string
		params  map[string]any
		result  bool
		matches []match
	}{
		{"one target", in("url", "Uri", hkMap, "system", "Uri", hkSystem, "code", "Code", "URTI"), true, []match{{"equal", icd10, "J06.9"}}},
		{"two targets", in("system", "Uri", hkSystem, "code", "Code", "FLU-A"), true, []match{{"equivalent", icd10, "J10"}, {"wider", icd10, "J11"}}},
		{"target system filter", in("system", "Uri", hkSystem, "code", "Code", "FLU-A", "targetsystem", "Uri", "http://other.example"), false, nil},
		{"unmapped", in("url", "Uri", hkMap, "system", "Uri", hkSystem, "code", "Code", "CARD"), false, []match{{"unmatched", icd10, ""}}},
		{"no element", in("url", "Uri", hkMap, "system", "Uri", hkSystem, "code", "Code", "RESP"), false, nil},
		{"wrong system", in("url", "Uri", hkMap, "system", "Uri", icd10, "code", "Code", "URTI"), false, nil},
		{"reverse", in("url", "Uri", hkMap, "system", "Uri", icd10, "code", "Code", "J11", "reverse", "Boolean", true), true,
			[]match{{"narrower", hkSystem, "FLU"}, {"narrower", hkSystem, "FLU-A"}}},
		{"R4 map, v2", in("url", "Uri", "http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v2", "system", "Uri", "http://hl7.org/fhir/administrative-gender", "code", "Code", "female"), true,
			[]match{{"equal", "http://terminology.hl7.org/CodeSystem/v2-0001", "F"}}},
		{"R4 map, reverse", in("system", "Uri", "http://terminology.hl7.org/CodeSystem/v3-AddressUse", "code", "Code", "MC", "reverse", "Boolean", true,
			"targetsystem", "Uri", "http://hl7.org/fhir/contact-point-use"), true, []match{{"equal", "http://hl7.org/fhir/contact-point-use", "mobile"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := s.Translate(context.Background(), tc.params)
			if err != nil {
				t.Fatal(err)
			}
			var got []match
			for _, x := range out["parameter"].([]any) {
				m := x.(map[string]any)
				if m["name"] != "match" {
					continue
				}
				var mm match
				for _, p := range m["part"].([]any) {
					pm := p.(map[string]any)
					switch pm["name"] {
					case "equivalence":
						mm.eq = pm["valueCode"].(string)
					case "concept":
						c := pm["valueCoding"].(map[string]any)
						mm.system, _ = c["system"].(string)
						mm.code, _ = c["code"].(string)
					}
				}
				got = append(got, mm)
			}
			if get(out, "result") != tc.result || !slices.Equal(got, tc.matches) {
				t.Errorf("result %v matches %v; want %v %v (message %v)", get(out, "result"), got, tc.result, tc.matches, get(out, "message"))
			}
			if !tc.result && get(out, "message") == nil {
				t.Error("no message for a failed translation")
			}
		})
	}
	if _, err := s.Translate(context.Background(), in("url", "Uri", "http://example.org/nope", "system", "Uri", hkSystem, "code", "Code", "FLU")); !outcome.Is(err, outcome.NotFound) {
		t.Errorf("unknown map: %v, want NotFound", err)
	}
}

func TestSubsumes(t *testing.T) {
	s := newService(t)
	tests := []struct {
		system, a, b, want string
	}{
		{hkSystem, "RESP", "FLU-A", "subsumes"},
		{hkSystem, "FLU-A", "RESP", "subsumed-by"},
		{hkSystem, "FLU", "FLU", "equivalent"},
		{hkSystem, "URTI", "FLU", "not-subsumed"},
		{hkSystem, "CARD", "FLU-A", "not-subsumed"},
		{"http://terminology.hl7.org/CodeSystem/v3-ActCode", "_ActAccountCode", "PBILLACCT", "subsumes"},
		{"http://terminology.hl7.org/CodeSystem/v3-ActCode", "FFS", "FFCS", "subsumes"},
	}
	for _, tc := range tests {
		out, err := s.Subsumes(context.Background(), in("system", "Uri", tc.system, "codeA", "Code", tc.a, "codeB", "Code", tc.b))
		if err != nil {
			t.Fatalf("%s %s: %v", tc.a, tc.b, err)
		}
		if got := get(out, "outcome"); got != tc.want {
			t.Errorf("%s vs %s: %v, want %s", tc.a, tc.b, got, tc.want)
		}
	}
	codingA := map[string]any{"system": hkSystem, "code": "FLU"}
	codingB := map[string]any{"system": hkSystem, "code": "FLU-A"}
	if out, err := s.Subsumes(context.Background(), in("codingA", "Coding", codingA, "codingB", "Coding", codingB)); err != nil || get(out, "outcome") != "subsumes" {
		t.Errorf("codings: %v, %v", out, err)
	}
	for _, bad := range []struct {
		params map[string]any
		kind   outcome.Kind
	}{
		{in("system", "Uri", hkSystem, "codeA", "Code", "FLU", "codeB", "Code", "NOPE"), outcome.Invalid},
		{in("system", "Uri", "http://snomed.info/sct", "codeA", "Code", "1", "codeB", "Code", "2"), outcome.NotFound},
	} {
		if _, err := s.Subsumes(context.Background(), bad.params); !outcome.Is(err, bad.kind) {
			t.Errorf("%v: err %v, want %v", bad.params, err, bad.kind)
		}
	}
}

func TestLookupBilingual(t *testing.T) {
	s := newService(t)
	tests := []struct {
		lang, want string
	}{
		{"", "Influenza A"},
		{"en", "Influenza A"},
		{"zh-HK", "甲型流感"},
		{"zh", "Influenza A"}, // no plain zh designation, and zh does not fall forward to zh-HK
		{"fr", "Influenza A"},
	}
	for _, tc := range tests {
		out, err := s.Lookup(context.Background(), in("system", "Uri", hkSystem, "code", "Code", "FLU-A", "displayLanguage", "Code", tc.lang))
		if err != nil {
			t.Fatal(err)
		}
		if got := get(out, "display"); got != tc.want {
			t.Errorf("displayLanguage %q: display %v, want %q", tc.lang, got, tc.want)
		}
		if get(out, "name") != "HKClinical" || get(out, "version") != "2024" {
			t.Errorf("name %v version %v", get(out, "name"), get(out, "version"))
		}
	}
	out, _ := s.Lookup(context.Background(), in("coding", "Coding", map[string]any{"system": hkSystem, "code": "FLU"}))
	data, _ := json.Marshal(out)
	for _, want := range []string{`"valueString":"流行性感冒"`, `"valueCode":"zh-HK"`, `"valueCode":"parent"`, `"valueCode":"RESP"`, `"valueCode":"FLU-A"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("lookup output lacks %s: %s", want, data)
		}
	}
	// Built-in designations: the v3 code systems carry zh ones.
	if _, err := s.Lookup(context.Background(), in("system", "Uri", hkSystem, "code", "Code", "NOPE")); !outcome.Is(err, outcome.NotFound) {
		t.Errorf("unknown code: %v", err)
	}
	if out, err := s.Lookup(context.Background(), in("system", "Uri", "http://unitsofmeasure.org", "code", "Code", "mg/dL")); err != nil || get(out, "display") != "mg/dL" {
		t.Errorf("ucum lookup: %v %v", out, err)
	}
}

func TestExpand(t *testing.T) {
	s := newService(t)
	codes := func(vs map[string]any) []string {
		var out []string
		exp := vs["expansion"].(map[string]any)
		list, _ := exp["contains"].([]any)
		for _, c := range list {
			m := c.(map[string]any)
			out = append(out, m["code"].(string)+"="+m["display"].(string))
		}
		return out
	}
	tests := []struct {
		name   string
		params map[string]any
		total  int
		want   []string
	}{
		{"all", in("url", "Uri", hkVS), 4, []string{"RESP=Respiratory disorder", "URTI=Upper respiratory tract infection", "FLU=Influenza", "FLU-A=Influenza A"}},
		{"filter", in("url", "Uri", hkVS, "filter", "String", "influenza"), 2, []string{"FLU=Influenza", "FLU-A=Influenza A"}},
		{"filter in Chinese, displayed in Chinese", in("url", "Uri", hkVS, "filter", "String", "流感", "displayLanguage", "Code", "zh-HK"), 1, []string{"FLU-A=甲型流感"}},
		{"paging", in("url", "Uri", hkVS, "offset", "Integer", json.Number("1"), "count", "Integer", json.Number("2")), 4, []string{"URTI=Upper respiratory tract infection", "FLU=Influenza"}},
		{"paging past the end", in("url", "Uri", hkVS, "offset", "Integer", json.Number("9"), "count", "Integer", json.Number("2")), 4, nil},
		{"R4 value set", in("url", "Uri", "http://hl7.org/fhir/ValueSet/administrative-gender"), 4, []string{"male=Male", "female=Female", "other=Other", "unknown=Unknown"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := s.Expand(context.Background(), tc.params)
			if err != nil {
				t.Fatal(err)
			}
			if total := vs["expansion"].(map[string]any)["total"]; total != tc.total || !slices.Equal(codes(vs), tc.want) {
				t.Errorf("total %v codes %v; want %d %v", total, codes(vs), tc.total, tc.want)
			}
		})
	}
	for _, bad := range []struct {
		params map[string]any
		kind   outcome.Kind
	}{
		{in("url", "Uri", "http://example.org/nope"), outcome.NotFound},
		{in("url", "Uri", "http://hl7.org/fhir/ValueSet/ucum-units"), outcome.TooCostly},
		{in("url", "Uri", hkVS, "count", "Integer", "-1"), outcome.Invalid},
	} {
		if _, err := s.Expand(context.Background(), bad.params); !outcome.Is(err, bad.kind) {
			t.Errorf("%v: err %v, want %v", bad.params, err, bad.kind)
		}
	}
	small := NewService(tables(t), WithMaxExpansion(3))
	if err := small.PutAll([]map[string]any{parse(t, hkCodeSystem), parse(t, hkValueSet)}); err != nil {
		t.Fatal(err)
	}
	if _, err := small.Expand(context.Background(), in("url", "Uri", hkVS)); !outcome.Is(err, outcome.TooCostly) {
		t.Errorf("4 codes over a limit of 3: %v, want TooCostly", err)
	}
}

// TestPutRemoveInvalidates checks cached expansions follow changes to the
// code systems and value sets they come from.
func TestPutRemoveInvalidates(t *testing.T) {
	s := newService(t)
	member := func(code string) bool {
		m, _ := s.CheckCode(hkVS, hkSystem, code)
		return m
	}
	if !member("FLU-A") || member("COVID") {
		t.Fatal("initial membership wrong")
	}
	bigger := parse(t, hkCodeSystem)
	concepts := bigger["concept"].([]any)
	resp := concepts[0].(map[string]any)
	resp["concept"] = append(resp["concept"].([]any), map[string]any{"code": "COVID", "display": "COVID-19"})
	if err := s.Put(bigger); err != nil {
		t.Fatal(err)
	}
	if !member("COVID") {
		t.Error("new code of the code system not in the value set")
	}
	narrower := parse(t, hkValueSet)
	narrower["compose"].(map[string]any)["include"].([]any)[0].(map[string]any)["filter"].([]any)[0].(map[string]any)["value"] = "FLU"
	if err := s.Put(narrower); err != nil {
		t.Fatal(err)
	}
	if member("URTI") || !member("FLU-A") {
		t.Error("value set change not seen")
	}
	if err := s.Remove("ValueSet", hkVS); err != nil {
		t.Fatal(err)
	}
	if _, known := s.CheckCode(hkVS, hkSystem, "FLU"); known {
		t.Error("removed value set still known")
	}
	// The built-in tables are untouched: a new service sees none of this.
	if _, known := NewService(tables(t)).CheckCode(hkVS, hkSystem, "FLU"); known {
		t.Error("stored value set leaked into the built-in tables")
	}
	// An unchanged expansion is carried over to the next snapshot.
	before, _ := s.Tables().ValueSet("http://hl7.org/fhir/ValueSet/administrative-gender")
	if err := s.Put(parse(t, hkConceptMap)); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Tables().ValueSet("http://hl7.org/fhir/ValueSet/administrative-gender")
	if before != after {
		t.Error("unrelated change dropped a cached expansion")
	}
}

func TestVersions(t *testing.T) {
	s := newService(t)
	v2 := parse(t, hkCodeSystem)
	v2["version"] = "2025"
	v2["concept"] = append(v2["concept"].([]any), map[string]any{"code": "NEW", "display": "New"})
	if err := s.Put(v2); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version string
		ok      bool
	}{{"", true}, {"2025", true}, {"2024", false}} {
		_, err := s.Tables().LookupCode(LookupRequest{System: hkSystem, Version: tc.version, Code: "NEW"})
		if (err == nil) != tc.ok {
			t.Errorf("version %q: %v", tc.version, err)
		}
	}
	if err := s.Remove("CodeSystem", hkSystem+"|2025"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tables().LookupCode(LookupRequest{System: hkSystem, Code: "NEW"}); err == nil {
		t.Error("removed version still answers")
	}
}

func TestPutInvalid(t *testing.T) {
	s := newService(t)
	for _, res := range []map[string]any{
		{"resourceType": "CodeSystem", "status": "active"},
		{"resourceType": "Patient", "url": "http://x"},
		{"resourceType": "ValueSet", "url": "http://x", "compose": "nonsense"},
	} {
		if err := s.Put(res); !outcome.Is(err, outcome.Invalid) {
			t.Errorf("%v: %v, want Invalid", res, err)
		}
	}
}

// TestConcurrentReadsAndWrites runs readers against a writer (go test -race).
func TestConcurrentReadsAndWrites(t *testing.T) {
	s := newService(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if m, k := s.CheckCode(hkVS, hkSystem, "FLU"); !m || !k {
					t.Error("FLU lost during writes")
					return
				}
				_, _ = s.Expand(context.Background(), in("url", "Uri", hkVS, "filter", "String", "flu"))
			}
		}()
	}
	for i := 0; i < 50; i++ {
		cm := parse(t, hkConceptMap)
		cm["version"] = fmt.Sprint(i)
		if err := s.Put(cm); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(parse(t, hkValueSet)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestOperationDispatch(t *testing.T) {
	s := newService(t)
	res := parse(t, hkValueSet)
	out, err := s.Operation(context.Background(), "ValueSet", "$validate-code", InstanceParameters("$validate-code", res,
		in("system", "Uri", hkSystem, "code", "Code", "FLU")))
	if err != nil || get(out, "result") != true {
		t.Errorf("instance $validate-code: %v %v", out, err)
	}
	if _, err := s.Operation(context.Background(), "ConceptMap", "$expand", nil); !outcome.Is(err, outcome.NotAllowed) {
		t.Errorf("ConceptMap/$expand: %v", err)
	}
	cs := parse(t, hkCodeSystem)
	out, err = s.Operation(context.Background(), "CodeSystem", "$lookup", InstanceParameters("$lookup", cs, in("code", "Code", "CARD")))
	if err != nil || get(out, "display") != "Cardiac disorder" {
		t.Errorf("instance $lookup: %v %v", out, err)
	}
}

func TestSearchAPI(t *testing.T) {
	s := newService(t)
	tb := s.Tables()
	below, ok := tb.Below(hkSystem, "FLU")
	if !ok || !slices.Equal(below, []string{"FLU", "FLU-A"}) {
		t.Errorf("Below = %v, %v", below, ok)
	}
	above, ok := tb.Above(hkSystem, "FLU-A")
	slices.Sort(above)
	if !ok || !slices.Equal(above, []string{"FLU", "FLU-A", "RESP"}) {
		t.Errorf("Above = %v, %v", above, ok)
	}
	if _, ok := tb.Below("http://snomed.info/sct", "1"); ok {
		t.Error("Below on SNOMED CT should not be ok")
	}
	in, err := tb.InValueSet(hkVS)
	if err != nil || len(in[hkSystem]) != 4 {
		t.Errorf("InValueSet = %v, %v", in, err)
	}
	if _, err := tb.InValueSet("http://hl7.org/fhir/ValueSet/ucum-units"); !outcome.Is(err, outcome.TooCostly) {
		t.Errorf("InValueSet(ucum) = %v, want TooCostly", err)
	}
}

// Both the built-in tables and the service answer validation's question.
var (
	_ fhir.CodeChecker = (*Tables)(nil)
	_ fhir.CodeChecker = (*Service)(nil)
)

// TestSupplementDesignations: a supplement adds Chinese displays to a
// built-in code system, used by $lookup and $expand, and goes away with it.
func TestSupplementDesignations(t *testing.T) {
	s := newService(t)
	const gender = "http://hl7.org/fhir/administrative-gender"
	sup := parse(t, `{"resourceType": "CodeSystem", "url": "http://ehealth.example/CodeSystem/gender-zh", "status": "active",
	  "content": "supplement", "supplements": "`+gender+`",
	  "concept": [{"code": "female", "designation": [{"language": "zh-HK", "value": "女"}]}]}`)
	if err := s.Put(sup); err != nil {
		t.Fatal(err)
	}
	out, err := s.Lookup(context.Background(), in("system", "Uri", gender, "code", "Code", "female", "displayLanguage", "Code", "zh-HK"))
	if err != nil || get(out, "display") != "女" {
		t.Errorf("lookup: %v %v", get(out, "display"), err)
	}
	vs, err := s.Expand(context.Background(), in("url", "Uri", "http://hl7.org/fhir/ValueSet/administrative-gender", "displayLanguage", "Code", "zh-HK", "filter", "String", "女"))
	if err != nil || vs["expansion"].(map[string]any)["total"] != 1 {
		t.Errorf("expand with a supplement designation: %v %v", vs, err)
	}
	if err := s.Remove("CodeSystem", "http://ehealth.example/CodeSystem/gender-zh"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Tables().Display(gender, "female", "zh-HK"); d != "Female" {
		t.Errorf("after removing the supplement: %q", d)
	}
}
