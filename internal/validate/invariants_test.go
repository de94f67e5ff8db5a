package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// TestInvariantViolations has one broken resource per case, with the key
// that must fail, its severity and the element it must point at. Error
// cases must make Validate fail with 422 and no other error; warning cases
// must pass Validate.
func TestInvariantViolations(t *testing.T) {
	const (
		err  = outcome.SeverityError
		warn = outcome.SeverityWarning
	)
	tests := []struct {
		name     string
		res      string
		key      string
		severity string
		expr     string
	}{
		{"Patient.contact without details (pat-1)",
			`{"resourceType": "Patient", "contact": [{"gender": "female"}]}`,
			"pat-1", err, "Patient.contact[0]"},
		{"second contact without details (pat-1)",
			`{"resourceType": "Patient", "contact": [{"name": {"family": "X"}}, {"gender": "female"}]}`,
			"pat-1", err, "Patient.contact[1]"},
		{"Period start after end (per-1)",
			`{"resourceType": "Patient", "address": [{"city": "A"}, {"city": "B", "period": {"start": "2020-01-02", "end": "2020-01-01"}}]}`,
			"per-1", err, "Patient.address[1].period"},
		{"Period in an extension (per-1)",
			`{"resourceType": "Patient", "extension": [{"url": "http://example.org/x", "valuePeriod": {"start": "2021", "end": "2020"}}]}`,
			"per-1", err, "Patient.extension[0].valuePeriod"},
		{"Period in an extension of a primitive (per-1)",
			`{"resourceType": "Patient", "birthDate": "1970", "_birthDate": {"extension": [{"url": "http://example.org/x", "valuePeriod": {"start": "2021", "end": "2020"}}]}}`,
			"per-1", err, "Patient._birthDate.extension[0].valuePeriod"},
		{"ContactPoint value without system (cpt-2)",
			`{"resourceType": "Patient", "telecom": [{"value": "555-1234"}]}`,
			"cpt-2", err, "Patient.telecom[0]"},
		{"Observation with dataAbsentReason and value (obs-6)",
			`{"resourceType": "Observation", "status": "final", "code": {"text": "weight"}, "valueQuantity": {"value": 1}, "dataAbsentReason": {"text": "asked"}}`,
			"obs-6", err, "Observation"},
		{"Quantity code without system (qty-3)",
			`{"resourceType": "Observation", "status": "final", "code": {"text": "weight"}, "valueQuantity": {"value": 67, "comparator": "<", "code": "kg"}}`,
			"qty-3", err, "Observation.valueQuantity"},
		{"referenceRange without low, high or text (obs-3)",
			`{"resourceType": "Observation", "status": "final", "code": {"text": "weight"}, "referenceRange": [{"type": {"text": "normal"}}]}`,
			"obs-3", err, "Observation.referenceRange[0]"},
		{"SimpleQuantity with a comparator (sqty-1)",
			`{"resourceType": "Observation", "status": "final", "code": {"text": "weight"}, "referenceRange": [{"low": {"value": 1, "comparator": "<"}}]}`,
			"sqty-1", err, "Observation.referenceRange[0].low"},
		{"Timing duration without unit (tim-1)",
			`{"resourceType": "MedicationRequest", "status": "active", "intent": "order", "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/1"},
			  "dosageInstruction": [{"text": "daily"}, {"timing": {"repeat": {"duration": 1, "frequency": 1, "period": 1, "periodUnit": "d"}}}]}`,
			"tim-1", err, "MedicationRequest.dosageInstruction[1].timing.repeat"},
		{"Dosage dose with a comparator (sqty-1 in a datatype)",
			`{"resourceType": "MedicationRequest", "status": "active", "intent": "order", "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/1"},
			  "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": 1, "comparator": ">"}}]}]}`,
			"sqty-1", err, "MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity"},
		{"Age not positive (age-1)",
			`{"resourceType": "Condition", "subject": {"reference": "Patient/1"}, "onsetAge": {"value": -3, "system": "http://unitsofmeasure.org", "code": "a"}}`,
			"age-1", err, "Condition.onsetAge"},
		{"nested group without items (que-1)",
			`{"resourceType": "Questionnaire", "status": "draft", "item": [{"linkId": "1", "type": "group", "item": [{"linkId": "1.1", "type": "group"}]}]}`,
			"que-1", err, "Questionnaire.item[0].item[0]"},
		{"required display item (que-6)",
			`{"resourceType": "Questionnaire", "status": "draft", "item": [{"linkId": "1", "type": "string"}, {"linkId": "2", "type": "display", "required": true}]}`,
			"que-6", err, "Questionnaire.item[1]"},
		{"duplicate linkId (que-2)",
			`{"resourceType": "Questionnaire", "status": "draft", "item": [{"linkId": "1", "type": "string"}, {"linkId": "1", "type": "boolean"}]}`,
			"que-2", err, "Questionnaire"},
		{"response item under an answer with answer and item (qrs-1)",
			`{"resourceType": "QuestionnaireResponse", "status": "completed", "item": [{"linkId": "1", "answer": [{"valueBoolean": true,
			  "item": [{"linkId": "1.1", "answer": [{"valueString": "x"}], "item": [{"linkId": "1.1.1"}]}]}]}]}`,
			"qrs-1", err, "QuestionnaireResponse.item[0].answer[0].item[0]"},
		{"Range probability not a percentage (ras-1, choice element)",
			`{"resourceType": "RiskAssessment", "status": "final", "subject": {"reference": "Patient/1"}, "prediction": [{"probabilityRange": {"low": {"value": 1, "system": "http://unitsofmeasure.org", "code": "kg"}}}]}`,
			"ras-1", err, "RiskAssessment.prediction[0].probabilityRange"},
		{"Organization telecom of use home (org-3)",
			`{"resourceType": "Organization", "name": "Acme", "telecom": [{"system": "phone", "value": "1", "use": "home"}]}`,
			"org-3", err, "Organization.telecom[0]"},
		{"Task modified before authored (Task inv-1)",
			`{"resourceType": "Task", "status": "draft", "intent": "order", "authoredOn": "2020-01-02", "lastModified": "2020-01-01"}`,
			"inv-1", err, "Task"},
		{"parameter with value and resource (Parameters inv-1)",
			`{"resourceType": "Parameters", "parameter": [{"name": "a", "valueString": "x", "resource": {"resourceType": "Patient"}}]}`,
			"inv-1", err, "Parameters.parameter[0]"},
		{"duplicate fullUrl (bdl-7)",
			`{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}}, {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}}]}`,
			"bdl-7", err, "Bundle"},
		{"total in a collection (bdl-1)",
			`{"resourceType": "Bundle", "type": "collection", "total": 1}`,
			"bdl-1", err, "Bundle"},
		{"Bundle entry breaking its own invariant",
			`{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient"}}, {"resource": {"resourceType": "Patient", "contact": [{"gender": "male"}]}}]}`,
			"pat-1", err, "Bundle.entry[1].resource.contact[0]"},
		{"contained resource breaking its own invariant (org-1)",
			`{"resourceType": "Patient", "contained": [{"resourceType": "Organization", "id": "o1", "active": true}], "managingOrganization": {"reference": "#o1"}}`,
			"org-1", err, "Patient.contained[0]"},
		{"datatype in a contained resource (per-1)",
			`{"resourceType": "Patient", "contained": [{"resourceType": "Patient", "id": "p2", "address": [{"period": {"start": "2021", "end": "2020"}}]}],
			  "link": [{"other": {"reference": "#p2"}, "type": "seealso"}]}`,
			"per-1", err, "Patient.contained[0].address[0].period"},
		{"no narrative: warning only (dom-6)",
			`{"resourceType": "Patient", "active": true}`,
			"dom-6", warn, "Patient"},
		{"name not a machine name: warning only (csd-0)",
			`{"resourceType": "CodeSystem", "status": "draft", "content": "not-present", "name": "my code system"}`,
			"csd-0", warn, "CodeSystem"},
	}
	v := newValidator(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := parse(t, tc.res)
			issues := v.Check(res)
			if !hasInvariant(issues, tc.key, tc.severity, tc.expr) {
				t.Fatalf("no %s %s issue at %s; issues %v", tc.severity, tc.key, tc.expr, issues)
			}
			err := v.Validate(res)
			if tc.severity == outcome.SeverityWarning {
				if err != nil {
					t.Fatalf("Validate = %v, want nil for a warning", err)
				}
				return
			}
			var oe *outcome.Error
			if !errors.As(err, &oe) || oe.Kind != outcome.Unprocessable {
				t.Fatalf("Validate = %v, want a 422 *outcome.Error", err)
			}
			for _, is := range oe.Issues {
				if isError(is) && !strings.HasPrefix(is.Message, tc.key+": ") {
					t.Errorf("unexpected error issue %s: %s", is.Expression, is.Message)
				}
			}
		})
	}
}

