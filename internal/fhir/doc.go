// Package fhir is the FHIR R4 (4.0.1) model of eHealth+: the type tables
// generated from the official StructureDefinitions, the JSON codec and the
// structural validator. It imports nothing else from this repository.
//
//   - Model: LookupType, LookupElement, Primitive, ResourceTypes and
//     IsResourceType answer questions about resources, datatypes and their
//     elements (cardinality, types, isSummary, isModifier, bindings, regexes).
//     The tables live in tables_gen.go, written by ./gen from the definitions
//     in ../shared/fhir/definitions (go generate ./internal/fhir); they are
//     static data, and the lookup index is built once on first use.
//   - Codec: Parse turns FHIR JSON (https://hl7.org/fhir/R4/json.html) into a
//     generic tree of map[string]any, []any, json.Number, string, bool and
//     nil, rejecting duplicate keys; Marshal and MarshalIndent write it back
//     with resourceType first and elements in definition order.
//   - Validation: Validate reports every structural problem with its
//     FHIRPath; FHIRPath invariants and terminology beyond required bindings
//     belong to internal/validate.
//   - Reads: Summary and Elements shape resources for _summary and _elements.
//   - Compartments: PatientRefs and IsInPatientCompartment place resources in
//     patient compartments.
package fhir
