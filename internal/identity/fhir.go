package identity

import (
	"fmt"
	"strings"
)

// Identifier systems, one per kind. The Hong Kong ones are eHealth+ choices
// under the Immigration Department's domain (no official FHIR NamingSystem
// exists for them); the passport one is HL7's, one system per issuing
// country (http://terminology.hl7.org/NamingSystem/passportNumNS-USA etc.).
const (
	SystemHKID                 = "http://www.immd.gov.hk/hkid"
	SystemBirthCertificate     = "http://www.immd.gov.hk/birth-certificate"
	SystemExemptionCertificate = "http://www.immd.gov.hk/certificate-of-exemption"
	// SystemPassportPrefix is followed by the issuing country, as
	// http://hl7.org/fhir/sid/passport-GBR.
	SystemPassportPrefix = "http://hl7.org/fhir/sid/passport-"
)

// IdentifierTypeSystem is the code system of Identifier.type codes.
const IdentifierTypeSystem = "http://terminology.hl7.org/CodeSystem/v2-0203"

// kindInfo holds, per kind, the Identifier system, the v2-0203 type code and
// its display, and a text naming the document.
var kindInfo = map[Kind]struct{ system, code, display, text string }{
	HKID:             {SystemHKID, "NI", "National unique individual identifier", "Hong Kong Identity Card"},
	BirthCertificate: {SystemBirthCertificate, "BCT", "Birth Certificate", "Hong Kong Birth Certificate"},
	// (assumed) v2-0203 has no code for a certificate of exemption; PN
	// ("Person number") is the closest generic one.
	ExemptionCertificate: {SystemExemptionCertificate, "PN", "Person number", "Hong Kong Certificate of Exemption"},
	Passport:             {SystemPassportPrefix, "PPN", "Passport number", "Passport"},
}

// System returns the FHIR Identifier.system of the document.
func (d Document) System() string {
	info := kindInfo[d.Kind]
	if d.Kind == Passport {
		return info.system + d.Country
	}
	return info.system
}

// Identifier returns the document as a FHIR R4 Identifier, in the generic
// form of the fhir package (map[string]any and []any): use "official", a type
// coded in v2-0203 (NI, BCT, PN or PPN), the system of its kind (see the
// System constants) and the normalised number as value.
func (d Document) Identifier() map[string]any {
	info := kindInfo[d.Kind]
	return map[string]any{
		"use": "official",
		"type": map[string]any{
			"coding": []any{map[string]any{
				"system":  IdentifierTypeSystem,
				"code":    info.code,
				"display": info.display,
			}},
			"text": info.text,
		},
		"system": d.System(),
		"value":  d.Number,
	}
}

// FromIdentifier reads a FHIR Identifier made by Identifier (or by another
// system using the same Identifier.system) and validates its value as Parse
// does. Identifier.type is not consulted: the system decides the kind.
func FromIdentifier(id map[string]any) (Document, error) {
	return (*Parser)(nil).FromIdentifier(id)
}

// FromIdentifier is the package-level FromIdentifier with p's rules.
func (p *Parser) FromIdentifier(id map[string]any) (Document, error) {
	system, _ := id["system"].(string)
	value, ok := id["value"].(string)
	if !ok {
		return Document{}, fmt.Errorf("identity: identifier: %w: value is missing or not a string", ErrIdentifier)
	}
	if country, ok := strings.CutPrefix(system, SystemPassportPrefix); ok {
		return p.Parse(Passport, value, country)
	}
	for kind, info := range kindInfo {
		if kind != Passport && system == info.system {
			return p.Parse(kind, value, HongKong)
		}
	}
	return Document{}, fmt.Errorf("identity: identifier: %w: system %q", ErrIdentifier, system)
}
