package terminology

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// testSystem is a small hierarchy:
//
//	animal
//	├── mammal
//	│   ├── dog
//	│   └── cat (also a pet)
//	├── bird (retired)
//	├── fish (deprecated)
//	└── _group (abstract)
//	pet
//	└── cat
const testSystem = `{
  "resourceType": "CodeSystem", "url": "http://example.org/cs", "content": "complete",
  "concept": [
    {"code": "animal", "display": "Animal", "concept": [
      {"code": "mammal", "display": "Mammal", "concept": [
        {"code": "dog", "display": "Dog", "designation": [{"language": "de", "value": "Hund"}]},
        {"code": "cat", "display": "Cat", "property": [{"code": "parent", "valueCode": "pet"}]}
      ]},
      {"code": "bird", "display": "Bird", "property": [{"code": "status", "valueCode": "retired"}]},
      {"code": "fish", "display": "Fish", "property": [{"code": "status", "valueCode": "deprecated"}]},
      {"code": "_group", "display": "Group", "property": [{"code": "notSelectable", "valueBoolean": true}]}
    ]},
    {"code": "pet", "display": "Pet"}
  ]
}`

func buildTest(t *testing.T, valueSets ...string) *Tables {
	t.Helper()
	b := NewBuilder()
	cs, err := ParseCodeSystem([]byte(testSystem))
	if err != nil {
		t.Fatal(err)
	}
	b.AddCodeSystem(cs)
	for _, v := range valueSets {
		def, err := ParseValueSet([]byte(v))
		if err != nil {
			t.Fatal(err)
		}
		b.AddValueSet(def)
	}
	tb, _ := b.Build()
	return tb
}

func vsJSON(url, compose string) string {
	return `{"resourceType": "ValueSet", "url": "` + url + `", "compose": ` + compose + `}`
}

func TestExpandCompose(t *testing.T) {
	const sys = `"system": "http://example.org/cs"`
	tests := []struct {
		name    string
		compose string
		want    []string // codes, or nil when not enumerable
		reason  string   // substring of NotEnumerable
	}{
		{"whole system skips abstract and deprecated", `{"include": [{` + sys + `}]}`, []string{"animal", "mammal", "dog", "cat", "bird", "pet"}, ""},
		{"inactive false skips retired", `{"inactive": false, "include": [{` + sys + `}]}`, []string{"animal", "mammal", "dog", "cat", "pet"}, ""},
		{"listed deprecated code", `{"include": [{` + sys + `, "concept": [{"code": "fish"}]}]}`, []string{"fish"}, ""},
		{"concept list", `{"include": [{` + sys + `, "concept": [{"code": "dog"}, {"code": "bird"}, {"code": "nope"}]}]}`, []string{"dog", "bird"}, ""},
		{"is-a", `{"include": [{` + sys + `, "filter": [{"property": "concept", "op": "is-a", "value": "mammal"}]}]}`, []string{"mammal", "dog", "cat"}, ""},
		{"descendent-of", `{"include": [{` + sys + `, "filter": [{"property": "concept", "op": "descendent-of", "value": "mammal"}]}]}`, []string{"dog", "cat"}, ""},
		{"is-a second parent", `{"include": [{` + sys + `, "filter": [{"property": "concept", "op": "is-a", "value": "pet"}]}]}`, []string{"cat", "pet"}, ""},
		{"is-not-a", `{"include": [{` + sys + `, "filter": [{"property": "concept", "op": "is-not-a", "value": "mammal"}]}]}`, []string{"animal", "bird", "pet"}, ""},
		{"two filters intersect", `{"include": [{` + sys + `, "filter": [{"property": "concept", "op": "is-a", "value": "mammal"}, {"property": "concept", "op": "is-a", "value": "pet"}]}]}`, []string{"cat"}, ""},
		{"regex", `{"include": [{` + sys + `, "filter": [{"property": "code", "op": "regex", "value": "[cd].*"}]}]}`, []string{"dog", "cat"}, ""},
		{"exclude", `{"include": [{` + sys + `}], "exclude": [{` + sys + `, "filter": [{"property": "concept", "op": "is-a", "value": "mammal"}]}]}`, []string{"animal", "bird", "pet"}, ""},
		{"import", `{"include": [{"valueSet": ["http://example.org/vs/mammals|1.0"]}]}`, []string{"mammal", "dog", "cat"}, ""},
		{"import intersected with system", `{"include": [{` + sys + `, "concept": [{"code": "dog"}, {"code": "pet"}], "valueSet": ["http://example.org/vs/mammals"]}]}`, []string{"dog"}, ""},
		{"unknown system", `{"include": [{"system": "urn:ietf:bcp:13"}]}`, nil, "urn:ietf:bcp:13 is not enumerated"},
		{"listed codes of an unknown system", `{"include": [{"system": "http://unitsofmeasure.org", "concept": [{"code": "s"}, {"code": "min"}]}]}`, []string{"s", "min"}, ""},
		{"all of a fragment", `{"include": [{"system": "http://unitsofmeasure.org"}]}`, nil, "unitsofmeasure.org is not enumerated"},
		{"import of not enumerable", `{"include": [{"valueSet": ["http://example.org/vs/mime"]}]}`, nil, "urn:ietf:bcp:13 is not enumerated"},
		{"unsupported filter", `{"include": [{` + sys + `, "filter": [{"property": "colour", "op": "=", "value": "red"}]}]}`, nil, "not supported"},
		{"self import", `{"include": [{"valueSet": ["http://example.org/vs/test"]}]}`, nil, "imports itself"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := buildTest(t,
				vsJSON("http://example.org/vs/test", tc.compose),
				vsJSON("http://example.org/vs/mammals", `{"include": [{`+sys+`, "filter": [{"property": "concept", "op": "is-a", "value": "mammal"}]}]}`),
				vsJSON("http://example.org/vs/mime", `{"include": [{"system": "urn:ietf:bcp:13"}]}`),
				vsJSON("http://example.org/vs/units", `{"include": [{"system": "http://unitsofmeasure.org", "concept": [{"code": "s"}]}]}`),
			)
			vs, ok := tb.ValueSet("http://example.org/vs/test")
			if !ok {
				t.Fatal("value set missing")
			}
			if tc.want == nil {
				if vs.Enumerable() || !strings.Contains(vs.NotEnumerable, tc.reason) {
					t.Errorf("NotEnumerable = %q, want it to contain %q", vs.NotEnumerable, tc.reason)
				}
				return
			}
			var got []string
			for _, c := range vs.Codes() {
				got = append(got, c.Code)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("codes = %v (%s), want %v", got, vs.NotEnumerable, tc.want)
			}
		})
	}
}

