package profile

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/terminology"
)

var (
	setOnce sync.Once
	setVal  *Set
	setErr  error
)

// testSet is the embedded guide over a terminology service that holds the
// guide's code systems and value sets.
func testSet(t testing.TB) *Set {
	t.Helper()
	setOnce.Do(func() {
		base, err := terminology.Load()
		if err != nil {
			setErr = err
			return
		}
		terms := terminology.NewService(base)
		if setVal, setErr = Load(terms); setErr == nil {
			setErr = terms.PutAll(setVal.Terminology())
		}
	})
	if setErr != nil {
		t.Fatal(setErr)
	}
	return setVal
}

func parse(t testing.TB, src string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%v: %s", err, src)
	}
	return m
}

const (
	source  = `{"system":"https://ehealth.hk/fhir/source/clinic-1/obs","value":"42"}`
	labObs  = `{"resourceType":"Observation","identifier":[` + source + `],"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-01-01","performer":[{"reference":"Organization/lab"}],"valueQuantity":{"value":7.1,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}`
	herbs   = `{"resourceType":"Medication","id":"herbs","ingredient":[{"itemCodeableConcept":{"text":"黃芪"},"strength":{"numerator":{"value":9,"unit":"g","system":"http://unitsofmeasure.org","code":"g"},"denominator":{"value":1,"unit":"dose"}}}]}`
	decoct  = `{"url":"https://ehealth.hk/fhir/StructureDefinition/decoction-method","valueCodeableConcept":{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/cm-decoction-method","code":"water-decoction"}]}}`
	cmPresc = `{"resourceType":"MedicationRequest","extension":[` + decoct + `],"identifier":[` + source + `],"status":"active","intent":"order","category":[{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/medication-category","code":"chinese-medicine"}]}],"contained":[` + herbs + `],"medicationReference":{"reference":"#herbs"},"subject":{"reference":"Patient/p1"},"authoredOn":"2024-01-01","requester":{"reference":"PractitionerRole/r1"},"dosageInstruction":[{"text":"One dose daily"}]}`
	citizen = `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/record-origin","code":"citizen-entered"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"subject":{"reference":"Patient/p1"},"performer":[{"reference":"Patient/p1"}],"effectiveDateTime":"2024-01-01","valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`
)

// edit returns src with the JSON edits applied: "path=value" sets (a dotted
// path, [n] indexes), "path=" deletes.
func edit(t testing.TB, src string, edits ...string) string {
	t.Helper()
	m := parse(t, src)
	for _, e := range edits {
		path, val, _ := strings.Cut(e, "=")
		keys := strings.Split(path, ".")
		var cur any = m
		for _, k := range keys[:len(keys)-1] {
			cur = step(cur, k)
		}
		last := keys[len(keys)-1]
		obj := cur.(map[string]any)
		if val == "" {
			delete(obj, last)
			continue
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(val))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("edit %s: %v", e, err)
		}
		obj[last] = v
	}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(m); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func step(cur any, k string) any {
	name, idx, ok := strings.Cut(k, "[")
	next := cur.(map[string]any)[name]
	if ok {
		i := 0
		for _, c := range strings.TrimSuffix(idx, "]") {
			i = i*10 + int(c-'0')
		}
		next = next.([]any)[i]
	}
	return next
}

// want is an issue a case expects: its severity, element path and a part
// of its message.
type want struct{ severity, path, msg string }

