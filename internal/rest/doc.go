// Package rest is the FHIR R4 HTTP API (https://hl7.org/fhir/R4/http.html):
// one file per interaction, each parsing the request, calling the resource
// service and writing the answer. Errors become OperationOutcomes in exactly
// one place (writeError); panics are recovered and logged with a request id.
package rest
