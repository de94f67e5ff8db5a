package accreditation

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/profile"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// kinds are the records a test provider deposits, by record type: the
// resource type and its body about patient, with a source-system
// identifier (valid) or not, coded from the expected system or a local one.
var kinds = map[profile.RecordType]func(patient string, code map[string]any) (string, map[string]any){
	profile.Allergy: func(p string, code map[string]any) (string, map[string]any) {
		return "AllergyIntolerance", map[string]any{"patient": ref(p), "code": code, "clinicalStatus": map[string]any{"coding": []any{
			map[string]any{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}}}}
	},
	profile.EncounterRecord: func(p string, code map[string]any) (string, map[string]any) {
		return "Encounter", map[string]any{"status": "finished", "subject": ref(p), "type": []any{code},
			"class": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}}
	},
	profile.Medication: func(p string, code map[string]any) (string, map[string]any) {
		return "MedicationRequest", map[string]any{"status": "active", "intent": "order", "subject": ref(p), "medicationCodeableConcept": code}
	},
	profile.Immunisation: func(p string, code map[string]any) (string, map[string]any) {
		return "Immunization", map[string]any{"status": "completed", "patient": ref(p), "vaccineCode": code, "occurrenceDateTime": "2026-01-02"}
	},
	profile.Referral: func(p string, code map[string]any) (string, map[string]any) {
		return "ServiceRequest", map[string]any{"status": "active", "intent": "order", "subject": ref(p), "code": code}
	},
	profile.Diagnosis: func(p string, code map[string]any) (string, map[string]any) {
		return "Condition", map[string]any{"subject": ref(p), "code": code, "clinicalStatus": map[string]any{"coding": []any{
			map[string]any{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}}}}
	},
	profile.ProcedureRecord: func(p string, code map[string]any) (string, map[string]any) {
		return "Procedure", map[string]any{"status": "completed", "subject": ref(p), "code": code}
	},
	profile.ObservationRecord: func(p string, code map[string]any) (string, map[string]any) {
		return "Observation", map[string]any{"status": "final", "subject": ref(p), "code": code, "category": cat("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs")}
	},
	profile.LabReport: func(p string, code map[string]any) (string, map[string]any) {
		return "DiagnosticReport", map[string]any{"status": "final", "subject": ref(p), "code": code, "category": cat("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB")}
	},
	profile.RadiologyReport: func(p string, code map[string]any) (string, map[string]any) {
		return "DiagnosticReport", map[string]any{"status": "final", "subject": ref(p), "code": code, "category": cat("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD")}
	},
	profile.RadiologyImage: func(p string, code map[string]any) (string, map[string]any) {
		cd := code["coding"].([]any)[0]
		return "ImagingStudy", map[string]any{"status": "available", "subject": ref(p), "modality": []any{cd}}
	},
}

// expectedSystem is the expected code system of each record type's code
// (testChecker's expected).
var expectedSystem = map[profile.RecordType]string{
	profile.Allergy: "http://snomed.info/sct", profile.EncounterRecord: "http://snomed.info/sct",
	profile.Medication: "http://www.nlm.nih.gov/research/umls/rxnorm", profile.Immunisation: "http://hl7.org/fhir/sid/cvx",
	profile.Referral: "http://snomed.info/sct", profile.Diagnosis: "http://hl7.org/fhir/sid/icd-10",
	profile.ProcedureRecord: "http://snomed.info/sct", profile.ObservationRecord: "http://loinc.org",
	profile.LabReport: "http://loinc.org", profile.RadiologyReport: "http://loinc.org",
	profile.RadiologyImage: "http://dicom.nema.org/resources/ontology/DCM",
}

func ref(p string) map[string]any { return map[string]any{"reference": "Patient/" + p} }

func cat(system, code string) []any {
	return []any{map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}}
}

// batch is what a provider deposits of one record type: n records, of
// which valid carry a source identifier and coded use the expected system.
type batch struct {
	typ             profile.RecordType
	n, valid, coded int
}

