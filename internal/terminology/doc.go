// Package terminology holds the code systems and value sets the server
// knows (http://hl7.org/fhir/R4/terminology-module.html) and answers the
// questions validation asks on every write: is this code in that value set,
// and what is its display.
//
// The FHIR R4 definitions are turned into a compact table by the generator
// in ./gen and embedded in the binary; Load decodes it in a few
// milliseconds. The model is the one $lookup, $validate-code, $expand and
// $subsumes will need: code systems with their concepts, hierarchy
// (parents and children) and designations by language, and value sets with
// their expansion, or the reason they cannot be expanded (a value set that
// draws on SNOMED CT, LOINC, UCUM, MIME types and the like is "not
// enumerable": we know it exists but cannot list its codes).
package terminology

//go:generate go run ./gen -defs ../../../shared/fhir/definitions -out tables.gob.gz
