package fhir

import (
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives Marshal and a second Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validPatient))
	f.Add([]byte(benchObservation))
	f.Add([]byte(`{"a":"\ud83d\ude00\u0000","b":[1.50,-0e+1,null,true,{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Parse(data)
		if err != nil {
			return
		}
		out, err := Marshal(res)
		if err != nil {
			t.Fatalf("Marshal of parsed input: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(x)): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(res, back) {
			t.Fatalf("round trip changed the value:\n%s", out)
		}
	})
}

// FuzzValidate checks that Validate, Summary, Elements and PatientRefs
// never panic on any parseable input.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(validPatient))
	f.Add([]byte(benchObservation))
	f.Add([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","contained":[{"resourceType":"Basic"}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Parse(data)
		if err != nil {
			return
		}
		for _, is := range Validate(res, ValidateOptions{Codes: fakeCodes{}}) {
			if is.Path == "" || is.Message == "" {
				t.Fatalf("issue without path or message: %+v", is)
			}
		}
		Summary(res, "true")
		Elements(res, []string{"name"})
		PatientRefs(res)
	})
}
