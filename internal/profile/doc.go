// Package profile is the eHealth+ implementation guide: the
// StructureDefinitions of the sharable record types and the registry
// resources kept in the repository, their snapshots generated from the
// differentials by this package's own code, and validation of a resource
// against them (cardinality, fixed and pattern values, slicing, bindings
// through the terminology service, mustSupport reported), with the code
// systems expected per element kept as configuration.
package profile
