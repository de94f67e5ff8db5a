package validate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/terminology"
)

var (
	validatorOnce sync.Once
	validator     *Validator
	validatorErr  error
)

// newValidator returns a Validator with the real terminology tables.
func newValidator(t testing.TB) *Validator {
	t.Helper()
	validatorOnce.Do(func() {
		var tables *terminology.Tables
		tables, validatorErr = terminology.Load()
		validator = New(tables)
	})
	if validatorErr != nil {
		t.Fatal(validatorErr)
	}
	return validator
}

func parse(t testing.TB, s string) map[string]any {
	t.Helper()
	res, err := fhir.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return res
}

const (
	patient = `{"resourceType": "Patient", "id": "p1", "meta": {"versionId": "1", "lastUpdated": "2024-01-02T10:00:00Z"},
	  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Peter Chalmers</p></div>"},
	  "identifier": [{"use": "usual", "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}, "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345"}],
	  "active": true, "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
	  "telecom": [{"system": "phone", "value": "(03) 5555 6473", "use": "work", "rank": 1}],
	  "gender": "male", "birthDate": "1974-12-25",
	  "address": [{"use": "home", "type": "both", "line": ["534 Erewhon St"], "city": "PleasantVille", "postalCode": "3999", "period": {"start": "1974-12-25"}}],
	  "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]},
	  "contact": [{"relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N"}]}], "name": {"family": "du Marché", "given": ["Bénédicte"]}, "gender": "female"}],
	  "managingOrganization": {"reference": "Organization/1"}}`
	observation = `{"resourceType": "Observation", "id": "o1", "status": "final",
	  "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
	  "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body Weight"}]},
	  "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2016-03-28T09:30:00+01:00",
	  "valueQuantity": {"value": 67.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}`
	// claim is shaped like the Claims Synthea writes for an encounter.
	claim = `{"resourceType": "Claim", "id": "c1", "status": "active",
	  "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
	  "use": "claim", "patient": {"reference": "urn:uuid:5cbc121b-cd71-4428-b8b7-31e53eba8184", "display": "Mr. Jon Doe"},
	  "billablePeriod": {"start": "2019-06-04T14:04:40-04:00", "end": "2019-06-04T14:19:40-04:00"},
	  "created": "2019-06-04T14:19:40-04:00",
	  "provider": {"reference": "urn:uuid:b1ddf812-1fdd-3adf-b1d5-32cc8bd07ebb", "display": "PCP1234"},
	  "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
	  "facility": {"reference": "urn:uuid:b1ddf812-1fdd-3adf-b1d5-32cc8bd07ebb", "display": "PCP1234"},
	  "diagnosis": [{"sequence": 1, "diagnosisReference": {"reference": "urn:uuid:e5bf2e1e-8b2d-4f59-9b2a-6a5a0c9a0f55"}}],
	  "insurance": [{"sequence": 1, "focal": true, "coverage": {"display": "Medicaid"}}],
	  "item": [
	    {"sequence": 1, "productOrService": {"coding": [{"system": "http://snomed.info/sct", "code": "185345009", "display": "Encounter for symptom"}], "text": "Encounter for symptom"},
	     "encounter": [{"reference": "urn:uuid:c3a8b0f0-5a5e-4b3a-9b6c-1f0e2c3d4e5f"}]},
	    {"sequence": 2, "diagnosisSequence": [1], "productOrService": {"coding": [{"system": "http://snomed.info/sct", "code": "444814009", "display": "Viral sinusitis (disorder)"}], "text": "Viral sinusitis (disorder)"}},
	    {"sequence": 3, "informationSequence": [1], "productOrService": {"coding": [{"system": "http://snomed.info/sct", "code": "430193006", "display": "Medication Reconciliation (procedure)"}], "text": "Medication Reconciliation (procedure)"},
	     "net": {"value": 386.49, "currency": "USD"}},
	    {"sequence": 4, "productOrService": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "140", "display": "Influenza, seasonal, injectable, preservative free"}], "text": "Influenza, seasonal, injectable, preservative free"},
	     "net": {"value": 140.52, "currency": "USD"}, "quantity": {"value": 1}}],
	  "supportingInfo": [{"sequence": 1, "category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claiminformationcategory", "code": "info"}]}, "valueReference": {"reference": "urn:uuid:0b2f0a4f-1a1e-4a47-9a7b-2c1d0e9f8a7b"}}],
	  "total": {"value": 527.01, "currency": "USD"}}`
)

func TestValidResources(t *testing.T) {
	v := newValidator(t)
	for _, s := range []string{patient, observation, claim} {
		if err := v.Validate(parse(t, s)); err != nil {
			t.Errorf("Validate(%s) = %v", s, err)
		}
	}
}

