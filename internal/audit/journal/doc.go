// Package journal serves the audit journal to the people it concerns.
//
// Package audit writes the journal: one BALP AuditEvent per access, filed
// under the patient key of the record touched. This package reads it back
// for three audiences, deciding by who asks (resource.Caller.Who), never by
// scopes alone:
//
//   - AuditEvent read and search (events.go), ids "j-<seq>" (audit.EventID):
//     the operator sees every entry; a citizen the entries about themself —
//     every key of their record (registry.Compartments: the master, linked
//     providers' records and records merged into it, each also with its
//     restricted sub-key); a substitute decision maker the entries about
//     the citizen they act for (checked with registry.ActsFor, so the
//     authority ends at the 16th birthday); a provider's professionals and
//     systems the entries in which their own organisation is an agent.
//     Anything else answers exactly as a missing entry does. Pages run
//     newest first with a seq cursor; no total is given (counting a
//     filtered journal would cost as much as reading it).
//   - the citizen's access history, Patient/{id}/$access-history
//     (history.go): one plain-language line per access by someone else, in
//     English and Traditional Chinese, for the citizen, their SDM or the
//     operator.
//   - Patient/{id}/$report-access (report.go): the citizen reports an
//     access in their history; a Task for the accessing provider and the
//     operator, and the notice confirming it, in one transaction.
//
// Journal entries are never written here: the journal is append-only and
// its AuditEvents read-only to everyone (the API answers writes with 405).
package journal
