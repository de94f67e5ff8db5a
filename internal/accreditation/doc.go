// Package accreditation is connectivity accreditation: for a healthcare
// provider and a period, which sharable record types it deposited, how
// many of each and how well — the share valid against the eHealth+
// profile and the share coded from the expected code systems — and the
// level this earns (none, bronze, silver, gold) with the marks for
// laboratory and radiology. Each assessment is kept as a FHIR
// MeasureReport, so a provider's accreditation has a history.
//
// What a provider deposited is what it wrote: the resources whose current
// version's writer is the provider (store.Access.Writers), last updated in
// the period, read page by page under that predicate and judged one by
// one by a Checker (the eHealth+ profiles).
package accreditation
