// Package conformance keeps the server's caches of conformance resources
// in step with what is stored: CodeSystems, ValueSets and ConceptMaps
// written through the FHIR API feed the terminology service (and, with
// search, SearchParameters feed the parameter registry). It loads them at
// start-up, follows every committed write, and offers the terminology
// operations ($lookup, $expand …) to the HTTP API.
package conformance