// TestInvalidResources has one resource per rule, with the kind of error
// and the element the issue must point at.
func TestInvalidResources(t *testing.T) {
	tests := []struct {
		name string
		res  string
		kind outcome.Kind
		expr string // FHIRPath of the element at fault; a|b for either
	}{
		{"unknown element", `{"resourceType": "Patient", "nickname": "Pete"}`, outcome.Invalid, "Patient.nickname"},
		{"unknown nested element", `{"resourceType": "Patient", "name": [{"surname": "X"}]}`, outcome.Invalid, "Patient.name[0].surname"},
		{"missing Observation.status", `{"resourceType": "Observation", "code": {"text": "weight"}}`, outcome.Invalid, "Observation.status"},
		{"missing Observation.code", `{"resourceType": "Observation", "status": "final"}`, outcome.Invalid, "Observation.code"},
		{"too many values", `{"resourceType": "Patient", "gender": ["male", "female"]}`, outcome.Invalid, "Patient.gender"},
		{"object for array", `{"resourceType": "Patient", "name": {"family": "X"}}`, outcome.Invalid, "Patient.name"},
		{"wrong type number for string", `{"resourceType": "Patient", "name": [{"family": 42}]}`, outcome.Invalid, "Patient.name[0].family"},
		{"wrong type string for boolean", `{"resourceType": "Patient", "active": "true"}`, outcome.Invalid, "Patient.active"},
		{"bad choice type", `{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueFoo": "bar"}`, outcome.Invalid, "Observation.valueFoo"},
		{"two choice types", `{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueString": "a", "valueBoolean": true}`, outcome.Invalid, "Observation.value"},
		{"bad date", `{"resourceType": "Patient", "birthDate": "25/12/1974"}`, outcome.Invalid, "Patient.birthDate"},
		{"bad dateTime", `{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "effectiveDateTime": "2016-03-28T09:30"}`, outcome.Invalid, "Observation.effectiveDateTime"},
		{"bad instant", `{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "issued": "2016-03-28"}`, outcome.Invalid, "Observation.issued"},
		{"bad id", `{"resourceType": "Patient", "id": "a b/c"}`, outcome.Invalid, "Patient.id"},
		{"bad decimal", `{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueQuantity": {"value": "67.5"}}`, outcome.Invalid, "Observation.valueQuantity.value"},
		{"bad uri", `{"resourceType": "Patient", "identifier": [{"system": "has spaces in it", "value": "1"}]}`, outcome.Invalid, "Patient.identifier[0].system"},
		{"empty string", `{"resourceType": "Patient", "name": [{"family": ""}]}`, outcome.Invalid, "Patient.name[0].family"},
		{"empty array", `{"resourceType": "Patient", "name": []}`, outcome.Invalid, "Patient.name"},
		{"empty object", `{"resourceType": "Patient", "maritalStatus": {}}`, outcome.Invalid, "Patient.maritalStatus"},
		{"ele-1 element with only id", `{"resourceType": "Patient", "maritalStatus": {"id": "m1"}}`, outcome.Unprocessable, "Patient.maritalStatus"},
		{"ext-1 extension with only url", `{"resourceType": "Patient", "name": [{"extension": [{"url": "http://example.org/x"}]}]}`, outcome.Unprocessable, "Patient.name[0].extension[0]"},
		{"bad Reference.reference", `{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": "Patient/has space"}}`, outcome.Invalid, "Observation.subject.reference"},
		{"contained without resourceType", `{"resourceType": "Patient", "contained": [{"id": "x", "name": [{"family": "Y"}]}]}`, outcome.Invalid, "Patient.contained[0]"},
		{"contained with bad element", `{"resourceType": "Patient", "contained": [{"resourceType": "Organization", "id": "o", "colour": "red"}]}`, outcome.Invalid, "Patient.contained[0].colour"},
		{"narrative with script", `{"resourceType": "Patient", "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>"}}`, outcome.Unprocessable, "Patient.text.div"},
		{"narrative with onclick", `{"resourceType": "Patient", "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">hi</p></div>"}}`, outcome.Unprocessable, "Patient.text.div"},
		{"bad Patient.gender", `{"resourceType": "Patient", "gender": "woman"}`, outcome.Unprocessable, "Patient.gender"},
		{"bad Observation.status", `{"resourceType": "Observation", "status": "done", "code": {"text": "x"}}`, outcome.Unprocessable, "Observation.status"},
		{"bad required Coding", `{"resourceType": "Patient", "contact": [{"relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "O"}]}]}], "link": [{"other": {"reference": "Patient/x"}, "type": "sibling"}]}`, outcome.Unprocessable, "Patient.link[0].type"},
		{"structure wins over binding", `{"resourceType": "Patient", "gender": "woman", "birthDate": "1974-13-45"}`, outcome.Invalid, "Patient.birthDate"},
	}
	v := newValidator(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := fhir.Parse([]byte(tc.res))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			err = v.Validate(res)
			var oe *outcome.Error
			if !errors.As(err, &oe) {
				t.Fatalf("Validate = %v, want an *outcome.Error", err)
			}
			if oe.Kind != tc.kind {
				t.Errorf("kind = %v, want %v; issues %v", oe.Kind, tc.kind, oe.Issues)
			}
			if !hasErrorAt(oe.Issues, tc.expr) {
				t.Errorf("no error issue at %s; issues %v", tc.expr, oe.Issues)
			}
		})
	}
}

