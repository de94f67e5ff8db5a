// Package bulkload loads FHIR data files into the server's database through
// the resource service, so every resource is validated and versioned as if
// a client had written it: transaction and batch Bundles as they are, other
// Bundles and NDJSON files as chunked transactions of updates (or creates,
// for resources without an id). Files are read as streams (NDJSON line by
// line; a Bundle is held whole, as a transaction must be) and loaded by
// several workers where the store allows concurrent writers.
package bulkload
