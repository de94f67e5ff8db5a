// Package bulkdata is FHIR Bulk Data: export
// (https://hl7.org/fhir/uv/bulkdata/STU2/export.html) and import
// (the SMART bulk-import ping-and-pull proposal).
//
// An export — system-, Patient- or Group-level — is written as NDJSON
// files, one set per resource type, by paging through the resource
// service's search as the caller, so the consent decision, the token's
// scopes and the role's view apply to an export exactly as to a search,
// inside the query, and memory stays flat whatever the size. Run is the
// streaming core (the `ehealth export` command calls it with a directory).
//
// Jobs runs exports and imports in the background for the asynchronous
// request pattern: the kick-off answers 202 with the status URL; the job's
// state lives in the keyed store (any server answers its status), an
// export's files in a directory of the server that ran it, with the keys
// of the patients each file holds beside it so that downloading a file is
// recorded in those patients' audit history. An import fetches each NDJSON
// input (http(s), or a file: URL below the configured directory) and loads
// it streaming through bulkload, every resource at its id, so an import
// run again writes nothing twice.
package bulkdata
