// Package hl7v2 is the HL7 version 2 intake for lab results: a parser of
// ER7 (pipe-and-hat) messages with their escape sequences, the conversion
// of ORU^R01 to a FHIR R4 transaction Bundle (a DiagnosticReport per OBR,
// an Observation per OBX, keyed on source-system identifiers so a re-sent
// message updates instead of duplicating), original-mode acknowledgments
// (AA, AE, AR with ERR), MLLP framing and an MLLP server.
//
// The field-by-field mapping is in MAPPING.md beside this file. The
// package knows nothing of storage: Intake takes a Deposit function, which
// the command wires to the resource service.
//
// References: HL7 v2.5.1 chapter 2 (control: encoding rules §2.5–2.7,
// acknowledgments §2.9, ERR §2.15.5), chapter 7 (observation reporting),
// the MLLP transport (HL7 v2 Transport Specification, MLLP release 2) and
// the HL7 v2-to-FHIR mapping (https://build.fhir.org/ig/HL7/v2-to-fhir/),
// whose choices this package follows where it makes one.
package hl7v2
