// Package oracle is the search oracle: a brute-force evaluator of FHIR R4
// search (https://hl7.org/fhir/R4/search.html) and a property test that
// holds the indexed search of both store drivers to it.
//
// The evaluator is deliberately simple and shares nothing with the
// indexer: it evaluates each parameter's FHIRPath expression on every
// resource with the fhirpath engine and applies the matching rules of the
// specification, written out plainly here, to what it finds. It imports no
// extraction, matching or SQL code (package search is used by the test only
// for the parameter registry: names, types and expressions).
//
// The choices the specification leaves open follow internal/search/doc.go:
// dates without a zone are read in UTC; a number's precision is its
// decimal places (100 is [99.5, 100.5)); gt, lt, ge and le on numbers
// compare with the value itself; ap on numbers widens the value by 10%.
// Quantities with a unit are compared in a common unit when both units are
// UCUM and commensurable, by a small table of the units in the sample
// (quantity.go), as the server's UCUM conversion does; otherwise as written.
// Location?near measures great-circle distances on a sphere of the IUGG
// mean radius, km by default and 50 km without a distance (near.go).
package oracle
