package storetest

import (
	"fmt"
	"strings"
	"testing"
)

// clinic writes the fixture most search tests share: ten patients
// (p1…p10, each its own compartment), two practitioners and an
// organisation (outside any compartment), nine observations, a diagnostic
// report, two risk assessments and three value sets. o7 (compartment p8)
// names p2 as performer; o8 (compartment p1) names p9 as performer.
func clinic(t testing.TB, w *world) {
	t.Helper()
	loinc := func(code, display string) string {
		return fmt.Sprintf(`{"coding":[{"system":"http://loinc.org","code":%q,"display":%q}]}`, code, display)
	}
	local := func(code string) string { return fmt.Sprintf(`{"coding":[{"system":"urn:local","code":%q}]}`, code) }
	qty := func(v, code string) string {
		return fmt.Sprintf(`{"value":%s,"system":"http://unitsofmeasure.org","code":%q}`, v, code)
	}
	ref := func(r string) string { return fmt.Sprintf(`{"reference":%q}`, r) }

	w.put("Practitioner", "dr1", "", w.f("Practitioner", "name", "HumanName", `{"family":"Wong","given":["Daniel"]}`))
	w.put("Practitioner", "dr2", "", w.f("Practitioner", "name", "HumanName", `{"family":"Lee","given":["Anna"]}`))
	w.put("Organization", "org1", "", w.f("Organization", "name", "string", `"Acme Clinic"`))
	patients := []struct{ id, family, given, gender, birth, gp string }{
		{"p1", "Chan", `"Tai","Man"`, "male", "1980-05-01", "dr1"},
		{"p2", "Chen", `"Mei"`, "female", "1990-01-15", "dr2"},
		{"p3", "Wong", `"Ka","Fai"`, "male", "1975-12-31", "dr1"},
		{"p4", "Ménard", `"Zoë"`, "female", "2001-07-04", ""},
		{"p5", "Lee", ``, "", "1980", "dr2"},
		{"p6", "Chan", `"Siu","Ming"`, "male", "1985-03-03", "dr1"},
		{"p7", "Cheung", `"Wai"`, "female", "1992-02-02", "dr1"},
		{"p8", "Lam", `"Ho"`, "male", "1999-09-09", "dr2"},
		{"p9", "Ho", `"Yan"`, "female", "1970-01-01", ""},
		{"p10", "Ng", `"Ka"`, "other", "2010-10-10", ""},
	}
	for _, p := range patients {
		fields := []field{
			w.f("Patient", "name", "HumanName", fmt.Sprintf(`{"family":%q,"given":[%s]}`, p.family, p.given)),
			w.f("Patient", "birthdate", "date", fmt.Sprintf("%q", p.birth)),
		}
		if p.gender != "" {
			fields = append(fields, w.f("Patient", "gender", "code", fmt.Sprintf("%q", p.gender)))
		}
		if p.gp != "" {
			fields = append(fields, w.f("Patient", "general-practitioner", "Reference", ref("Practitioner/"+p.gp)))
		}
		if p.id == "p1" || p.id == "p2" {
			fields = append(fields, w.f("Patient", "organization", "Reference", ref("Organization/org1")))
		}
		if p.id == "p1" {
			fields = append(fields, w.f("Patient", "identifier", "Identifier",
				`{"system":"urn:hkid","value":"A1","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NI"}]}}`))
		}
		w.put("Patient", p.id, p.id, fields...)
	}
	obs := []struct {
		id, patient, code, date, value, unit, performer string
	}{
		{"o1", "p1", loinc("8480-6", "Systolic blood pressure"), "2024-01-10", "120", "mm[Hg]", "Practitioner/dr1"},
		{"o2", "p1", loinc("8462-4", "Diastolic blood pressure"), "2024-02-10", "80", "mm[Hg]", ""},
		{"o3", "p2", loinc("8480-6", "Systolic blood pressure"), "2024-01-20T10:00:00Z", "130", "mm[Hg]", "Practitioner/dr2"},
		{"o4", "p6", loinc("8480-6", "Systolic blood pressure"), "2024-01-15", "150", "mm[Hg]", ""},
		{"o5", "p7", loinc("29463-7", "Body weight"), "2023-12-01", "70", "kg", "https://other.org/fhir/Practitioner/ext1"},
		{"o6", "p3", loinc("8480-6", "Systolic blood pressure"), "2023-06-01", "16", "kPa", ""},
		{"o7", "p8", local("zz-1"), "", "", "", "Patient/p2"},
		{"o8", "p1", local("zz-2"), "", "", "", "Patient/p9"},
		{"o9", "p4", loinc("85354-9", "Blood pressure panel"), "", "", "", ""},
	}
	for _, o := range obs {
		subject := ref("Patient/" + o.patient)
		if o.id == "o2" {
			subject = `{"reference":"Patient/p1","identifier":{"system":"urn:hkid","value":"A1"}}`
		}
		code := w.f("Observation", "code", "CodeableConcept", o.code)
		fields := []field{code,
			w.f("Observation", "subject", "Reference", subject),
			w.f("Observation", "patient", "Reference", subject),
		}
		if o.date != "" {
			fields = append(fields, w.f("Observation", "date", "dateTime", fmt.Sprintf("%q", o.date)))
		}
		if o.value != "" {
			v := w.f("Observation", "value-quantity", "Quantity", qty(o.value, o.unit))
			fields = append(fields, v, w.composite("Observation", "code-value-quantity", code, v))
		}
		if o.performer != "" {
			fields = append(fields, w.f("Observation", "performer", "Reference", ref(o.performer)))
		}
		if o.id == "o9" { // two components: systolic 110, diastolic 70
			sys := w.f("Observation", "component-code", "CodeableConcept", loinc("8480-6", "Systolic"))
			dia := w.f("Observation", "component-code", "CodeableConcept", loinc("8462-4", "Diastolic"))
			v110 := w.f("Observation", "component-value-quantity", "Quantity", qty("110", "mm[Hg]"))
			v70 := w.f("Observation", "component-value-quantity", "Quantity", qty("70", "mm[Hg]"))
			fields = append(fields,
				field{"component-code", append(sys.rows, dia.rows...)},
				field{"component-value-quantity", append(v110.rows, v70.rows...)},
				w.composite("Observation", "component-code-value-quantity", sys, v110),
				w.composite("Observation", "component-code-value-quantity", dia, v70))
		}
		w.put("Observation", o.id, o.patient, fields...)
	}
	w.put("DiagnosticReport", "rep1", "p2",
		w.f("DiagnosticReport", "subject", "Reference", ref("Patient/p2")),
		w.f("DiagnosticReport", "result", "Reference", ref("Observation/o3")),
		w.f("DiagnosticReport", "status", "code", `"final"`))
	w.put("RiskAssessment", "ra1", "p1", w.f("RiskAssessment", "probability", "decimal", "0.25"))
	w.put("RiskAssessment", "ra2", "p2", w.f("RiskAssessment", "probability", "decimal", "0.80"))
	w.put("RiskAssessment", "ra3", "p3", w.f("RiskAssessment", "probability", "Range", `{"low":{"value":0.1},"high":{"value":0.3}}`))
	for id, u := range map[string]string{"vs1": "http://acme.org/fhir/ValueSet/a", "vs2": "http://acme.org/fhir/ValueSet/b", "vs3": "http://other.org/x"} {
		w.put("ValueSet", id, "", w.f("ValueSet", "url", "uri", fmt.Sprintf("%q", u)))
	}
}

// fixtureSearchCase is one search on the clinic fixture and the resources
// it must find (any order), in shorthand: "Observation/o1 o3".
type fixtureSearchCase struct {
	typ, query string
	want       string
}

func runClinicCases(t *testing.T, w *world, cases []fixtureSearchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.typ+"?"+tc.query, func(t *testing.T) {
			q := w.plan(tc.typ, tc.query)
			got := w.all(storeQuery(q))
			if g, want := sortedRefs(got), expand(tc.want); g != want {
				t.Errorf("%s?%s\n got %s\nwant %s", tc.typ, tc.query, g, want)
			}
			page := w.run(storeQuery(q))
			if page.Total != int64(len(strings.Fields(tc.want))) {
				t.Errorf("total = %d, want %d", page.Total, len(strings.Fields(tc.want)))
			}
		})
	}
}
