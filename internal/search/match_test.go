package search

import (
	"testing"
)

// matchCase runs a one-parameter query against the rows extracted from
// element values of the given FHIR type.
type matchCase struct {
	query    string // one parameter, as in a URL
	fhirType string
	values   []string // JSON element values
	want     bool
}

func runMatch(t *testing.T, typ string, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		q := mustParse(t, typ, tc.query)
		if len(q.Clauses) != 1 {
			t.Fatalf("%s: %d clauses", tc.query, len(q.Clauses))
		}
		c := q.Clauses[0]
		var rows []Row
		for _, v := range tc.values {
			rows = append(rows, Extract(c.Param, tc.fhirType, decode(t, v))...)
		}
		if got := Match(c, rows); got != tc.want {
			t.Errorf("%s on %s %v = %v, want %v (rows %+v)", tc.query, tc.fhirType, tc.values, got, tc.want, rows)
		}
	}
}

func TestMatchQuantity(t *testing.T) {
	ug := `{"value":5400,"unit":"µg","system":"http://unitsofmeasure.org","code":"ug"}`
	mg := `{"value":5.4,"system":"http://unitsofmeasure.org","code":"mg"}`
	runMatch(t, "Observation", []matchCase{
		{"value-quantity=5.4||mg", "Quantity", []string{ug}, true},
		{"value-quantity=5.4|http://unitsofmeasure.org|mg", "Quantity", []string{ug}, true},
		{"value-quantity=0.0054|http://unitsofmeasure.org|g", "Quantity", []string{ug}, true},
		{"value-quantity=5.4||mg", "Quantity", []string{mg}, true},
		{"value-quantity=5.5||mg", "Quantity", []string{ug}, false},
		{"value-quantity=gt5||mg", "Quantity", []string{ug}, true},
		{"value-quantity=lt5||mg", "Quantity", []string{ug}, false},
		{"value-quantity=5.4||mL", "Quantity", []string{ug}, false}, // different dimension
		{"value-quantity=5400", "Quantity", []string{ug}, true},     // no unit: value as written
		{"value-quantity=5400||ug", "Quantity", []string{ug}, true},
		{"value-quantity=5.4||µg", "Quantity", []string{`{"value":5.4,"unit":"µg"}`}, true}, // matches the unit when no system
		{"value-quantity=5.4|http://other|mg", "Quantity", []string{ug}, false},
		{"value-quantity=120||mm[Hg]", "Quantity", []string{`{"value":16,"system":"http://unitsofmeasure.org","code":"kPa"}`}, true}, // 16 kPa is 120.0 mm[Hg]
		{"value-quantity=12||{tablets}", "Quantity", []string{`{"value":12,"system":"http://unitsofmeasure.org","code":"{tablets}"}`}, true},
		{"value-quantity=ap100||mg", "Quantity", []string{`{"value":0.109,"system":"http://unitsofmeasure.org","code":"g"}`}, true},
		{"value-quantity=gt1||mg", "Range", []string{`{"low":{"value":0.5,"system":"http://unitsofmeasure.org","code":"mg"}}`}, true}, // open-ended Range
	})
}

