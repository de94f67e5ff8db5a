package profile

//go:generate go run ./gen -defs ../../../shared/fhir/definitions
