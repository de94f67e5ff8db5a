// Package bench is the search performance harness behind `ehealth bench
// search` (issue 5): it grows a database to a target size by loading a
// Synthea sample repeatedly, measuring bulk throughput and index rows per
// resource, then drives a fixed mix of FHIR searches from concurrent
// clients and reports throughput and latency percentiles per query type.
//
// The package sits beside the platform rather than on top of it: it imports
// none of ours, so the command wires it to the resource service, the bulk
// loader and the HTTP API through three functions ([Config].Load,
// [Config].Search, [Config].HTTP) and a database/sql handle for the few
// read-only queries that count rows and pick query parameters from the data.
package bench
