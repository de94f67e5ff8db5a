package fhir

import (
	"encoding/json"
	"testing"
)

// benchObservation is a typical vital-signs Observation.
const benchObservation = `{"resourceType":"Observation","id":"bp","meta":{"versionId":"1","lastUpdated":"2024-01-02T03:04:05Z"},
 "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Blood pressure 107/60 mmHg</p></div>"},
 "status":"final",
 "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}]}],
 "code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel"}],"text":"Blood pressure"},
 "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-01-02T09:30:00+01:00","performer":[{"reference":"Practitioner/pr1"}],
 "interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"L","display":"low"}]}],
 "component":[
  {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},
   "valueQuantity":{"value":107,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
  {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic blood pressure"}]},
   "valueQuantity":{"value":60.5,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`

// benchSimplePatient is a small Patient without narrative or contained resources.
const benchSimplePatient = `{"resourceType":"Patient","id":"p2","identifier":[{"system":"urn:oid:1.2.3","value":"123"}],"active":true,
 "name":[{"family":"Doe","given":["Jane"]}],"telecom":[{"system":"email","value":"jane@example.org"}],"gender":"female","birthDate":"1970-02-28",
 "address":[{"line":["1 Main St"],"city":"Town","postalCode":"1000","country":"BE"}]}`

func benchInputs() map[string][]byte {
	return map[string][]byte{"Patient": []byte(validPatient), "PatientSimple": []byte(benchSimplePatient), "Observation": []byte(benchObservation)}
}

func BenchmarkParse(b *testing.B) {
	for name, data := range benchInputs() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseEncodingJSON is the baseline Parse is measured against.
func BenchmarkParseEncodingJSON(b *testing.B) {
	for name, data := range benchInputs() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var v map[string]any
				if err := json.Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	for name, data := range benchInputs() {
		res, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if issues := Validate(res, ValidateOptions{}); len(issues) > 0 {
					b.Fatal(issues)
				}
			}
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	for name, data := range benchInputs() {
		res, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Marshal(res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIndex measures the one-time start-up cost of the model index.
func BenchmarkIndex(b *testing.B) {
	for b.Loop() {
		buildIndex()
	}
}
