// Package notify tells citizens what happened to their record. A notice is
// a FHIR Communication written in status "preparation" in the same
// transaction as the event it tells of (a consent given or revoked, a
// first access by a provider, an emergency or restricted access): that is
// the outbox. A delivery worker sends each through the channels the
// recipient chose and records the outcome on the Communication.
package notify
