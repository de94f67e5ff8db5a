// Package token issues and verifies the platform's access tokens: JWTs in
// the shape of RFC 9068 (JWT Profile for OAuth 2.0 Access Tokens, header
// typ "at+jwt") signed with ES256, and the signing keys behind them.
//
// A token says who is calling (sub, fhirUser), through which client
// (client_id), for which provider (org) in which role (role), for what
// purpose (purpose, a v3 PurposeOfUse code), in whose launch context
// (patient) and what it may do (scope, SMART App Launch v2 scopes). See
// Claims for the claim names.
//
// The operator claim marks a platform-operator token: full FHIR access for
// migrations, bulk loads and tests, consent not applied. Only IssueOperator
// sets it, and only `ehealth admin token` (which needs database access)
// calls IssueOperator; Issue refuses it, so no OAuth flow — which always goes
// through Issue — can mint an operator token. A verified token is either an
// operator token with no fhirUser, org, role or patient, or names a
// fhirUser or an org: the absence of a person or provider never means
// "operator".
//
// Signing keys are P-256 keys kept in the keyed store (namespace
// "auth.signing-key"), so every server process on one PostgreSQL signs and
// verifies with the same keys. Time is cut into rotation slots of
// Config.RotateEvery (30 days by default); each slot has one key, created
// by whichever process first needs it with store.Keyed.InsertKey on the
// slot's key, so concurrent processes agree on one key per slot. The next
// slot's key is created with the current one, so it is in the JWKS a whole
// period before it signs. A key stays published and accepted until every
// token it could have signed has expired (its slot's end + MaxTTL +
// MaxLeeway); then it drops out of the JWKS and expires out of the store.
// Keys are cached in memory and reloaded every few minutes and on an
// unknown kid, at most once every few seconds, so junk kids cannot hammer
// the database.
//
// The private keys are stored unencrypted in the database: whoever can read
// the database can mint tokens, as whoever can write it can change records.
//
// Verify pins the algorithm to ES256 (none, HS* and every other algorithm
// are refused before any key is looked up), and checks the signature by
// kid, typ, iss, aud, exp, nbf and iat with at most MaxLeeway of clock
// skew. Its errors are outcome.Unauthorized (401); Challenge turns them
// into the WWW-Authenticate value of RFC 6750 §3.
package token
