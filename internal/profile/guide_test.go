package profile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/terminology"
	"github.com/ehealthplus/ehealth/internal/validate"
)

// TestGuideValidR4 runs every resource of the guide (StructureDefinitions
// with their snapshots, CodeSystems, ValueSets) through the platform's
// base R4 validation: no errors. The value sets must also expand with
// every code known to their code systems.
func TestGuideValidR4(t *testing.T) {
	s := testSet(t)
	base, err := terminology.Load()
	if err != nil {
		t.Fatal(err)
	}
	terms := terminology.NewService(base)
	v := validate.New(terms)
	n := 0
	for _, r := range s.Resources() {
		n++
		data, err := fhir.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := fhir.Parse(data)
		if err != nil {
			t.Fatalf("%s/%s: %v", r["resourceType"], r["id"], err)
		}
		for _, is := range v.Check(parsed) {
			if is.Severity == outcome.SeverityError || is.Severity == outcome.SeverityFatal {
				t.Errorf("%s/%s: %s: %s", r["resourceType"], r["id"], is.Expression, is.Message)
			}
		}
	}
	if n < 36 {
		t.Errorf("%d resources in the guide", n)
	}
	if err := terms.PutAll(s.Terminology()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ vs, system, code string }{
		{"https://ehealth.hk/fhir/ValueSet/sensitivity-labels", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "PSY"},
		{"https://ehealth.hk/fhir/ValueSet/sensitivity-labels", "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R"},
		{"https://ehealth.hk/fhir/ValueSet/identity-document-type", "http://terminology.hl7.org/CodeSystem/v2-0203", "PPN"},
		{"https://ehealth.hk/fhir/ValueSet/cm-decoction-method", "https://ehealth.hk/fhir/CodeSystem/cm-decoction-method", "granules"},
	} {
		if member, known := terms.CheckCode(c.vs, c.system, c.code); !member || !known {
			t.Errorf("%s|%s in %s: member %v known %v", c.system, c.code, c.vs, member, known)
		}
	}
}

// TestProfilesNamed checks every record type has a profile, and every
// profile of a record type carries the source identifier slice and a
// Patient subject.
func TestProfilesNamed(t *testing.T) {
	s := testSet(t)
	seen := map[RecordType]bool{}
	for _, p := range s.profiles {
		seen[p.record] = true
		if p.record == "" || p.url == Base+"citizen-observation" {
			continue
		}
		var slice *node
		for _, n := range p.nodes {
			if strings.HasSuffix(n.id, ".identifier:source") {
				slice = n
			}
		}
		if slice == nil || slice.min != 1 {
			t.Errorf("%s: no source identifier slice 1..*", p.url)
		}
	}
	for _, rt := range []RecordType{Allergy, EncounterRecord, Medication, Immunisation, MedicalCertificate, ObservationRecord,
		Referral, LabReport, RadiologyReport, CMPrescription, RadiologyImage, Diagnosis, ProcedureRecord, ClinicalNote} {
		if !seen[rt] {
			t.Errorf("no profile for %s", rt)
		}
	}
}

// TestExpectedSystemsFile checks the loader refuses every kind of slip and
// that Load refuses configuration naming unknown profiles or elements of
// another type.
func TestExpectedSystemsFile(t *testing.T) {
	for _, c := range []struct{ name, src, err string }{
		{"not JSON", `{`, "unexpected EOF"},
		{"trailing data", `{} {}`, "data after"},
		{"no element", `{"condition":{}}`, "names no element"},
		{"no system", `{"condition":{"Condition.code":[]}}`, "lists no code system"},
		{"not a URL", `{"condition":{"Condition.code":["snomed ct"]}}`, "not a code system URL"},
		{"bad FHIRPath", `{"condition":{"Condition.code(":["http://snomed.info/sct"]}}`, "Condition.code("},
		{"wrong shape", `{"condition":["http://snomed.info/sct"]}`, "cannot unmarshal"},
	} {
		_, err := LoadExpectedSystems(strings.NewReader(c.src))
		if !outcome.Is(err, outcome.Invalid) || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want Invalid saying %q", c.name, err, c.err)
		}
	}
	for _, src := range []string{
		`{"no-such-profile":{"Condition.code":["http://snomed.info/sct"]}}`,
		`{"condition":{"Observation.code":["http://loinc.org"]}}`,
	} {
		es, err := LoadExpectedSystems(strings.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(nil, WithExpectedSystems(es)); err == nil {
			t.Errorf("%s: Load accepted it", src)
		}
	}
	es, err := LoadExpectedSystems(strings.NewReader(`{"https://ehealth.hk/fhir/StructureDefinition/condition":{"Condition.code":["https://clinic.example/codes"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(nil, WithExpectedSystems(es))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(t.Context(), parse(t, `{"resourceType":"Condition","code":{"coding":[{"system":"https://clinic.example/codes","code":"HT"}]}}`))
	if err != nil || !rep.Coded {
		t.Errorf("a configured local system: coded %v (%v)", rep.Coded, err)
	}
	data, err := os.ReadFile("expected-systems.json")
	if err != nil || !bytes.Equal(data, defaultExpected) {
		t.Error("the embedded configuration is not expected-systems.json")
	}
	if _, err := os.Stat(filepath.Join("testdata", "fuzz", "FuzzLoadExpectedSystems")); err != nil {
		t.Error("no seed corpus for FuzzLoadExpectedSystems")
	}
}