// hasErrorAt reports whether an error issue points at expr, or at one of
// its |-separated alternatives (fhir.Validate names whichever of two
// clashing choice elements it meets second, in map order).
func hasErrorAt(issues []outcome.Issue, expr string) bool {
	for _, is := range issues {
		for _, e := range strings.Split(expr, "|") {
			if isError(is) && is.Expression == e {
				return true
			}
		}
	}
	return false
}

func TestKindOf(t *testing.T) {
	warn := outcome.Issue{Severity: outcome.SeverityWarning, Code: "structure"}
	binding := outcome.Issue{Severity: outcome.SeverityError, Code: "code-invalid"}
	structure := outcome.Issue{Severity: outcome.SeverityError, Code: "structure"}
	tests := []struct {
		name   string
		issues []outcome.Issue
		want   outcome.Kind
	}{
		{"binding only", []outcome.Issue{binding}, outcome.Unprocessable},
		{"binding and structural warning", []outcome.Issue{warn, binding}, outcome.Unprocessable},
		{"structure", []outcome.Issue{structure}, outcome.Invalid},
		{"structure and binding", []outcome.Issue{binding, structure}, outcome.Invalid},
	}
	for _, tc := range tests {
		if got := kindOf(tc.issues); got != tc.want {
			t.Errorf("%s: kindOf = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestErrorOp(t *testing.T) {
	err := newValidator(t).Validate(parse(t, `{"resourceType": "Patient", "id": "p9", "gender": "woman"}`))
	var oe *outcome.Error
	if !errors.As(err, &oe) || oe.Op != "validate Patient/p9" {
		t.Fatalf("Validate = %#v, want Op validate Patient/p9", err)
	}
}

// exampleExceptions lists official examples that break a required binding
// or another rule, with the reason. Keep it short and honest.
var exampleExceptions = map[string]string{
	"Questionnaire-qs1.json":                            "its display items have no linkId (Questionnaire.item.linkId is 1..1)",
	"Questionnaire-zika-virus-exposure-assessment.json": "its narrative is only whitespace (txt-2)",
}

// TestOfficialExamples validates every example of the R4 specification
// against the real terminology tables and every FHIRPath invariant: none
// may have an error issue, nor an invariant our engine cannot evaluate.
func TestOfficialExamples(t *testing.T) {
	dir := "../../../shared/fhir/examples"
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Skip("official examples not available")
	}
	tables, err := terminology.Load()
	if err != nil {
		t.Fatal(err)
	}
	codes := &countingChecker{inner: tables}
	v := New(codes)
	failed := 0
	for _, f := range files {
		name := filepath.Base(f)
		if name == "package.json" {
			continue // the package manifest, not a resource
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := fhir.Parse(data)
		if err != nil {
			t.Errorf("%s: parse: %v", name, err)
			continue
		}
		issues := v.Check(res)
		for _, is := range issues {
			if is.Code == "processing" { // an invariant our engine could not evaluate
				t.Errorf("%s: %s: %s", name, is.Expression, is.Message)
			}
		}
		_, excepted := exampleExceptions[name]
		switch {
		case outcome.HasErrors(issues) && !excepted:
			failed++
			t.Errorf("%s: %s", name, describe(issues))
		case !outcome.HasErrors(issues) && excepted:
			t.Errorf("%s: listed as an exception but validates; remove it", name)
		}
	}
	t.Logf("%d examples, %d excepted, %d failed; %d required-binding checks, %d against enumerable value sets",
		len(files)-1, len(exampleExceptions), failed, codes.checked, codes.known)
	if codes.known < 1000 {
		t.Errorf("only %d codes checked against enumerable value sets; are bindings checked?", codes.known)
	}
}

// countingChecker counts the binding checks validation makes.
type countingChecker struct {
	inner          fhir.CodeChecker
	checked, known int
}

func (c *countingChecker) CheckCode(valueSet, system, code string) (member, known bool) {
	member, known = c.inner.CheckCode(valueSet, system, code)
	c.checked++
	if known {
		c.known++
	}
	return member, known
}

func describe(issues []outcome.Issue) string {
	var b strings.Builder
	for _, is := range issues {
		if isError(is) {
			b.WriteString(is.Expression + ": " + is.Message + "; ")
		}
	}
	return b.String()
}

// BenchmarkValidate measures Validate with every rule set (full) and with
// the structural checks alone (structure, what Validate did before the
// invariants), to keep the cost of the invariants in view.
func BenchmarkValidate(b *testing.B) {
	full := newValidator(b)
	structure := &Validator{rules: full.rules[:1]}
	for _, bc := range []struct{ name, res string }{{"Patient", patient}, {"Observation", observation}, {"Claim", claim}} {
		res := parse(b, bc.res)
		for _, vc := range []struct {
			name string
			v    *Validator
		}{{"structure", structure}, {"full", full}} {
			b.Run(bc.name+"/"+vc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := vc.v.Validate(res); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
