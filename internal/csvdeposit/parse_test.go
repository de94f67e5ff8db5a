package csvdeposit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/terminology"
	"github.com/ehealthplus/ehealth/internal/validate"
)

// now is the tests' clock: the examples are in the past, 2027 in the future.
var now = time.Date(2026, 11, 30, 12, 0, 0, 0, hongKong)

func opts() Options {
	return Options{Organization: "Organization/clinic1", PractitionerRole: "PractitionerRole/dr1", Now: func() time.Time { return now }}
}

// file is a CSV of the template's columns: one row per change, each the
// example row with the changes applied.
func file(t *testing.T, template string, changes ...map[string]string) string {
	t.Helper()
	s, err := Lookup(template)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	var header []string
	for _, c := range s.Columns {
		header = append(header, c.Name)
	}
	w.Write(header)
	for _, ch := range changes {
		var rec []string
		for _, c := range s.Columns {
			v := c.Example
			if x, ok := ch[c.Name]; ok {
				v = x
			}
			rec = append(rec, v)
		}
		w.Write(rec)
	}
	w.Flush()
	return b.String()
}

func parse(t *testing.T, template, body string, o Options) Result {
	t.Helper()
	res, err := Parse(template, strings.NewReader(body), o)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res
}

// records returns the Bundle's resources of type typ.
func records(b map[string]any, typ string) []map[string]any {
	var out []map[string]any
	if b == nil {
		return nil
	}
	for _, e := range b["entry"].([]any) {
		r := e.(map[string]any)["resource"].(map[string]any)
		if r["resourceType"] == typ {
			out = append(out, r)
		}
	}
	return out
}

