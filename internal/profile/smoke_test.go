package profile

import (
	"testing"
	"encoding/json"
	"strings"
	"github.com/ehealthplus/ehealth/internal/terminology"
)

func TestSmoke(t *testing.T) {
	base, _ := terminology.Load()
	terms := terminology.NewService(base)
	s, err := Load(terms)
	if err != nil { t.Fatal(err) }
	if err := terms.PutAll(s.Terminology()); err != nil { t.Fatal(err) }
	for _, src := range []string{
		`{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/1"},"effectiveDateTime":"2024-01-01","valueQuantity":{"value":7.1,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}`,
		`{"resourceType":"Observation","identifier":[{"system":"https://ehealth.hk/fhir/source/x","value":"1"}],"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Organization/1"},"effectiveDateTime":"2024-01-01","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},{"system":"http://x","code":"R"}]}}`,
		`{"resourceType":"MedicationRequest","status":"active","intent":"order","identifier":[{"system":"https://ehealth.hk/fhir/source/x","value":"1"}],"category":[{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/medication-category","code":"chinese-medicine"}]}],"subject":{"reference":"Patient/1"},"authoredOn":"2024-01-01","contained":[{"resourceType":"Medication","id":"herbs","ingredient":[{"itemCodeableConcept":{"text":"x"},"strength":{"numerator":{"value":6,"system":"http://unitsofmeasure.org","code":"mg"},"denominator":{"value":1}}}]}],"medicationReference":{"reference":"#herbs"},"dosageInstruction":[{"text":"x"}],"extension":[{"url":"https://ehealth.hk/fhir/StructureDefinition/decoction-method","valueCodeableConcept":{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/cm-decoction-method","code":"boil"}]}}]}`,
	} {
		var res map[string]any
		dec := json.NewDecoder(stringReader(src)); dec.UseNumber(); dec.Decode(&res)
		rep, err := s.Check(t.Context(), res)
		if err != nil { t.Fatal(err) }
		t.Log(rep.Profile, rep.RecordType, rep.Coded, rep.Valid())
		for _, is := range rep.Issues { t.Log("  ", is.Severity, is.Expression, is.Message) }
	}
}
func stringReader(s string) *strings.Reader { return strings.NewReader(s) }
