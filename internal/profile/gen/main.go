// Command gen writes the snapshots of the eHealth+ implementation guide:
// it reads the differentials in ../ig (StructureDefinitions with derivation
// constraint) and the official R4 definitions of the resources and
// datatypes, and writes each profile with its full snapshot to ../snapshot,
// which package profile embeds.
//
// A snapshot starts as the base definition's snapshot; each differential
// element, in order, is merged onto the element with its id (min, max,
// types, fixed and pattern values, binding, constraints added to the
// base's, mustSupport, slicing, texts). An element not yet there is made:
// a slice is a copy of its sliced element inserted after the sliced
// element's subtree (its children and earlier slices); a child of an
// element of a complex datatype comes from expanding the datatype's
// elements under it. See
// https://hl7.org/fhir/R4/profiling.html#snapshot and
// https://hl7.org/fhir/R4/elementdefinition.html#slicing.
//
// Run it with `go generate ./internal/profile` from the repository root.
package main

import (
	"flag"
	"log"
)

func main() {
	defs := flag.String("defs", "../../../shared/fhir/definitions", "directory holding the official definitions (*.json.gz)")
	ig := flag.String("ig", "ig", "directory holding the differentials")
	out := flag.String("out", "snapshot", "directory the snapshots are written to")
	flag.Parse()
	if err := run(*defs, *ig, *out); err != nil {
		log.Fatal(err)
	}
}