func TestMatchToken(t *testing.T) {
	cc := `{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}],"text":"BP systolic"}`
	runMatch(t, "Observation", []matchCase{
		{"code=8480-6", "CodeableConcept", []string{cc}, true},
		{"code=http://loinc.org|8480-6", "CodeableConcept", []string{cc}, true},
		{"code=http://snomed.info/sct|8480-6", "CodeableConcept", []string{cc}, false},
		{"code=|8480-6", "CodeableConcept", []string{cc}, false}, // the coding has a system
		{"code=|8480-6", "CodeableConcept", []string{`{"coding":[{"code":"8480-6"}]}`}, true},
		{"code=http://loinc.org|", "CodeableConcept", []string{cc}, true},
		{"code=8480", "CodeableConcept", []string{cc}, false}, // tokens match exactly
		{"code:text=systolic", "CodeableConcept", []string{cc}, true},
		{"code:text=bp", "CodeableConcept", []string{cc}, true},
		{"code:text=pressure", "CodeableConcept", []string{cc}, false},
		{"code:not=1234", "CodeableConcept", []string{cc}, true},
		{"code:not=8480-6", "CodeableConcept", []string{cc}, false},
		{"code:not=1234", "CodeableConcept", nil, true}, // no value at all matches :not
		{"code=1,8480-6", "CodeableConcept", []string{cc}, true},
		{"code:missing=true", "CodeableConcept", nil, true},
		{"code:missing=false", "CodeableConcept", nil, false},
		{"code:missing=false", "CodeableConcept", []string{cc}, true},
	})
	ident := `{"system":"urn:hkid","value":"A1234563","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NI"}]}}`
	runMatch(t, "Patient", []matchCase{
		{"identifier=urn:hkid|A1234563", "Identifier", []string{ident}, true},
		{"identifier=A1234563", "Identifier", []string{ident}, true},
		{"identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|NI|A1234563", "Identifier", []string{ident}, true},
		{"identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|A1234563", "Identifier", []string{ident}, false},
		{"active=true", "boolean", []string{`true`}, true},
		{"active=false", "boolean", []string{`true`}, false},
		{"telecom=%2B852 2345 6789", "ContactPoint", []string{`{"system":"phone","value":"+852 2345 6789"}`}, true},
		{"_id=abc", "id", []string{`"abc"`}, true},
	})
}

func TestMatchTokenExpanded(t *testing.T) {
	q := mustParse(t, "Observation", "code:in=http://example.org/vs/bp")
	c := q.Clauses[0]
	c.Values[0].Token.Expanded = []Coding{{System: "http://loinc.org", Code: "8480-6"}, {System: "http://loinc.org", Code: "8462-4"}}
	rows := []Row{TokenRow{System: "http://loinc.org", Code: "8462-4"}}
	if !Match(c, rows) {
		t.Error(":in did not match an expanded code")
	}
	c.Modifier = ModNotIn
	if Match(c, rows) {
		t.Error(":not-in matched an expanded code")
	}
}

func TestMatchStringAndDate(t *testing.T) {
	name := `{"family":"Ménard","given":["Zoë"],"text":"陳大文"}`
	runMatch(t, "Patient", []matchCase{
		{"name=menard", "HumanName", []string{name}, true},
		{"name=ZOE", "HumanName", []string{name}, true},
		{"name=陳", "HumanName", []string{name}, true},
		{"name=nard", "HumanName", []string{name}, false},
		{"name:contains=nard", "HumanName", []string{name}, true},
		{"name:exact=Ménard", "HumanName", []string{name}, true},
		{"name:exact=menard", "HumanName", []string{name}, false},
		{"address-city=hong", "Address", []string{`{"city":"Hong Kong"}`}, true},
		{"birthdate=1980", "date", []string{`"1980-05-01"`}, true},
		{"birthdate=1980-05-01", "date", []string{`"1980"`}, false},
		{"birthdate=ge1980-05-01", "date", []string{`"1980"`}, true}, // the year runs past May 1
	})
	runMatch(t, "Encounter", []matchCase{
		{"date=2023-06-01", "Period", []string{`{"start":"2023-06-01T08:00:00Z","end":"2023-06-01T09:00:00Z"}`}, true},
		{"date=gt2030", "Period", []string{`{"start":"2023-06-01"}`}, true}, // ongoing
		{"date=lt2023", "Period", []string{`{"start":"2023-06-01"}`}, false},
		{"date=lt2023", "Period", []string{`{"end":"2024-06-01"}`}, true}, // no start
		{"date=sa2023-05-31", "Period", []string{`{"start":"2023-06-01"}`}, true},
		{"date=eb2023-06-02", "Period", []string{`{"start":"2023-06-01"}`}, false},
	})
}

