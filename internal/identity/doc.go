// Package identity parses, validates and normalises the identity documents
// that identify a healthcare recipient in eHealth+: the Hong Kong Identity
// Card (HKID), the Hong Kong birth certificate, the Certificate of Exemption
// and passports. It turns a document into a FHIR Identifier and back, redacts
// numbers for logs, and generates the 8-digit access key a citizen receives
// at registration.
//
// It is pure logic: no storage, no HTTP, no global mutable state. The master
// patient index and the registration service build on it.
//
// HKID check digit (also used by the number on a birth certificate): the
// letters A–Z count 10–35, a one-letter prefix is padded on the left with a
// space counting 36, the eight positions are weighted 9 down to 2, and the
// check digit is (11 − sum mod 11) mod 11, written "A" when it is 10.
//
// FHIR Identifier: https://hl7.org/fhir/R4/datatypes.html#Identifier;
// identifier types: http://terminology.hl7.org/CodeSystem/v2-0203.
package identity
