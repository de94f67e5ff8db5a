package profile

import "github.com/ehealthplus/ehealth/internal/outcome"

// RecordType is one kind of sharable record a provider deposits (the 11
// sharable record types of the eHealth+ record, and the further kinds the
// record holds), as counted by connectivity accreditation.
type RecordType string

// The record types. The first eleven are the sharable record types.
const (
	Allergy            RecordType = "allergy"             // AllergyIntolerance
	EncounterRecord    RecordType = "encounter"           // Encounter, Appointment
	Medication         RecordType = "medication"          // MedicationRequest, MedicationDispense, MedicationStatement
	Immunisation       RecordType = "immunisation"        // Immunization
	MedicalCertificate RecordType = "medical-certificate" // DocumentReference/Composition typed as a certificate
	ObservationRecord  RecordType = "observation"         // Observation: vital signs and lifestyle
	Referral           RecordType = "referral"            // ServiceRequest
	LabReport          RecordType = "lab-report"          // DiagnosticReport + Observation, laboratory
	RadiologyReport    RecordType = "radiology-report"    // DiagnosticReport, imaging
	CMPrescription     RecordType = "cm-prescription"     // MedicationRequest with Chinese-medicine herbal items
	RadiologyImage     RecordType = "radiology-image"     // ImagingStudy (+ DICOM)
	Diagnosis          RecordType = "diagnosis"           // Condition
	ProcedureRecord    RecordType = "procedure"           // Procedure
	ClinicalNote       RecordType = "clinical-note"       // DocumentReference/Composition: notes and summaries
)

// Report is what checking one resource against the eHealth+ profile that
// applies to it found.
type Report struct {
	// RecordType is the kind of record the resource is; "" when it is none
	// (a Patient, an Organization …).
	RecordType RecordType
	// Profile is the canonical URL of the profile checked against; "" when
	// none applies.
	Profile string
	// Issues are every problem found, each with the element's path and the
	// profile rule in its diagnostics: errors make the resource invalid;
	// warnings and information (an absent mustSupport element) do not.
	Issues []outcome.Issue
	// Coded is true when every coded element for which the configuration
	// expects code systems uses one of them.
	Coded bool
}

// Valid reports whether the resource conforms: no issue is an error or
// worse.
func (r Report) Valid() bool {
	for _, is := range r.Issues {
		if is.Severity == outcome.SeverityError || is.Severity == outcome.SeverityFatal {
			return false
		}
	}
	return true
}

// Err returns nil when the resource conforms, else an *outcome.Error of
// kind Unprocessable (422: the resource is well-formed FHIR that breaks a
// profile rule) holding the issues of other checks given (base validation's
// warnings, say) and then the report's.
func (r Report) Err(others ...outcome.Issue) error {
	if r.Valid() {
		return nil
	}
	return &outcome.Error{Kind: outcome.Unprocessable, Op: "check against " + r.Profile, Issues: append(others, r.Issues...)}
}