func hasInvariant(issues []outcome.Issue, key, severity, expr string) bool {
	for _, is := range issues {
		if is.Code == "invariant" && is.Severity == severity && is.Expression == expr && strings.HasPrefix(is.Message, key+": ") {
			return true
		}
	}
	return false
}

// TestValidInvariants has resources near the edge of a rule that hold.
func TestValidInvariants(t *testing.T) {
	for _, s := range []string{
		// per-1: dates of different precision are not comparable: empty, not false
		`{"resourceType": "Patient", "address": [{"period": {"start": "2020-01-01", "end": "2020"}}]}`,
		// que-7, skipped as broken: an exists operator with a boolean answer
		`{"resourceType": "Questionnaire", "status": "draft", "item": [{"linkId": "1", "type": "boolean"},
		  {"linkId": "2", "type": "string", "enableWhen": [{"question": "1", "operator": "exists", "answerBoolean": true}]}]}`,
		// sqty-1 applies to the Quantity of dose[x], not to a Range
		`{"resourceType": "MedicationRequest", "status": "active", "intent": "order", "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/1"},
		  "dosageInstruction": [{"doseAndRate": [{"doseRange": {"low": {"value": 1}}}]}]}`,
		// ras-1 on a decimal probability: low and high do not apply
		`{"resourceType": "RiskAssessment", "status": "final", "subject": {"reference": "Patient/1"}, "prediction": [{"probabilityDecimal": 0.5}]}`,
		// bdl-7: same fullUrl with different versions
		`{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "meta": {"versionId": "1"}}},
		  {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "meta": {"versionId": "2"}}}]}`,
	} {
		if err := newValidator(t).Validate(parse(t, s)); err != nil {
			t.Errorf("Validate(%s) = %v", s, err)
		}
	}
}

