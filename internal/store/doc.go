// Package store is the storage contract of the FHIR server: immutable
// resource versions with a current-version pointer, history, and
// transactions. Drivers live in store/sqlite and store/postgres; the shared
// conformance suite in store/storetest runs against both.
//
// Every version records the server-side writer (which client or organisation
// wrote it, not the client-writable meta.source) and the patient-compartment
// key of the row, so a PostgreSQL cluster sharded by patient can hold it.
package store
