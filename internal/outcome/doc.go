// Package outcome is the platform's one error type: a fixed kind (each with
// its HTTP status), the operation that failed, the cause, and the FHIR issues
// with the FHIRPath of each element at fault. Exactly one function here turns
// an error into an OperationOutcome; the HTTP edge calls it.
//
// See https://hl7.org/fhir/R4/operationoutcome.html.
package outcome