// TestRefOneReportedOnce: ref-1 is native to fhir.Validate and must not be
// reported a second time by the invariants.
func TestRefOneReportedOnce(t *testing.T) {
	issues := newValidator(t).Check(parse(t, `{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": "#nope"}}`))
	n := 0
	for _, is := range issues {
		if strings.HasPrefix(is.Message, "ref-1") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d ref-1 issues, want 1: %v", n, issues)
	}
}

// TestBrokenInvariantsListed keeps the list of broken invariants honest:
// each names an invariant of the table.
func TestBrokenInvariantsListed(t *testing.T) {
	known := map[string]bool{}
	for _, d := range invariantTable {
		known[d.Type+"/"+d.Key] = true
	}
	for k, b := range brokenInvariants {
		if !known[k] {
			t.Errorf("brokenInvariants lists %s, which is not in the table", k)
		}
		if b.reason == "" {
			t.Errorf("brokenInvariants: %s has no reason", k)
		}
	}
}

// TestEveryInvariantReached builds a resource of every type with every
// element filled in, and a Parameters holding every datatype: with each
// expression replaced by false, every invariant must be reported, which
// proves the check navigates to every element that carries one (backbone
// elements, content references, choice elements, datatypes); with the real
// expressions, none may fail to evaluate.
func TestEveryInvariantReached(t *testing.T) {
	resources := filledResources()
	falsified := make([]invariantDef, len(invariantTable))
	for i, d := range invariantTable {
		d.Expr = "false"
		falsified[i] = d
	}
	always, err := newInvariants(falsified)
	if err != nil {
		t.Fatal(err)
	}
	real, err := newInvariants(invariantTable)
	if err != nil {
		t.Fatal(err)
	}
	reported := map[string]bool{}
	for _, res := range resources {
		for _, is := range always.check(res) {
			key, _, _ := strings.Cut(is.Message, ":")
			reported[key] = true
		}
		for _, is := range real.check(res) {
			if is.Code != "invariant" {
				t.Errorf("%s: %s: %s", res["resourceType"], is.Expression, is.Message)
			}
		}
	}
	for _, d := range invariantTable {
		if b, ok := brokenInvariants[d.Type+"/"+d.Key]; ok && b.skip {
			continue
		}
		if !reported[d.Key] {
			t.Errorf("%s on %s never evaluated", d.Key, d.Path)
		}
	}
}