// js renders v as compact JSON, so expectations are written as JSON.
func js(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// validator checks records against base R4 with the built-in terminology.
func validator(t testing.TB) *validate.Validator {
	t.Helper()
	tables, err := terminology.Load()
	if err != nil {
		t.Fatal(err)
	}
	return validate.New(tables)
}

// TestTemplateExamples: every template's download parses, its example
// row is accepted, and the Bundle — a Patient and the record — passes
// the base R4 validator, with source identifiers and conditional requests.
func TestTemplateExamples(t *testing.T) {
	v := validator(t)
	want := map[string]string{Immunisations: "Immunization", Allergies: "AllergyIntolerance", VitalSigns: "Observation", Medications: "MedicationRequest"}
	for _, s := range Specs() {
		t.Run(s.Name, func(t *testing.T) {
			tpl, err := Template(s.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(tpl, []byte(utf8BOM+"record_id,")) || bytes.Count(tpl, []byte("\n")) != 2 {
				t.Errorf("template %q: want a BOM, the header and one example row", tpl)
			}
			res := parse(t, s.Name, string(tpl), opts())
			if res.Report.Rows != 1 || res.Report.Accepted != 1 || len(res.Report.Problems) != 0 {
				t.Fatalf("report %+v", res.Report)
			}
			entries := res.Bundle["entry"].([]any)
			if len(entries) != 2 {
				t.Fatalf("%d entries, want a Patient and a %s", len(entries), want[s.Name])
			}
			for i, e := range entries {
				e := e.(map[string]any)
				r := e["resource"].(map[string]any)
				if err := v.Validate(r); err != nil {
					t.Errorf("entry %d (%s) is not valid R4: %v", i, r["resourceType"], err)
				}
				req := js(t, e["request"])
				switch i {
				case 0:
					if r["resourceType"] != "Patient" || req != `{"ifNoneExist":"identifier=https%3A%2F%2Fehealth.hk%2Ffhir%2Fsource%2Fclinic1%2Fpatient%7CP00123","method":"POST","url":"Patient"}` {
						t.Errorf("entry 0: %s %s", r["resourceType"], req)
					}
				default:
					wantReq := `{"method":"PUT","url":"` + want[s.Name] + `?identifier=https%3A%2F%2Fehealth.hk%2Ffhir%2Fsource%2Fclinic1%2Fcsv%2F` + s.Name + `%7CR0001"}`
					if r["resourceType"] != want[s.Name] || req != wantReq {
						t.Errorf("entry 1: %s %s, want %s %s", r["resourceType"], req, want[s.Name], wantReq)
					}
					if got := js(t, r["identifier"]); got != `[{"system":"https://ehealth.hk/fhir/source/clinic1/csv/`+s.Name+`","value":"R0001"}]` {
						t.Errorf("source identifier %s", got)
					}
				}
			}
		})
	}
}

// TestRecords checks, per template, rows against the records they make,
// element by element; every record passes the base R4 validator.
func TestRecords(t *testing.T) {
	v := validator(t)
	const patient = `{"reference":"urn:uuid:`
	tests := []struct {
		name, template string
		row            map[string]string
		typ            string
		want           map[string]string // element → JSON
	}{
		{"immunisation", Immunisations, map[string]string{"vaccine_code": "FLU-QIV", "vaccine_system": "local", "dose_number": "2", "note": "left deltoid"},
			"Immunization", map[string]string{
				"status":             `"completed"`,
				"vaccineCode":        `{"coding":[{"code":"FLU-QIV","system":"https://ehealth.hk/fhir/CodeSystem/vaccine"}],"text":"Influenza, seasonal, injectable, preservative free"}`,
				"occurrenceDateTime": `"2026-10-15"`,
				"protocolApplied":    `[{"doseNumberPositiveInt":2}]`,
				"lotNumber":          `"FL2026-113"`,
				"performer":          `[{"actor":{"reference":"PractitionerRole/dr1"}},{"actor":{"reference":"Organization/clinic1"}}]`,
				"note":               `[{"text":"left deltoid"}]`,
				"primarySource":      `true`,
			}},
		{"immunisation not done", Immunisations, map[string]string{"status": "Not-Done", "dose_number": "", "lot_number": ""},
			"Immunization", map[string]string{"status": `"not-done"`, "protocolApplied": `null`, "lotNumber": `null`}},
		{"allergy", Allergies, map[string]string{"clinical_status": "", "verification_status": "unconfirmed", "category": "Drug"},
			"AllergyIntolerance", map[string]string{
				"clinicalStatus":     `{"coding":[{"code":"active","system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"}]}`,
				"verificationStatus": `{"coding":[{"code":"unconfirmed","system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"}]}`,
				"category":           `["medication"]`,
				"criticality":        `"high"`,
				"code":               `{"coding":[{"code":"91936005","system":"http://snomed.info/sct"}],"text":"Penicillin"}`,
				"onsetDateTime":      `"2019-05-02"`,
				"recordedDate":       `"2026-03-01"`,
				"reaction":           `[{"manifestation":[{"text":"Urticaria"}],"severity":"moderate"}]`,
				"recorder":           `{"reference":"PractitionerRole/dr1"}`,
			}},
		{"allergy to a drug by ATC", Allergies, map[string]string{"substance_code": "J01CA04", "substance_system": "ATC", "reaction": "", "severity": ""},
			"AllergyIntolerance", map[string]string{"code": `{"coding":[{"code":"J01CA04","system":"http://www.whocc.no/atc"}],"text":"Penicillin"}`, "reaction": `null`}},
		{"blood pressure", VitalSigns, map[string]string{},
			"Observation", map[string]string{
				"status":            `"final"`,
				"category":          `[{"coding":[{"code":"vital-signs","display":"Vital Signs","system":"http://terminology.hl7.org/CodeSystem/observation-category"}]}]`,
				"code":              `{"coding":[{"code":"85354-9","display":"Blood pressure panel with all children optional","system":"http://loinc.org"}],"text":"Blood pressure panel with all children optional"}`,
				"effectiveDateTime": `"2026-03-01T09:30:00+08:00"`,
				"valueQuantity":     `null`,
				"component": `[{"code":{"coding":[{"code":"8480-6","display":"Systolic blood pressure","system":"http://loinc.org"}],"text":"Systolic blood pressure"},"valueQuantity":{"code":"mm[Hg]","system":"http://unitsofmeasure.org","unit":"mmHg","value":128}},` +
					`{"code":{"coding":[{"code":"8462-4","display":"Diastolic blood pressure","system":"http://loinc.org"}],"text":"Diastolic blood pressure"},"valueQuantity":{"code":"mm[Hg]","system":"http://unitsofmeasure.org","unit":"mmHg","value":82}}]`,
				"performer": `[{"reference":"PractitionerRole/dr1"},{"reference":"Organization/clinic1"}]`,
			}},
		{"temperature in °F, a date only, decimals kept", VitalSigns, map[string]string{"loinc_code": "8310-5", "value": "+099.50", "unit": "[degF]", "measured_at": "2026-03-01"},
			"Observation", map[string]string{
				"valueQuantity":     `{"code":"[degF]","system":"http://unitsofmeasure.org","unit":"°F","value":99.50}`,
				"effectiveDateTime": `"2026-03-01"`, "component": `null`,
			}},
		{"body weight by unit text", VitalSigns, map[string]string{"loinc_code": "29463-7", "value": "72.4", "unit": "KG", "measured_at": "2026-03-01T08:05"},
			"Observation", map[string]string{
				"valueQuantity":     `{"code":"kg","system":"http://unitsofmeasure.org","unit":"kg","value":72.4}`,
				"effectiveDateTime": `"2026-03-01T08:05:00+08:00"`,
			}},
		{"prescription", Medications, map[string]string{},
			"MedicationRequest", map[string]string{
				"status":                    `"active"`,
				"intent":                    `"order"`,
				"medicationCodeableConcept": `{"coding":[{"code":"PARA500","system":"https://ehealth.hk/fhir/CodeSystem/drug"}],"text":"Paracetamol 500 mg tablet"}`,
				"authoredOn":                `"2026-03-01"`,
				"requester":                 `{"reference":"PractitionerRole/dr1"}`,
				"dosageInstruction": `[{"doseAndRate":[{"doseQuantity":{"code":"{tablet}","system":"http://unitsofmeasure.org","unit":"tablet","value":1}}],` +
					`"text":"1 tablet 4 times a day when needed for pain","timing":{"repeat":{"boundsPeriod":{"end":"2026-03-05","start":"2026-03-01"},"frequency":4,"period":1,"periodUnit":"d"}}}]`,
			}},
		{"medication statement by RxNorm, no dosage", Medications, map[string]string{"record_kind": "statement", "drug_code": "197361", "drug_system": "rxnorm",
			"dose_quantity": "", "dose_unit": "", "times_per_day": "", "dosage_text": "", "end_date": "", "status": "completed"},
			"MedicationStatement", map[string]string{
				"status":                    `"completed"`,
				"medicationCodeableConcept": `{"coding":[{"code":"197361","system":"http://www.nlm.nih.gov/research/umls/rxnorm"}],"text":"Paracetamol 500 mg tablet"}`,
				"effectivePeriod":           `{"start":"2026-03-01"}`,
				"informationSource":         `{"reference":"PractitionerRole/dr1"}`,
				"dosage":                    `null`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := parse(t, tc.template, file(t, tc.template, tc.row), opts())
			if len(res.Report.Problems) > 0 {
				t.Fatalf("problems: %+v", res.Report.Problems)
			}
			recs := records(res.Bundle, tc.typ)
			if len(recs) != 1 {
				t.Fatalf("%d %s records", len(recs), tc.typ)
			}
			r := recs[0]
			for k, want := range tc.want {
				if got := js(t, r[k]); got != want {
					t.Errorf("%s =\n %s\nwant\n %s", k, got, want)
				}
			}
			subject := "subject"
			if tc.typ == "Immunization" || tc.typ == "AllergyIntolerance" {
				subject = "patient"
			}
			if got := js(t, r[subject]); !strings.HasPrefix(got, patient) {
				t.Errorf("%s = %s", subject, got)
			}
			if err := v.Validate(r); err != nil {
				t.Errorf("not valid R4: %v", err)
			}
		})
	}
}

// TestProblems: one table row per kind of problem, each with the row,
// column and code reported, and no Bundle.
func TestProblems(t *testing.T) {
	tests := []struct {
		name, template string
		row            map[string]string
		column         string
		code           Code
	}{
		{"required id", Immunisations, map[string]string{"id_number": ""}, "id_number", CodeRequired},
		{"required record id", Allergies, map[string]string{"record_id": " "}, "record_id", CodeRequired},
		{"required code", VitalSigns, map[string]string{"loinc_code": ""}, "loinc_code", CodeRequired},
		{"HKID check digit", Immunisations, map[string]string{"id_number": "A123456(4)"}, "id_number", CodeIdentity},
		{"HKID format", Allergies, map[string]string{"id_number": "12345678"}, "id_number", CodeIdentity},
		{"passport without a country", Medications, map[string]string{"id_type": "passport", "id_number": "K1234567"}, "id_country", CodeIdentity},
		{"unknown id type", Medications, map[string]string{"id_type": "driving-licence"}, "id_type", CodeValue},
		{"birth date format", VitalSigns, map[string]string{"birth_date": "01/01/1980"}, "birth_date", CodeFormat},
		{"impossible date", Immunisations, map[string]string{"date_given": "2026-02-30"}, "date_given", CodeFormat},
		{"future date", Immunisations, map[string]string{"date_given": "2027-01-05"}, "date_given", CodeRange},
		{"before birth", Allergies, map[string]string{"onset_date": "1979-12-31"}, "onset_date", CodeRange},
		{"bad date-time", VitalSigns, map[string]string{"measured_at": "2026-03-01 9h30"}, "measured_at", CodeFormat},
		{"gender", VitalSigns, map[string]string{"gender": "x"}, "gender", CodeValue},
		{"status", Medications, map[string]string{"status": "on-hold"}, "status", CodeValue},
		{"criticality", Allergies, map[string]string{"criticality": "very"}, "criticality", CodeValue},
		{"code system", Immunisations, map[string]string{"vaccine_system": "snomed"}, "vaccine_system", CodeSystem},
		{"CVX form", Immunisations, map[string]string{"vaccine_code": "FLU"}, "vaccine_code", CodeUnknown},
		{"SNOMED check digit", Allergies, map[string]string{"substance_code": "91936004"}, "substance_code", CodeUnknown},
		{"ATC form", Medications, map[string]string{"drug_code": "paracetamol", "drug_system": "atc"}, "drug_code", CodeUnknown},
		{"LOINC check digit", VitalSigns, map[string]string{"loinc_code": "8480-5"}, "loinc_code", CodeUnknown},
		{"not a vital sign", VitalSigns, map[string]string{"loinc_code": "2345-7", "value": "5.4", "unit": "mmol/L"}, "loinc_code", CodeUnknown},
		{"unit", VitalSigns, map[string]string{"loinc_code": "8867-4", "value": "72", "unit": "bpm/s"}, "unit", CodeUnit},
		{"dose unit", Medications, map[string]string{"dose_unit": "spoonful"}, "dose_unit", CodeUnit},
		{"number", VitalSigns, map[string]string{"loinc_code": "8310-5", "value": "36,5", "unit": "Cel"}, "value", CodeFormat},
		{"blood pressure form", VitalSigns, map[string]string{"value": "128"}, "value", CodeFormat},
		{"implausible temperature", VitalSigns, map[string]string{"loinc_code": "8310-5", "value": "365", "unit": "Cel"}, "value", CodeRange},
		{"implausible weight", VitalSigns, map[string]string{"loinc_code": "29463-7", "value": "0", "unit": "kg"}, "value", CodeRange},
		{"systolic below diastolic", VitalSigns, map[string]string{"value": "80/120"}, "value", CodeRange},
		{"end before start", Medications, map[string]string{"end_date": "2026-02-01"}, "end_date", CodeRange},
		{"dose without unit", Medications, map[string]string{"dose_unit": ""}, "dose_unit", CodeRequired},
		{"dose zero", Medications, map[string]string{"dose_quantity": "0"}, "dose_quantity", CodeRange},
		{"times per day", Medications, map[string]string{"times_per_day": "25"}, "times_per_day", CodeFormat},
		{"dose number", Immunisations, map[string]string{"dose_number": "first"}, "dose_number", CodeFormat},
		{"severity without reaction", Allergies, map[string]string{"reaction": ""}, "severity", CodeRequired},
		{"long text", Allergies, map[string]string{"note": strings.Repeat("長", 2001)}, "note", CodeRange},
		{"long record id", Allergies, map[string]string{"record_id": strings.Repeat("R", 65)}, "record_id", CodeRange},
		{"control character", Allergies, map[string]string{"record_id": "R\x00"}, "record_id", CodeEncoding},
		{"not UTF-8", Allergies, map[string]string{"family_name": "\xb3\xaf"}, "family_name", CodeEncoding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := parse(t, tc.template, file(t, tc.template, tc.row), opts())
			if res.Bundle != nil {
				t.Error("a file with an error made a Bundle")
			}
			if res.Report.Rejected != 1 || res.Report.Accepted != 0 {
				t.Errorf("accepted %d, rejected %d", res.Report.Accepted, res.Report.Rejected)
			}
			found := false
			for _, p := range res.Report.Problems {
				if p.Row == 2 && p.Column == tc.column && p.Code == tc.code {
					found = true
				}
				if p.Message == "" || p.MessageZH == "" {
					t.Errorf("a problem without its English and Chinese messages: %+v", p)
				}
				if strings.Contains(p.Message+p.MessageZH, "A123456") {
					t.Errorf("a message repeats the identity number: %+v", p)
				}
			}
			if !found {
				t.Errorf("want a problem at row 2, column %s, code %s; got %+v", tc.column, tc.code, res.Report.Problems)
			}
		})
	}
}
