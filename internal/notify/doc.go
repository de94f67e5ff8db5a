// Package notify tells citizens what happened to their record. A notice is
// a FHIR Communication written in status "preparation" in the same
// transaction as the event it tells of (a consent given or revoked, a
// first access by a provider, an emergency or restricted access): that is
// the outbox. A delivery worker (Worker, on river) sends each through the
// channels the recipient chose (Channel: SMS, Email, App; Demo in demo
// mode) and records the outcome on the Communication: completed, or
// stopped with the reason when every retry failed. Citizens choose their
// channels with Patient/{id}/$notice-channels (Choices).
package notify