// deposit writes b's records as org (its writer) about patient.
func deposit(t *testing.T, svc *resource.Service, org, patient string, b batch) {
	t.Helper()
	for i := range b.n {
		system := "urn:local:codes"
		if i < b.coded {
			system = expectedSystem[b.typ]
		}
		typ, res := kinds[b.typ](patient, map[string]any{"coding": []any{map[string]any{"system": system, "code": fmt.Sprintf("c%d", i)}}})
		if i < b.valid {
			res["identifier"] = []any{map[string]any{"system": "urn:source:" + org, "value": fmt.Sprintf("%s-%d", b.typ, i)}}
		}
		res["resourceType"] = typ
		if _, err := svc.Create(t.Context(), resource.Caller{Writer: org}, typ, res); err != nil {
			t.Fatalf("deposit %s %s: %v", org, typ, err)
		}
	}
}

// TestLevels: providers depositing 0, 1, 4, 5 and 6+ record types get
// none, bronze, bronze, silver and gold, with the lab and radiology marks;
// each type's count and valid and coded shares are right; a type whose
// every record fails the profile does not count; another provider's
// deposits — even a record first deposited by this one and since replaced
// by the other — are never counted; a period before the deposits finds
// nothing.
func TestLevels(t *testing.T) {
	cases := []struct {
		org     string
		batches []batch
		level   Level
		marks   []Mark
	}{
		{"none", nil, None, nil},
		{"one", []batch{{profile.Allergy, 3, 2, 1}}, Bronze, nil},
		{"four", []batch{{profile.Allergy, 1, 1, 1}, {profile.Immunisation, 2, 2, 0}, {profile.Diagnosis, 1, 1, 1}, {profile.Medication, 1, 1, 1}}, Bronze, nil},
		{"five", []batch{{profile.Allergy, 1, 1, 1}, {profile.Immunisation, 1, 1, 1}, {profile.Diagnosis, 1, 1, 1},
			{profile.Medication, 1, 1, 1}, {profile.LabReport, 4, 3, 2}}, Silver, []Mark{MarkLab}},
		{"fiveonebad", []batch{{profile.Allergy, 1, 1, 1}, {profile.Immunisation, 1, 1, 1}, {profile.Diagnosis, 1, 1, 1},
			{profile.Medication, 1, 1, 1}, {profile.Referral, 2, 0, 2}}, Bronze, nil},
		{"six", []batch{{profile.Allergy, 1, 1, 1}, {profile.Immunisation, 1, 1, 1}, {profile.Diagnosis, 1, 1, 1},
			{profile.Medication, 1, 1, 1}, {profile.ProcedureRecord, 1, 1, 0}, {profile.RadiologyImage, 2, 1, 2}}, Gold, []Mark{MarkRadiology}},
		{"all", []batch{{profile.Allergy, 1, 1, 1}, {profile.EncounterRecord, 1, 1, 1}, {profile.Medication, 1, 1, 1},
			{profile.Immunisation, 1, 1, 1}, {profile.Referral, 1, 1, 1}, {profile.Diagnosis, 1, 1, 1}, {profile.ProcedureRecord, 1, 1, 1},
			{profile.ObservationRecord, 5, 5, 4}, {profile.LabReport, 1, 1, 1}, {profile.RadiologyReport, 1, 1, 1},
			{profile.RadiologyImage, 1, 1, 1}}, Gold, []Mark{MarkLab, MarkRadiology}},
	}
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			p := platformtest.Open(t, b.Open(t))
			if _, err := p.Service.Create(t.Context(), resource.Caller{Writer: "operator"}, "Patient", map[string]any{"resourceType": "Patient"}); err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				for _, bt := range c.batches {
					deposit(t, p.Service, "Organization/"+c.org, "p1", bt)
				}
			}
			// A record "one" deposited and "six" then replaced counts
			// for "six" only (the writer of its current version); the
			// local Patient "six" keeps is no record type.
			s := New(p.Service, testChecker{})
			s.page = 3 // several pages per provider
			v, err := p.Service.Create(t.Context(), resource.Caller{Writer: "Organization/one"}, "Procedure",
				map[string]any{"resourceType": "Procedure", "status": "completed", "subject": ref("p1")})
			if err != nil {
				t.Fatal(err)
			}
			proc, _ := decode(v.Body)
			proc["identifier"] = []any{map[string]any{"system": "urn:source:six", "value": "taken-over"}}
			if _, _, err := p.Service.Update(t.Context(), resource.Caller{Writer: "Organization/six"}, "Procedure", v.ID, proc, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Service.Create(t.Context(), resource.Caller{Writer: "Organization/six"}, "Patient", map[string]any{"resourceType": "Patient"}); err != nil {
				t.Fatal(err)
			}
			period, err := ParsePeriod("2000-01-01", "2999-12-31", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				a, err := s.Assess(t.Context(), "Organization/"+c.org, period)
				if err != nil {
					t.Fatal(err)
				}
				if a.Level != c.level || !slices.Equal(a.Marks, c.marks) {
					t.Errorf("%s: level %s, marks %v; want %s, %v", c.org, a.Level, a.Marks, c.level, c.marks)
				}
				want := map[profile.RecordType]TypeScore{}
				for _, bt := range c.batches {
					want[bt.typ] = TypeScore{Type: bt.typ, Count: int64(bt.n), Valid: int64(bt.valid), Coded: int64(bt.coded)}
				}
				if c.org == "six" {
					want[profile.ProcedureRecord] = TypeScore{Type: profile.ProcedureRecord, Count: 2, Valid: 2, Coded: 0}
				}
				if len(a.Types) != len(want) {
					t.Errorf("%s: %d types %v; want %d", c.org, len(a.Types), a.Types, len(want))
				}
				for _, got := range a.Types {
					if got != want[got.Type] {
						t.Errorf("%s %s: %+v; want %+v", c.org, got.Type, got, want[got.Type])
					}
				}
			}
			// Shares, as numbers and in the MeasureReport.
			a, err := s.Assess(t.Context(), "Organization/five", period)
			if err != nil {
				t.Fatal(err)
			}
			lab := a.Types[slices.IndexFunc(a.Types, func(t TypeScore) bool { return t.Type == profile.LabReport })]
			if lab.ValidShare() != 0.75 || lab.CodedShare() != 0.5 {
				t.Errorf("lab shares: valid %v coded %v; want 0.75 and 0.5", lab.ValidShare(), lab.CodedShare())
			}
			a, err = s.Assess(t.Context(), "Organization/one", period)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Types[0]; got.ValidShare() != 0.6667 || got.CodedShare() != 0.3333 {
				t.Errorf("allergy shares: valid %v coded %v; want 0.6667 and 0.3333", got.ValidShare(), got.CodedShare())
			}
			// Before the deposits: nothing.
			past, err := ParsePeriod("2020-01-01", "2020-12-31", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if a, err := s.Assess(t.Context(), "Organization/all", past); err != nil || a.Level != None || len(a.Types) != 0 {
				t.Errorf("2020: %+v, %v; want nothing", a, err)
			}
		})
	}
}

