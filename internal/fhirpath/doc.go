// Package fhirpath is the FHIRPath engine of eHealth+: normative FHIRPath
// (https://hl7.org/fhirpath/N1/) with the FHIR R4 additions
// (https://hl7.org/fhir/R4/fhirpath.html), evaluated over the generic JSON
// model of internal/fhir (map[string]any, []any, json.Number, string, bool).
//
// Compile parses an expression once into an immutable Expression that many
// goroutines may evaluate at the same time; Cache memoises Compile for
// ad-hoc expressions. Evaluate runs an expression against a resource (or
// nothing) and returns a Collection of Values. Each Value knows its type: a
// FHIR type taken from the R4 definitions when it was reached by navigating a
// resource (Patient.birthDate is a FHIR.date, Observation.value a
// FHIR.Quantity when the JSON key is valueQuantity), or a System type for
// literals and computed results.
//
// Everything the evaluation needs from outside — %resource, %rootResource,
// environment variables, a reference resolver, value-set membership, the
// clock — arrives in Options, so an Expression holds no mutable state.
//
// The engine is strict where the specification lets an implementation with
// type information be strict: navigating to an element that the R4 model
// does not define (Observation.valueQuantity, Patient.given1) is an error,
// as is comparing values of incompatible types. Decimal arithmetic is exact
// (math/big), quantities convert between common UCUM units, and date/time
// comparisons of different precision return empty when undecidable.
//
// Choices made where the specification leaves room, following the official
// R4 test suite: as() and ofType() cast FHIR primitives only to their own
// type (a code is() a string but is not cast to one), the as() function
// rejects several items while the "x as T" operator filters them (the R4
// search-parameter expressions rely on that); children() and descendants()
// are unordered only when Options.CheckOrderedFunctions asks for it.
//
// Nesting depth, collection sizes, string lengths and decimal magnitudes are
// bounded so hostile input cannot exhaust the stack, memory or time, and the
// ctx given to Evaluate cancels long evaluations.
package fhirpath
