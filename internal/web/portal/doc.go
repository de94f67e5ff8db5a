// Package portal is the provider portal at /portal: healthcare
// professionals sign in with password and TOTP through /login (choosing
// the role they act in), find a patient by identity document (POSTed,
// never in a URL) through the registry's Patient/$match, register the
// care relationship and obtain the sharing consent at the desk (the
// citizen's access key, or a one-time code sent to them), read the shared
// record (by type, with detail pages and lab trends), open restricted
// records with the citizen's code where the platform says they exist, use
// emergency access where the platform offers it, deposit simple records
// with forms and CSV templates (package csvdeposit), and see the
// provider's deposit history and accreditation level; a provider's user
// administrators list and register its professionals.
//
// Like every web app (package web), the portal never reads the store: each
// page calls the FHIR API in-process with the professional's token, so
// consent, role views, scopes and the audit journal decide what it shows.
package portal