func TestMatchReference(t *testing.T) {
	runMatch(t, "Observation", []matchCase{
		{"subject=Patient/123", "Reference", []string{`{"reference":"Patient/123"}`}, true},
		{"subject=Patient/123", "Reference", []string{`{"reference":"Patient/123/_history/3"}`}, true},
		{"subject=123", "Reference", []string{`{"reference":"Patient/123"}`}, true},
		{"subject:Group=123", "Reference", []string{`{"reference":"Patient/123"}`}, false},
		{"subject=Patient/124", "Reference", []string{`{"reference":"Patient/123"}`}, false},
		{"subject=https://other.org/fhir/Patient/9", "Reference", []string{`{"reference":"https://other.org/fhir/Patient/9"}`}, true},
		{"subject=Patient/9", "Reference", []string{`{"reference":"https://other.org/fhir/Patient/9"}`}, false}, // another server's patient
		{"subject:identifier=urn:hkid|A1", "Reference", []string{`{"identifier":{"system":"urn:hkid","value":"A1"}}`}, true},
		{"subject:identifier=A1", "Reference", []string{`{"identifier":{"system":"urn:hkid","value":"A1"}}`}, true},
		{"subject:identifier=urn:other|A1", "Reference", []string{`{"identifier":{"system":"urn:hkid","value":"A1"}}`}, false},
		{"subject:missing=true", "Reference", nil, true},
	})
	runMatch(t, "QuestionnaireResponse", []matchCase{
		{"questionnaire=http://hl7.org/fhir/Questionnaire/phq-9", "canonical", []string{`"http://hl7.org/fhir/Questionnaire/phq-9|1.0"`}, true},
		{"questionnaire=http://hl7.org/fhir/Questionnaire/phq-9|1.0", "canonical", []string{`"http://hl7.org/fhir/Questionnaire/phq-9|1.0"`}, true},
		{"questionnaire=http://hl7.org/fhir/Questionnaire/phq-9|2.0", "canonical", []string{`"http://hl7.org/fhir/Questionnaire/phq-9|1.0"`}, false},
	})
}

func TestMatchURIAndNumber(t *testing.T) {
	runMatch(t, "ValueSet", []matchCase{
		{"url=http://acme.org/fhir/ValueSet/1", "uri", []string{`"http://acme.org/fhir/ValueSet/1"`}, true},
		{"url=http://acme.org/fhir/ValueSet", "uri", []string{`"http://acme.org/fhir/ValueSet/1"`}, false},
		{"url:below=http://acme.org/fhir", "uri", []string{`"http://acme.org/fhir/ValueSet/1"`}, true},
		{"url:below=http://acme.org/fh", "uri", []string{`"http://acme.org/fhir/ValueSet/1"`}, false},
		{"url:above=http://acme.org/fhir/ValueSet/1/_history/5", "uri", []string{`"http://acme.org/fhir/ValueSet/1"`}, true},
		{"url:above=http://acme.org/fhir/ValueSet/1", "uri", []string{`"http://acme.org/fhir/CodeSystem/1"`}, false},
	})
	runMatch(t, "RiskAssessment", []matchCase{
		{"probability=0.3", "decimal", []string{`0.30`}, true},
		{"probability=0.3", "decimal", []string{`0.36`}, false},
		{"probability=gt0.2", "Range", []string{`{"low":{"value":0.1},"high":{"value":0.4}}`}, true},
		{"probability=0.3", "Range", []string{`{"low":{"value":0.26},"high":{"value":0.34}}`}, true},
	})
}

func TestMatchComposite(t *testing.T) {
	q := mustParse(t, "Observation", "code-value-quantity=http://loinc.org|8480-6$gt130||mm[Hg]")
	c := q.Clauses[0]
	row := func(code, val string) Row {
		return CompositeRow{Parts: []Row{
			TokenRow{System: "http://loinc.org", Code: code},
			Extract(&Param{Type: Quantity}, "Quantity", decode(t, `{"value":`+val+`,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}`))[0],
		}}
	}
	if !Match(c, []Row{row("8462-4", "80"), row("8480-6", "140")}) {
		t.Error("systolic 140 not found")
	}
	// the values must come from the same component: code of one, value of another does not match
	if Match(c, []Row{row("8480-6", "120"), row("8462-4", "140")}) {
		t.Error("matched across components")
	}
}

func TestMatchChainNotInMemory(t *testing.T) {
	q := mustParse(t, "Observation", "subject:Patient.name=chan")
	if Match(q.Clauses[0], []Row{StringRow{Norm: "chan"}}) {
		t.Error("Match evaluated a chain on the wrong rows")
	}
}
