package ips

import "slices"

// LOINC is the system of the document and section codes.
const LOINC = "http://loinc.org"

// AbsentUnknown is the IPS code system of absent and unknown data (IPS
// STU1; STU2 codes the same statements in SNOMED CT): a Condition,
// AllergyIntolerance or MedicationStatement coded no-known-problems,
// no-known-allergies or no-known-medications states that the patient has
// none. Such a record is an entry of its section like any other; the
// summary words its codes in both languages.
const AbsentUnknown = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"

// section is one kind of IPS section
// (http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips):
// its LOINC code, the resource types it lists, and whether the IPS
// requires it (then it is present even when empty, with an emptyReason).
type section struct {
	Code     string // LOINC
	Display  string // LOINC display
	Types    []string
	Required bool
}

// sections are the sections built (the profile's slices sectionProblems,
// sectionAllergies, sectionMedications, sectionImmunizations,
// sectionResults, sectionProceduresHx, sectionMedicalDevices,
// sectionVitalSigns, sectionPastProblems, sectionPlanOfCare,
// sectionAlerts, sectionSocialHistory, sectionPregnancyHx), in the order
// they appear: the three required, then the recommended and optional ones
// the platform holds, each only when it has entries.
var sections = []section{
	{"11450-4", "Problem list - Reported", []string{"Condition"}, true},
	{"48765-2", "Allergies and adverse reactions Document", []string{"AllergyIntolerance"}, true},
	{"10160-0", "History of Medication use Narrative", []string{"MedicationStatement", "MedicationRequest"}, true},
	{"11369-6", "History of Immunization note", []string{"Immunization"}, false},
	{"30954-2", "Relevant diagnostic tests/laboratory data note", []string{"Observation", "DiagnosticReport"}, false},
	{"47519-4", "History of Procedures Document", []string{"Procedure"}, false},
	{"46264-8", "History of medical device use", []string{"DeviceUseStatement"}, false},
	{"8716-3", "Vital signs note", []string{"Observation"}, false},
	{"11348-0", "History of Past illness note", []string{"Condition"}, false},
	{"18776-5", "Plan of care note", []string{"CarePlan", "ImmunizationRecommendation"}, false},
	{"104605-1", "Alert", []string{"Flag"}, false},
	{"29762-2", "Social history note", []string{"Observation"}, false},
	{"10162-6", "History of pregnancies Narrative", []string{"Observation"}, false},
}

// recordTypes are the resource types a summary reads, once each.
func recordTypes() []string {
	var out []string
	for _, s := range sections {
		for _, t := range s.Types {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// sectionOf is the LOINC code of the section res belongs in, "" for
// none: a record entered in error, a plan no longer in force, an
// observation of a kind no section lists.
func sectionOf(res map[string]any) string {
	typ, _ := res["resourceType"].(string)
	status, _ := res["status"].(string)
	if status == "entered-in-error" {
		return ""
	}
	switch typ {
	case "Condition":
		return conditionSection(res)
	case "AllergyIntolerance":
		if codeIn(res["verificationStatus"], "entered-in-error") {
			return ""
		}
		return "48765-2"
	case "MedicationStatement":
		return "10160-0"
	case "MedicationRequest":
		if status == "cancelled" || status == "draft" {
			return ""
		}
		return "10160-0"
	case "Immunization":
		return "11369-6"
	case "DiagnosticReport":
		if status == "cancelled" {
			return ""
		}
		return "30954-2"
	case "Observation":
		if status == "cancelled" {
			return ""
		}
		return observationSection(res)
	case "Procedure":
		return "47519-4"
	case "DeviceUseStatement":
		return "46264-8"
	case "CarePlan":
		if status == "completed" || status == "revoked" {
			return ""
		}
		return "18776-5"
	case "ImmunizationRecommendation":
		return "18776-5"
	case "Flag":
		if status != "active" {
			return ""
		}
		return "104605-1"
	}
	return ""
}

// conditionSection puts a current problem in the problem list and a
// resolved, inactive or remitted one in the history of past illness.
func conditionSection(res map[string]any) string {
	if codeIn(res["verificationStatus"], "entered-in-error") {
		return ""
	}
	if codeIn(res["clinicalStatus"], "inactive", "remission", "resolved") {
		return "11348-0"
	}
	return "11450-4"
}

// vitalSignCodes are the LOINC codes of the R4 vital signs profiles
// (https://hl7.org/fhir/R4/observation-vitalsigns.html), so a vital sign
// deposited without its category still lands in the vital signs section.
var vitalSignCodes = []string{
	"85353-1", "9279-1", "8867-4", "2708-6", "59408-5", "8310-5", "8302-2", "9843-4",
	"29463-7", "39156-5", "85354-9", "8480-6", "8462-4", "8478-0",
}

// pregnancyCodes are the LOINC codes of the IPS pregnancy status, outcome
// and expected delivery date profiles.
var pregnancyCodes = []string{
	"82810-3", "11778-8", "11779-6", "11780-4",
	"11636-8", "11637-6", "11638-4", "11639-2", "11640-0", "11612-9", "11613-7", "11614-5", "33065-4",
}

// observationSection sorts an Observation by its category (laboratory
// and imaging results, vital signs, social history), then by the codes of
// vital signs and pregnancy.
func observationSection(res map[string]any) string {
	cats, _ := res["category"].([]any)
	for _, c := range cats {
		switch {
		case codeIn(c, "laboratory", "imaging"):
			return "30954-2"
		case codeIn(c, "vital-signs"):
			return "8716-3"
		case codeIn(c, "social-history"):
			return "29762-2"
		}
	}
	switch {
	case codedAs(res["code"], LOINC, pregnancyCodes...):
		return "10162-6"
	case codedAs(res["code"], LOINC, vitalSignCodes...):
		return "8716-3"
	}
	return ""
}

// codeIn reports whether the CodeableConcept cc has a coding with one of
// codes (whatever its system: status code systems are fixed by binding).
func codeIn(cc any, codes ...string) bool {
	m, _ := cc.(map[string]any)
	list, _ := m["coding"].([]any)
	for _, c := range list {
		cm, _ := c.(map[string]any)
		if code, _ := cm["code"].(string); slices.Contains(codes, code) {
			return true
		}
	}
	return false
}

// codedAs reports whether cc has a coding of system with one of codes.
func codedAs(cc any, system string, codes ...string) bool {
	m, _ := cc.(map[string]any)
	list, _ := m["coding"].([]any)
	for _, c := range list {
		cm, _ := c.(map[string]any)
		code, _ := cm["code"].(string)
		if cm["system"] == system && slices.Contains(codes, code) {
			return true
		}
	}
	return false
}

// refOf is "Type/id" of a resource.
func refOf(res map[string]any) string {
	typ, _ := res["resourceType"].(string)
	id, _ := res["id"].(string)
	return typ + "/" + id
}
