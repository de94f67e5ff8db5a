// Package consent decides who may see which citizens' records: it turns
// the platform's sharing consents and the providers' care relationships
// into access grants kept in the store (store.Grant), and a caller into
// the access predicate every read and search applies inside the query
// (store.Access).
//
// A professional of a provider sees a citizen while both hold: a sharing
// consent to the provider (or the provider is deemed to hold one, as the
// public sector is) and a care relationship with it — an encounter, an
// episode of care. Each is recorded as its own grant, written in the same
// transaction as the resource that justifies it (Policy.Hook), so the
// predicate is the conjunction of two semi-joins and a revoked consent or
// an ended relationship takes effect on the next request, for tokens
// already issued too:
//
//	sharing/Organization/O   from each active sharing Consent naming O (its provision period)
//	care/Organization/O      from each Encounter served by O, each EpisodeOfCare managed by O
//	emergency/Practitioner/P from a professional's emergency access (time-boxed)
//	restricted/Practitioner/P from a restricted access the citizen authorised,
//	                         recorded under store.RestrictedKey(patient)
//
// A citizen sees their own record (restricted records included); the
// platform operator sees everything.
//
// Those Consents and registered care relationships are written only by
// the platform's operations (Operations: $share, $share-code,
// $revoke-sharing, $care-relationship, $emergency-access, Task $review,
// $restrict, $unrestrict, $restricted-code, $open-restricted,
// $restricted-exists), each in one transaction with the notice
// (notify.Notice) it owes the citizen.
package consent
