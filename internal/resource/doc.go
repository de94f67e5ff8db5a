// Package resource holds the FHIR write and read services: a write is
// validated, stamped with its version and stored in one transaction; a read
// returns the version the caller asked for. Batch and transaction Bundles
// are processed here too, entry by entry through the same code paths.
//
// Public methods open the database transaction; private helpers take it.
// See https://hl7.org/fhir/R4/http.html for the interactions.
package resource
