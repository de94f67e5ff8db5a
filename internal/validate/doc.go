// Package validate is full validation of a resource on write: the
// structural checks and required bindings of package fhir (with the
// terminology tables as code checker) today; FHIRPath invariants and
// profiles join as further rule sets (see Validator).
//
// Every issue is collected with the FHIRPath of the element at fault before
// deciding, as in http://hl7.org/fhir/R4/validation.html, so a client sees
// all its mistakes at once.
package validate
