// Package terminology is the terminology service
// (http://hl7.org/fhir/R4/terminology-module.html): code systems, value
// sets and concept maps, and the operations on them — $lookup,
// $validate-code, $subsumes, $expand and $translate — for validation
// (bindings), search (:in, :not-in, :above, :below), deposit profiles and
// the apps (displays in English and Traditional Chinese).
//
// The FHIR R4 code systems, value sets and concept maps are turned by the
// generator in ./gen into a compact table embedded in the binary; Load
// decodes it in a few tens of milliseconds into a Tables. Value sets are
// expanded from their compose when first used (never taken from a
// published expansion) and the expansion is cached: membership is a map
// lookup and a bit test. A Service adds the CodeSystem, ValueSet and
// ConceptMap resources stored on the server, versioned by url|version, on
// top of the built-in ones: each change builds a new immutable Tables and
// swaps it in atomically, keeping the cached expansions that do not depend
// on what changed, so readers never wait.
//
// Code systems we do not enumerate are recognised (External): UCUM units
// (checked by the parser in ./ucum), BCP 47 language tags, ISO 4217 and
// ISO 3166 codes are decided by syntax; MIME types, LOINC, SNOMED CT and the
// like are accepted with an informational issue.
//
// Local terminologies can be loaded from the simple CSV form (ReadCSV) or
// as FHIR resources (ReadFile), and mapped to international code systems
// with ConceptMaps.
package terminology

//go:generate go run ./gen -defs ../../../shared/fhir/definitions -out tables.gob.gz
