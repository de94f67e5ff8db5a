// Package search is the FHIR R4 search capability without its storage:
// the registry of search parameters, the parsing of a search query into a
// plan, the index rows extracted from resources, and an in-memory matcher
// that gives the reference semantics the SQL in the store drivers must
// agree with (https://hl7.org/fhir/R4/search.html).
//
// The pieces, in the order a request meets them:
//
//   - Registry (registry.go) holds every R4 SearchParameter, generated from
//     the official definitions by ./gen, plus custom SearchParameters added
//     at run time. Each Param carries the FHIRPath expression for one base
//     resource type; evaluating it is the fhirpath package's job.
//   - Parse (query.go) turns url.Values into a Query: typed clauses (AND of
//     ORs) with modifiers, prefixes and parsed values, chains, _has, and the
//     result controls (_sort, _count, _include, _summary, ...). Unknown
//     parameters are warnings, or errors in strict mode.
//   - Extract (extract.go) turns one element value found by a parameter's
//     expression into index Rows, the typed values a store writes to one
//     table per parameter type (see SCHEMA.md).
//   - Match (match.go) decides whether a resource's rows satisfy a clause.
//
// Value semantics live in one file per parameter type: date.go, number.go,
// text.go (string), token.go, reference.go, quantity.go with ucum.go, uri.go,
// fulltext.go (_text, _content) and near.go (Location.near, positions).
//
// Choices the spec leaves open, made here once:
//
//   - A date or time without a zone is read in the server's zone,
//     Options.Location, UTC by default.
//   - ap (approximately) widens the search value by 10% of its distance
//     from now for dates (at least the value's own precision) and by 10% of
//     the value for numbers and quantities.
//   - _count is capped at Options.MaxCount (DefaultMaxCount = 1000) with a
//     warning; it is never refused.
//   - Number precision follows significant figures: 100 is [99.5, 100.5),
//     100.00 is [99.995, 100.005), 1e2 is [50, 150) (one significant
//     figure; the spec's table says 95..105, which contradicts its own rule).
package search

//go:generate go run ./gen -defs ../../../shared/fhir/definitions -out definitions_gen.go
