// Package scope parses and evaluates SMART App Launch v2 scopes, the OAuth 2.0
// scopes that say what a token lets an app do on the FHIR API:
// https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html.
//
// A clinical scope is context/type.permissions[?query]:
//
//	patient/Observation.rs                       read and search the launch patient's Observations
//	user/*.cruds                                 everything the user may do
//	system/Patient.read                          SMART v1 form, the same as system/Patient.rs
//	patient/Observation.rs?category=laboratory   only laboratory Observations
//
// Permissions are a non-empty subset of c(reate) r(ead) u(pdate) d(elete)
// s(earch), in that order; the v1 forms read, write and * mean rs, cud and
// cruds. Non-clinical scopes are openid, fhirUser, profile, launch,
// launch/patient, launch/encounter, offline_access and online_access.
//
// The package is pure logic. The authorization server uses Parse and Narrow to
// grant a client at most what it is registered for; the FHIR API uses
// Needs and Set.Allows on every request and applies the filters Allows
// returns. Whether a resource type exists is the caller's business: any
// capitalised name parses.
package scope