// filledResources returns one resource of every type with every element
// (to a depth of 4, arrays of one) given a value, and a Parameters with a
// value of every datatype that has invariants.
func filledResources() []map[string]any {
	var out []map[string]any
	for _, rt := range fhir.ResourceTypes() {
		td, _ := fhir.LookupType(rt)
		res := fillElements(td, rt, 0)
		res["resourceType"] = rt
		out = append(out, res)
	}
	var params []any
	for _, d := range invariantTable {
		if !fhir.IsResourceType(d.Type) {
			params = append(params, map[string]any{"name": d.Type, "value" + d.Type: fillValue(d.Type, 1)})
		}
	}
	return append(out, map[string]any{"resourceType": "Parameters", "parameter": params})
}

var sampleValues = map[string]any{
	"boolean": true, "integer": json.Number("1"), "positiveInt": json.Number("1"), "unsignedInt": json.Number("1"),
	"decimal": json.Number("1.5"), "date": "2020-01-01", "dateTime": "2020-01-01T00:00:00Z", "instant": "2020-01-01T00:00:00Z",
	"time": "10:00:00", "xhtml": `<div xmlns="http://www.w3.org/1999/xhtml">x</div>`,
}

func fillValue(typ string, depth int) any {
	if v, ok := sampleValues[typ]; ok {
		return v
	}
	if fhir.IsPrimitive(typ) {
		return "x"
	}
	td, ok := fhir.LookupType(typ)
	if !ok || depth > 4 {
		return nil
	}
	return fillElements(td, typ, depth)
}

func fillElements(td *fhir.TypeDef, parent string, depth int) map[string]any {
	m := map[string]any{}
	for i := range td.Elements {
		e := &td.Elements[i]
		if e.Path[:strings.LastIndexByte(e.Path, '.')] != parent || e.Max == 0 {
			continue
		}
		name, key := e.Name(), e.Name()
		var v any
		switch {
		case name == "contained" || name == "extension" || name == "modifierExtension":
			continue
		case e.IsChoice():
			t := e.Types[0]
			key = strings.TrimSuffix(name, "[x]") + strings.ToUpper(t[:1]) + t[1:]
			v = fillValue(t, depth+1)
		case e.ContentRef != "":
			if depth < 4 {
				v = fillElements(td, e.ContentRef, depth+1)
			}
		case len(e.Types) == 0 || e.Types[0] == "BackboneElement" || e.Types[0] == "Element":
			v = fillElements(td, e.Path, depth+1)
		case e.Types[0] == "Resource":
			continue
		default:
			v = fillValue(e.Types[0], depth+1)
		}
		if v == nil {
			continue
		}
		if e.IsArray() {
			v = []any{v}
		}
		m[key] = v
	}
	return m
}

// TestCheckConcurrent checks many resources at once (run with -race): the
// results must be those of a serial run.
func TestCheckConcurrent(t *testing.T) {
	v := newValidator(t)
	docs := []string{patient, observation, claim,
		`{"resourceType": "Patient", "contact": [{"gender": "female"}], "address": [{"period": {"start": "2021", "end": "2020"}}]}`,
		`{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "contact": [{}]}}, {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}}]}`,
	}
	want := make([]string, len(docs))
	for i, d := range docs {
		want[i] = fmt.Sprint(v.Check(parse(t, d)))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				d := (g + i) % len(docs)
				if got := fmt.Sprint(v.Check(parse(t, docs[d]))); got != want[d] {
					t.Errorf("concurrent Check(%d) = %s, want %s", d, got, want[d])
					return
				}
			}
		})
	}
	wg.Wait()
}
