package fhirpath

import (
	"context"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
)

// fuzzPatient is the input of FuzzEvaluate: small, with primitives,
// extensions, choice types and contained resources.
const fuzzPatient = `{"resourceType":"Patient","id":"p1","active":true,"gender":"male","birthDate":"1974-12-25",
"_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1974-12-25T14:35:45-05:00"}]},
"name":[{"use":"official","family":"Chalmers","given":["Peter","James"]},{"use":"usual","given":["Jim"]}],
"telecom":[{"system":"phone","value":"(03) 5555 6473","use":"work","rank":1}],
"contained":[{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"w"},"valueQuantity":{"value":185.5,"code":"[lb_av]","system":"http://unitsofmeasure.org"}}],
"managingOrganization":{"reference":"#o1"}}`

// FuzzEvaluate compiles and evaluates arbitrary expressions: no panics, and
// each evaluation finishes quickly however deep or repetitive the input.
func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{
		"Patient.name.given.first()", "(1 | 2 | 3).aggregate($this + $total, 0)",
		"@2015-02-04T14:34:28+09:00 > @T14:34", "4.0 'g' / 2.0 'm' = 2 'g/m'",
		"contained.where(id = 'o1').value.as(Quantity).value * 2", "managingOrganization.resolve()",
		"descendants().ofType(FHIR.string).count()", "birthDate.extension(%`ext-patient-birthTime`).value",
		"'abc'.replaceMatches('(b)', '$1$1').split('b').join('-')", "iif(active, name.select(given.join(' ')), {})",
	} {
		f.Add(s)
	}
	res, err := fhir.Parse([]byte(fuzzPatient))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		x, err := Compile(expr)
		if err != nil {
			return
		}
		_ = x.String()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		out, err := x.Evaluate(ctx, res, &Options{Env: map[string]any{"n": 3}})
		if err == nil {
			for _, v := range out {
				_ = v.String()
				_ = v.JSON()
				_ = v.TypeName()
			}
		}
		if d := time.Since(start); d > 10*time.Second { // generous: CI machines are shared
			t.Fatalf("%q took %v", expr, d)
		}
	})
}