// TestPublishedExpansionIgnored: the expansion is computed from the
// compose; one published in the resource is not used.
func TestPublishedExpansionIgnored(t *testing.T) {
	const compose = `{"include": [{"system": "http://example.org/cs"}]}`
	published := `{"resourceType": "ValueSet", "url": "http://example.org/vs/pub", "compose": ` + compose + `,
	  "expansion": {"contains": [{"system": "http://example.org/cs", "code": "dog"}]}}`
	tb := buildTest(t, published)
	if codes, _ := tb.ValueSetCodes("http://example.org/vs/pub"); len(codes) != 6 {
		t.Errorf("%d codes, want the 6 of the compose", len(codes))
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	tb := buildTest(t, vsJSON("http://example.org/vs/all", `{"include": [{"system": "http://example.org/cs"}]}`),
		vsJSON("http://example.org/vs/mime", `{"include": [{"system": "urn:ietf:bcp:13"}]}`))
	var buf bytes.Buffer
	if err := tb.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if m, k := got.CheckCode("http://example.org/vs/all", "http://example.org/cs", "cat"); !m || !k {
		t.Errorf("cat: %v, %v", m, k)
	}
	if _, k := got.CheckCode("http://example.org/vs/mime", "", "text/plain"); k {
		t.Error("MIME types are accepted unchecked")
	}
	if d, _ := got.Display("http://example.org/cs", "dog", "de-AT"); d != "Hund" {
		t.Errorf("Display de-AT = %q, want Hund", d)
	}
	cs, _ := got.CodeSystem("http://example.org/cs")
	cat, _ := cs.Lookup("cat")
	if len(cat.Parents) != 2 {
		t.Errorf("cat parents = %v, want mammal and pet", cat.Parents)
	}
	if bird, _ := cs.Lookup("bird"); !bird.Inactive {
		t.Error("bird should be inactive")
	}
	if _, err := Decode(strings.NewReader("not gzip")); err == nil {
		t.Error("Decode of garbage succeeded")
	}
}
