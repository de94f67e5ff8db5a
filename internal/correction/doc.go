// Package correction is citizens' data correction requests
// (DOMAIN.md "Correction"): a citizen, or their substitute decision
// maker, flags a record in their record as wrong with a comment; the
// request goes to the provider that deposited that version of the record
// as a Task in its queue; the provider amends the record (a new version
// it writes, as any deposit) and resolves the request as amended, or
// answers or rejects it; the citizen reads the outcome on the Task and in
// a notice. The request itself never changes the record: nothing is
// edited silently.
package correction
