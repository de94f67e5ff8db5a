// Package oauth is the platform's OAuth 2.0 authorization server with the
// SMART App Launch v2 profile
// (https://hl7.org/fhir/smart-app-launch/app-launch.html) and SMART
// Backend Services (https://hl7.org/fhir/smart-app-launch/backend-services.html).
//
// It is built on github.com/ory/fosite, which stays an implementation
// detail: nothing exported names a fosite type. The package adds what fosite
// leaves to its users or does differently from what the platform needs:
//
//   - a client registry in the keyed store (namespace "oauth.client"): public
//     SMART apps, confidential apps authenticating with private_key_jwt, and
//     system clients (backend services) bound to one provider Organization;
//   - client authentication by private_key_jwt (RFC 7523 §2.2, RS384 and
//     ES384 only) with a short exp (at most five minutes), aud the token
//     endpoint and jti replay protection through store.Keyed.InsertKey,
//     atomic across every server on one database;
//   - access tokens that are the platform's JWTs (auth/token): the fosite
//     access-token strategy issues and validates through token.Service, so a
//     token from this server and one from `ehealth admin token` are checked
//     alike by the FHIR API. No path here calls token.Service.IssueOperator;
//   - SMART launch: aud must be the FHIR base URL, EHR launch resolves a
//     launch context created with CreateLaunch, standalone launch with
//     launch/patient takes the signed-in citizen, or one of the patients the
//     person acts for, chosen on a bilingual picker page (Relationships);
//   - token exchange (RFC 8693) for the professional behind a clinic system;
//   - ID tokens (RS256, for openid fhirUser), discovery documents, CORS for
//     registered origins and a per-client rate limit on the token endpoint.
//
// Sign-in is not this package's: the authorize endpoint reads the signed-in
// person from Sessions and sends anyone else to Config.LoginURL, which the
// login work provides and which calls Sessions.Start.
//
// Every one-time value — authorization codes, refresh tokens, client
// assertion ids, launch ids, sign-in sessions — lives in store.Keyed, so a
// restart loses nothing and several servers on one PostgreSQL agree. Codes,
// refresh tokens and session ids are stored by their SHA-256 only: reading
// the table does not give a usable credential. Logs never contain tokens,
// codes or assertions.
package oauth
