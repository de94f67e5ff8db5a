package hl7v2

import (
	"net/url"
	"strings"
)

// Systems used in the conversion.
const (
	SystemLOINC          = "http://loinc.org"
	SystemUCUM           = "http://unitsofmeasure.org"
	SystemInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	SystemV2Prefix       = "http://terminology.hl7.org/CodeSystem/v2-" // + table number, e.g. v2-0078
	// DefaultLocalBase is the default Options.LocalBase.
	DefaultLocalBase = "https://ehealth.hk/fhir/hl7v2/"
)

// codingSystems maps the name of coding system (HL7 table 0396, the third
// component of CE/CWE) to its FHIR system URI.
var codingSystems = map[string]string{
	"LN":     SystemLOINC,
	"LOINC":  SystemLOINC,
	"SCT":    "http://snomed.info/sct",
	"SNM":    "http://snomed.info/sct",
	"SNOMED": "http://snomed.info/sct",
	"UCUM":   SystemUCUM,
	"I9":     "http://hl7.org/fhir/sid/icd-9-cm",
	"I9C":    "http://hl7.org/fhir/sid/icd-9-cm",
	"I9CDX":  "http://hl7.org/fhir/sid/icd-9-cm",
	"I10":    "http://hl7.org/fhir/sid/icd-10",
	"I10C":   "http://hl7.org/fhir/sid/icd-10-cm",
	"ICD10":  "http://hl7.org/fhir/sid/icd-10",
	"CVX":    "http://hl7.org/fhir/sid/cvx",
	"NDC":    "http://hl7.org/fhir/sid/ndc",
	"RXNORM": "http://www.nlm.nih.gov/research/umls/rxnorm",
	"RXN":    "http://www.nlm.nih.gov/research/umls/rxnorm",
	"ATC":    "http://www.whocc.no/atc",
}

// codingSystem returns the FHIR system of a table 0396 name: the known
// ones above, HL7nnnn as the v2 table's code system, anything else (local
// codes, 99zzz, L) under the sender's local base.
func (c *converter) codingSystem(name string) string {
	if name == "" {
		return ""
	}
	if s, ok := c.opts.CodingSystems[name]; ok {
		return s
	}
	if s, ok := codingSystems[strings.ToUpper(name)]; ok {
		return s
	}
	if t, ok := strings.CutPrefix(strings.ToUpper(name), "HL7"); ok && len(t) == 4 && isDigits(t) {
		return SystemV2Prefix + t
	}
	return c.local("cs", name)
}

// local is a system URI for a name the sender defines: base + kind + the
// sending facility + the name.
func (c *converter) local(kind, name string) string {
	return c.opts.LocalBase + kind + "/" + url.PathEscape(c.sender) + "/" + url.PathEscape(name)
}

// authoritySystem is the identifier system of an assigning authority (HD:
// namespace & universal id & universal id type): an ISO OID as urn:oid:, a
// URI as is, a namespace through Options.Authorities or under the local
// base; fallback names the kind of identifier when there is no authority.
func (c *converter) authoritySystem(ns, uid, uidType, fallback string) string {
	switch strings.ToUpper(uidType) {
	case "ISO":
		if uid != "" {
			return "urn:oid:" + uid
		}
	case "URI":
		if uid != "" {
			return uid
		}
	}
	if ns == "" {
		ns = uid
	}
	if ns == "" {
		return c.local("id", fallback)
	}
	if s, ok := c.opts.Authorities[ns]; ok {
		return s
	}
	return c.local("id", ns)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
