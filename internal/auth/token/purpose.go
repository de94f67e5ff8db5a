package token

// purposesOfUse are the codes below PurposeOfUse in the R4
// code system http://terminology.hl7.org/CodeSystem/v3-ActReason (taken
// from ../shared/fhir/definitions/v3-codesystems.json), with their
// displays. The platform uses a handful (TREAT, ETREAT for break-glass,
// PATADMIN, PUBHLTH, HRESCH); the rest are accepted so an upstream system's
// purpose travels unchanged into audit.
var purposesOfUse = map[string]string{
	"HMARKT":      "healthcare marketing",
	"HOPERAT":     "healthcare operations",
	"CAREMGT":     "care management",
	"DONAT":       "donation",
	"FRAUD":       "fraud",
	"GOV":         "government",
	"HACCRED":     "health accreditation",
	"HCOMPL":      "health compliance",
	"HDECD":       "decedent",
	"HDIRECT":     "directory",
	"HDM":         "healthcare delivery management",
	"HLEGAL":      "legal",
	"HOUTCOMS":    "health outcome measure",
	"HPRGRP":      "health program reporting",
	"HQUALIMP":    "health quality improvement",
	"HSYSADMIN":   "health system administration",
	"LABELING":    "labeling",
	"METAMGT":     "metadata management",
	"MEMADMIN":    "member administration",
	"MILCDM":      "military command",
	"PATADMIN":    "patient administration",
	"PATSFTY":     "patient safety",
	"PERFMSR":     "performance measure",
	"RECORDMGT":   "records management",
	"SYSDEV":      "system development",
	"HTEST":       "test health data",
	"TRAIN":       "training",
	"HPAYMT":      "healthcare payment",
	"CLMATTCH":    "claim attachment",
	"COVAUTH":     "coverage authorization",
	"COVERAGE":    "coverage under policy or program",
	"ELIGDTRM":    "eligibility determination",
	"ELIGVER":     "eligibility verification",
	"ENROLLM":     "enrollment",
	"MILDCRG":     "military discharge",
	"REMITADV":    "remittance advice",
	"HRESCH":      "healthcare research",
	"BIORCH":      "biomedical research",
	"CLINTRCH":    "clinical trial research",
	"CLINTRCHNPC": "clinical trial research without patient care",
	"CLINTRCHPC":  "clinical trial research with patient care",
	"PRECLINTRCH": "preclinical trial research",
	"DSRCH":       "disease specific healthcare research",
	"POARCH":      "population origins or ancestry healthcare research",
	"TRANSRCH":    "translational healthcare research",
	"PATRQT":      "patient requested",
	"FAMRQT":      "family requested",
	"PWATRNY":     "power of attorney",
	"SUPNWK":      "support network",
	"PUBHLTH":     "public health",
	"DISASTER":    "disaster",
	"THREAT":      "threat",
	"TREAT":       "treatment",
	"CLINTRL":     "clinical trial",
	"COC":         "coordination of care",
	"ETREAT":      "Emergency Treatment",
	"BTG":         "break the glass",
	"ERTREAT":     "emergency room treatment",
	"POPHLTH":     "population health",
}

// IsPurposeOfUse reports whether code is a v3 PurposeOfUse code.
func IsPurposeOfUse(code string) bool {
	_, ok := purposesOfUse[code]
	return ok
}
