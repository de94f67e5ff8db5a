// Package console is the platform operator's console at /admin: it
// registers providers, their professionals and system clients (what
// `ehealth admin provider|professional|client` do), reviews emergency
// accesses and the accesses citizens reported, shows the audit journal's
// verification and the notification outbox, and runs a provider's
// connectivity accreditation.
//
// Operators are real people who sign in with a username, a password and
// a TOTP code (login.Operators, set by `ehealth admin operator`). The
// authorization server never issues operator tokens to an OAuth client,
// so the console is not one for its users: once the factors check out it
// mints a short-lived operator token server-side (token.IssueOperator,
// subject operator/<username>), keeps it in the web session (never in
// the browser) and renews it while the session lasts, so every FHIR
// call and every write through the registry is in the audit journal
// under the operator's own name. Every route but the sign-in requires
// such a session (deny by default), and each request re-checks that the
// token is an operator token and the account is still enabled.
package console