func TestRules(t *testing.T) {
	s := testSet(t)
	cases := []struct {
		name    string
		res     string
		profile string
		want    []want
	}{
		{"valid lab result", labObs, "lab-observation", nil},
		{"valid CM prescription", cmPresc, "cm-prescription", nil},
		{"valid citizen-entered", citizen, "citizen-observation", nil},
		// cardinality
		{"subject missing", edit(t, labObs, "subject="), "lab-observation",
			[]want{{"error", "Observation.subject", "at least 1 required, 0 found"}}},
		{"date missing", edit(t, labObs, "effectiveDateTime="), "lab-observation",
			[]want{{"error", "Observation.effective", "at least 1 required"}}},
		{"too many performers of a citizen observation", edit(t, citizen, `performer=[{"reference":"Patient/p1"},{"reference":"Patient/p1"}]`), "citizen-observation",
			[]want{{"error", "Observation.performer", "at most 1 allowed, 2 found"}}},
		// reference targets
		{"subject not a Patient", edit(t, labObs, `subject={"reference":"Group/g"}`), "lab-observation",
			[]want{{"error", "Observation.subject.reference", "a reference to a Group is not allowed here: Patient"}}},
		{"performer a RelatedPerson", edit(t, labObs, `performer=[{"reference":"https://x.org/fhir/RelatedPerson/1/_history/2"}]`), "lab-observation",
			[]want{{"error", "Observation.performer[0].reference", "RelatedPerson is not allowed here: Organization, Practitioner, PractitionerRole"}}},
		{"performer a Practitioner", edit(t, labObs, `performer=[{"reference":"Practitioner/1"}]`), "lab-observation", nil},
		{"urn:uuid reference accepted", edit(t, labObs, `subject={"reference":"urn:uuid:0b0c7c9e-5a39-4bd6-9d2b-0e3b7f1f6a11"}`), "lab-observation", nil},
		// slicing: value discriminator decided by the source constraint
		{"no source identifier", edit(t, labObs, `identifier=[{"system":"https://other.org/ids","value":"1"}]`), "lab-observation",
			[]want{{"error", "Observation.identifier", "identifier in slice source: at least 1 required, 0 found"}}},
		{"source identifier without value", edit(t, labObs, `identifier=[{"system":"https://ehealth.hk/fhir/source/c/o"}]`), "lab-observation",
			[]want{{"error", "Observation.identifier[0].value", "value: at least 1 required"}}},
		// slicing: pattern discriminator, slice cardinality
		{"category slice missing", edit(t, citizen, `category=[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}]`), "citizen-observation",
			[]want{{"error", "Observation.category", "category in slice citizenEntered: at least 1 required, 0 found"}}},
		{"category slice twice", edit(t, citizen, `category=[{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/record-origin","code":"citizen-entered"}]},{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/record-origin","code":"citizen-entered"}]}]`), "citizen-observation",
			[]want{{"error", "Observation.category", "at most 1 allowed, 2 found"}}},
		// extension slices: the extension's own profile, choice types
		{"decoction missing", edit(t, cmPresc, "extension="), "cm-prescription",
			[]want{{"error", "MedicationRequest.extension", "extension in slice decoction: at least 1 required"}}},
		{"service location of the wrong type", edit(t, labObs, `extension=[{"url":"https://ehealth.hk/fhir/StructureDefinition/service-location","valueString":"ward 3"}]`), "lab-observation",
			[]want{{"error", "Observation.extension[0].valueString", "type string is not allowed here: Reference"}}},
		{"service location to a Patient", edit(t, labObs, `extension=[{"url":"https://ehealth.hk/fhir/StructureDefinition/service-location","valueReference":{"reference":"Patient/p1"}}]`), "lab-observation",
			[]want{{"error", "Observation.extension[0].valueReference.reference", "a reference to a Patient is not allowed here: Location"}}},
		// bindings
		{"required binding", edit(t, cmPresc, `extension[0].valueCodeableConcept={"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/cm-decoction-method","code":"boil"}]}`), "cm-prescription",
			[]want{{"error", "MedicationRequest.extension[0].valueCodeableConcept", "not in the value set https://ehealth.hk/fhir/ValueSet/cm-decoction-method (required binding)"}}},
		{"extensible binding", edit(t, labObs, `meta={"security":[{"system":"http://example.org/labels","code":"secret"}]}`), "lab-observation",
			[]want{{"warning", "Observation.meta.security[0]", "(extensible binding)"}}},
		{"restricted label accepted", edit(t, labObs, `meta={"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]}`), "lab-observation", nil},
		// pattern on a contained target checked against its profile
		{"herb in milligrams", edit(t, cmPresc, `contained[0].ingredient[0].strength.numerator={"value":9000,"system":"http://unitsofmeasure.org","code":"mg"}`), "cm-prescription",
			[]want{{"error", "MedicationRequest.contained[0].ingredient[0].strength.numerator", "must match the pattern"}}},
		{"herbs not a Medication", edit(t, cmPresc, `contained=[{"resourceType":"Substance","id":"herbs","code":{"text":"x"}}]`), "cm-prescription",
			[]want{{"error", "MedicationRequest.contained[0].reference", "a reference to a Substance is not allowed here: Medication"}}},
		// constraints
		{"citizen observation performed by another", edit(t, citizen, `performer=[{"reference":"Patient/p2"}]`), "citizen-observation",
			[]want{{"error", "Observation", "ehp-cit-1"}}},
		{"clinical observation marked citizen-entered", edit(t, labObs, `category=[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]},{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/record-origin","code":"citizen-entered"}]}]`), "clinical-observation",
			[]want{{"error", "Observation", "ehp-obs-1"}}},
		// choice type narrowed by the profile (medication[x] Reference only)
		{"CM prescription with a coded medicine", edit(t, cmPresc, "medicationReference=", `medicationCodeableConcept={"text":"herbs"}`, "contained="), "cm-prescription",
			[]want{{"error", "MedicationRequest.medicationCodeableConcept", "type CodeableConcept is not allowed here: Reference"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := s.CheckAgainst(t.Context(), parse(t, c.res), Base+c.profile)
			if err != nil {
				t.Fatal(err)
			}
			var errs []outcome.Issue
			for _, is := range rep.Issues {
				if is.Severity == "error" || is.Severity == "warning" {
					errs = append(errs, is)
				}
			}
			for _, w := range c.want {
				if !has(rep.Issues, w) {
					t.Errorf("no %s at %s saying %q in %v", w.severity, w.path, w.msg, rep.Issues)
				}
			}
			if c.want == nil && len(errs) > 0 {
				t.Errorf("issues for a valid resource: %v", errs)
			}
			if len(c.want) > 0 && len(errs) > len(c.want) {
				t.Errorf("more issues than expected: %v", errs)
			}
			for _, is := range rep.Issues {
				if !strings.Contains(is.Message, Base) {
					t.Errorf("issue %v does not name its profile", is)
				}
			}
		})
	}
}

func has(issues []outcome.Issue, w want) bool {
	for _, is := range issues {
		if is.Severity == w.severity && is.Expression == w.path && strings.Contains(is.Message, w.msg) {
			return true
		}
	}
	return false
}

// TestMustSupport checks an absent mustSupport element is reported as
// information, and does not make the resource invalid.
func TestMustSupport(t *testing.T) {
	rep, err := testSet(t).Check(t.Context(), parse(t, edit(t, labObs, "performer=")))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid() || !has(rep.Issues, want{"information", "Observation.performer", "mustSupport element performer is absent"}) {
		t.Errorf("valid %v, issues %v", rep.Valid(), rep.Issues)
	}
}

// TestChoose checks the profile chosen for a resource that declares none,
// and for one that declares one.
func TestChoose(t *testing.T) {
	s := testSet(t)
	for _, c := range []struct {
		res     string
		profile string
		record  RecordType
	}{
		{labObs, "lab-observation", LabReport},
		{citizen, "citizen-observation", ObservationRecord},
		{edit(t, labObs, `category=[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}]`), "clinical-observation", ObservationRecord},
		{cmPresc, "cm-prescription", CMPrescription},
		{edit(t, cmPresc, "category="), "medication-request", Medication},
		{`{"resourceType":"DiagnosticReport","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"RAD"}]}],"code":{"text":"CXR"}}`, "radiology-report", RadiologyReport},
		{`{"resourceType":"DiagnosticReport","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"HM"}]}],"code":{"text":"FBC"}}`, "lab-report", LabReport},
		{`{"resourceType":"DocumentReference","status":"current","category":[{"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/document-class","code":"medical-certificate"}]}],"content":[{"attachment":{"contentType":"application/pdf"}}]}`, "medical-certificate", MedicalCertificate},
		{`{"resourceType":"DocumentReference","status":"current","content":[{"attachment":{"contentType":"application/pdf"}}]}`, "clinical-note", ClinicalNote},
		{`{"resourceType":"ImagingStudy","status":"available","subject":{"reference":"Patient/1"}}`, "imaging-study", RadiologyImage},
		{`{"resourceType":"Appointment","status":"booked","participant":[{"status":"accepted"}]}`, "appointment", EncounterRecord},
		{`{"resourceType":"Patient"}`, "patient", ""},
		{`{"resourceType":"PractitionerRole"}`, "practitioner-role", ""},
		// declared: the lab profile on what would be a vital sign
		{edit(t, labObs, `meta={"profile":["https://ehealth.hk/fhir/StructureDefinition/lab-observation|0.1.0"]}`, `category=[]`), "lab-observation", LabReport},
	} {
		rep, err := s.Check(t.Context(), parse(t, c.res))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Profile != Base+c.profile || rep.RecordType != c.record {
			t.Errorf("%.60s…: profile %s (%q), want %s (%q)", c.res, rep.Profile, rep.RecordType, c.profile, c.record)
		}
	}
	rep, err := s.Check(t.Context(), parse(t, `{"resourceType":"Basic","code":{"text":"x"}}`))
	if err != nil || rep.Profile != "" || !rep.Valid() {
		t.Errorf("a Basic: %+v, %v", rep, err)
	}
	if _, err := s.Check(t.Context(), map[string]any{"id": "x"}); !outcome.Is(err, outcome.Invalid) {
		t.Errorf("not a resource: %v", err)
	}
}

// TestCheckAgainst checks the errors of an unknown profile and of a
// resource of another type.
func TestCheckAgainst(t *testing.T) {
	s := testSet(t)
	if _, err := s.CheckAgainst(t.Context(), parse(t, labObs), "https://example.org/StructureDefinition/x"); !outcome.Is(err, outcome.NotFound) {
		t.Errorf("unknown profile: %v", err)
	}
	rep, err := s.CheckAgainst(t.Context(), parse(t, labObs), Base+"condition")
	if err != nil || rep.Valid() || !has(rep.Issues, want{"error", "Observation", "a profile of Condition"}) {
		t.Errorf("an Observation against the Condition profile: %+v, %v", rep, err)
	}
}

// TestCoded checks Report.Coded follows the expected systems, contained
// ingredients included.
func TestCoded(t *testing.T) {
	s := testSet(t)
	cond := `{"resourceType":"Condition","identifier":[` + source + `],"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]},"subject":{"reference":"Patient/p1"},"recordedDate":"2024-01-01"}`
	for _, c := range []struct {
		res   string
		coded bool
	}{
		{cond, true},
		{edit(t, cond, `code={"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"I10"}]}`), true},
		{edit(t, cond, `code={"coding":[{"system":"https://clinic.example/codes","code":"HT"}]}`), false},
		{edit(t, cond, `code={"text":"hypertension"}`), false},
		{labObs, true},
		{cmPresc, false}, // herbs named in text only
		{edit(t, cmPresc, `contained[0].ingredient[0].itemCodeableConcept={"coding":[{"system":"https://ehealth.hk/fhir/CodeSystem/cm-herb","code":"huangqi"}]}`), true},
	} {
		rep, err := s.Check(t.Context(), parse(t, c.res))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Coded != c.coded {
			t.Errorf("%.80s…: coded %v, want %v (%v)", c.res, rep.Coded, c.coded, rep.Issues)
		}
	}
}

// TestPatterns checks fixed (exact) and pattern (contains) matching.
func TestPatterns(t *testing.T) {
	p := map[string]any{"coding": []any{map[string]any{"system": "s", "code": "c"}}}
	for _, c := range []struct {
		got          string
		fixed, match bool
	}{
		{`{"coding":[{"system":"s","code":"c"}]}`, true, true},
		{`{"coding":[{"system":"x","code":"y"},{"system":"s","code":"c","display":"C"}],"text":"t"}`, false, true},
		{`{"coding":[{"system":"s","code":"d"}]}`, false, false},
		{`{"text":"c"}`, false, false},
		{`"c"`, false, false},
	} {
		var got any
		dec := json.NewDecoder(strings.NewReader(c.got))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if f, m := equalJSON(p, got), matchPattern(p, got); f != c.fixed || m != c.match {
			t.Errorf("%s: fixed %v pattern %v, want %v %v", c.got, f, m, c.fixed, c.match)
		}
	}
	if equalJSON(json.Number("1.0"), json.Number("1")) || !equalJSON(json.Number("2"), json.Number("2")) {
		t.Error("numbers compare as written")
	}
}