// TestLevelFor: the level by number of types counted, at every boundary.
func TestLevelFor(t *testing.T) {
	for n, want := range map[int]Level{-1: None, 0: None, 1: Bronze, 2: Bronze, 3: Bronze, 4: Bronze, 5: Silver, 6: Gold, 11: Gold, 14: Gold} {
		if got := LevelFor(n); got != want {
			t.Errorf("LevelFor(%d) = %s; want %s", n, got, want)
		}
	}
}

// TestWriteTable: the operator's table names the provider, period, level
// and marks, and each type's figures; a type that does not count is
// starred.
func TestWriteTable(t *testing.T) {
	a := Assessment{Org: "Organization/lab", Period: Period{Start: "2026-01-01", End: "2026-12-31"},
		Types: []TypeScore{{Type: profile.LabReport, Count: 3, Valid: 3, Coded: 2}, {Type: profile.ObservationRecord, Count: 1, Valid: 0, Coded: 1}}}
	a.Level, a.Marks = LevelFor(len(a.Counted())), marksFor(a.Counted())
	var b strings.Builder
	if err := a.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := `Organization/lab  2026-01-01 to 2026-12-31
level: bronze (record types counted: 1), marks: lab

record type    deposited  valid   coded
lab-report     3          100.0%  66.7%
observation *  1          0.0%    100.0%
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}
