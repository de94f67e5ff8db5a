package accreditation

import (
	"context"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/profile"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// testChecker is a small real checker: it classifies a resource by its
// type and category, finds it invalid without a source-system identifier
// (an information issue, no profile declared, leaves it valid), and coded
// when its code has a coding from the expected systems of its type.
type testChecker struct{}

var expected = map[string][]string{
	"Observation":        {"http://loinc.org"},
	"DiagnosticReport":   {"http://loinc.org"},
	"Condition":          {"http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10"},
	"AllergyIntolerance": {"http://snomed.info/sct"},
	"Immunization":       {"http://hl7.org/fhir/sid/cvx"},
	"Procedure":          {"http://snomed.info/sct"},
	"MedicationRequest":  {"http://www.nlm.nih.gov/research/umls/rxnorm"},
	"ServiceRequest":     {"http://snomed.info/sct"},
	"ImagingStudy":       {"http://dicom.nema.org/resources/ontology/DCM"},
	"Encounter":          {"http://snomed.info/sct"},
}

func (testChecker) Check(_ context.Context, res map[string]any) (profile.Report, error) {
	typ, _ := res["resourceType"].(string)
	var rep profile.Report
	switch typ {
	case "AllergyIntolerance":
		rep.RecordType = profile.Allergy
	case "Encounter":
		rep.RecordType = profile.EncounterRecord
	case "MedicationRequest":
		rep.RecordType = profile.Medication
	case "Immunization":
		rep.RecordType = profile.Immunisation
	case "ServiceRequest":
		rep.RecordType = profile.Referral
	case "Condition":
		rep.RecordType = profile.Diagnosis
	case "Procedure":
		rep.RecordType = profile.ProcedureRecord
	case "ImagingStudy":
		rep.RecordType = profile.RadiologyImage
	case "Observation":
		rep.RecordType = profile.ObservationRecord
		if category(res) == "laboratory" {
			rep.RecordType = profile.LabReport
		}
	case "DiagnosticReport":
		rep.RecordType = profile.LabReport
		if category(res) == "RAD" {
			rep.RecordType = profile.RadiologyReport
		}
	default:
		return rep, nil
	}
	rep.Profile = "https://ehealth.hk/fhir/StructureDefinition/test-" + string(rep.RecordType)
	if ids, _ := res["identifier"].([]any); len(ids) == 0 {
		rep.Issues = append(rep.Issues, outcome.Issue{Severity: outcome.SeverityError, Code: "required",
			Message: "a deposited record carries its source-system identifier", Expression: typ + ".identifier"})
	}
	if _, ok := res["meta"].(map[string]any)["profile"]; !ok {
		rep.Issues = append(rep.Issues, outcome.Issue{Severity: outcome.SeverityInformation, Code: "informational",
			Message: "no meta.profile declared", Expression: typ + ".meta"})
	}
	rep.Coded = coded(typ, res)
	return rep, nil
}

// category is the first category code of res.
func category(res map[string]any) string {
	cats, _ := res["category"].([]any)
	for _, c := range cats {
		cc, _ := c.(map[string]any)
		codings, _ := cc["coding"].([]any)
		for _, cd := range codings {
			m, _ := cd.(map[string]any)
			if s, _ := m["code"].(string); s != "" {
				return s
			}
		}
	}
	return ""
}

// coded reports whether res's code (vaccineCode, modality) has a coding of
// an expected system.
func coded(typ string, res map[string]any) bool {
	var codings []any
	switch typ {
	case "Immunization":
		cc, _ := res["vaccineCode"].(map[string]any)
		codings, _ = cc["coding"].([]any)
	case "ImagingStudy":
		codings, _ = res["modality"].([]any)
	case "MedicationRequest":
		cc, _ := res["medicationCodeableConcept"].(map[string]any)
		codings, _ = cc["coding"].([]any)
	case "Encounter":
		types, _ := res["type"].([]any)
		for _, t := range types {
			cc, _ := t.(map[string]any)
			more, _ := cc["coding"].([]any)
			codings = append(codings, more...)
		}
	default:
		cc, _ := res["code"].(map[string]any)
		codings, _ = cc["coding"].([]any)
	}
	for _, cd := range codings {
		m, _ := cd.(map[string]any)
		for _, sys := range expected[typ] {
			if m["system"] == sys {
				return true
			}
		}
	}
	return false
}

// decode parses a stored body.
func decode(body []byte) (map[string]any, error) { return fhir.Parse(body) }
