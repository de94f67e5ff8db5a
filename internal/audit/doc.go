// Package audit records who did what to whose health record, in a journal
// nobody can quietly change.
//
// Every interaction becomes an AuditEvent shaped by IHE Basic Audit Log
// Patterns (BALP, https://profiles.ihe.net/ITI/BALP/): the interaction, the
// patients whose data was returned or written, the professional with their
// PractitionerRole and provider, the client application, the purpose of
// use from the access token, emergency and restricted-record flags, this
// server as the source, and the outcome (event.go). The Auditor appends it
// to the store's audit journal (store.AuditLog) before the response is
// sent — Record for reads and searches, durable when it returns; RecordTx
// inside a write's transaction — and a failed append fails the call, so
// the caller refuses the request.
//
// The journal is a hash chain computed by the store as it appends:
//
//	hash(n) = SHA-256(hash(n-1) ‖ canonical(entry n)),  hash(0) = 32 zero bytes
//
// where canonical(entry) is the fixed layout documented at
// store.AuditCanonical (seq, time, patient keys and body, each with a fixed
// width or a length prefix). A chain alone shows an edited, removed or
// moved entry, but not a journal rewritten from some point on with every
// later hash recomputed. So every N entries or T seconds the Auditor signs
// a checkpoint — (seq, hash(seq), time) — with an Ed25519 key read from a
// file outside the database (checkpoint.go, key.go), stores it, and appends
// it to an export file a third party keeps. Verify walks the journal
// against the public key and the exported checkpoints and reports every
// problem with its seq (verify.go).
package audit
