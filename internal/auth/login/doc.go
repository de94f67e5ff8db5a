// Package login is the sign-in of eHealth+, mounted at /login: the page the
// authorization server (auth/oauth) sends people to when they are not signed
// in, with next= the authorize request to resume.
//
// Citizens sign in with a passkey (WebAuthn, github.com/go-webauthn/webauthn:
// discoverable credentials, user verification required, a sign count that
// goes backwards refused as a cloned authenticator), or with a six-digit
// one-time code sent through a Sender to the phone or email of their master
// Patient record. A citizen registers a passkey after signing in with a code
// (the code is what proves who they are). Professionals sign in with a
// password (argon2id, a salt per account) and a TOTP code (RFC 6238: 30 s,
// six digits, one step either side, a used step refused), then choose the
// PractitionerRole — provider and role — they act as. An upstream OpenID
// Connect provider (where a government identity service such as iAM Smart
// plugs in) signs citizens in by authorization code with PKCE; its subject
// maps to a Patient through a link kept in the keyed store (LinkSubject;
// the HKID claim of a provider that verifies identity; or the citizen's
// next sign-in by code in the same browser).
//
// On success the login calls oauth.Sessions.Start with the person (fhirUser
// Patient/ID or Practitioner/ID, a professional's org and role, the method
// and time) and redirects to next, which must be a path on this server.
//
// Defences, the same on every step: a token bucket per client IP, and per
// account a lockout after Config.MaxFailures failures (DefaultMaxFailures in
// DefaultFailureWindow locks for DefaultLockout), both answered 429 with
// Retry-After; unknown accounts are answered exactly like wrong passwords
// (a dummy argon2id hash is checked, failures are counted against the name
// typed, codes are "sent" to nobody), so the login does not tell who is
// registered. Every form carries a double-submit CSRF token, and a request
// whose Origin or Sec-Fetch-Site shows another site is refused.
//
// Everything kept lives in store.Keyed, so several servers on one
// PostgreSQL share it:
//
//   - login.passkey: a citizen's WebAuthn credentials, by Patient id and
//     credential id; login.passkey.id: credential id → Patient id;
//   - login.pro: professionals' accounts (username → Practitioner, argon2id
//     hash and parameters, TOTP secret, last TOTP step used);
//     login.totp.used: steps used, so one code works once;
//   - login.code: pending one-time codes, by the SHA-256 of the challenge id
//     the browser holds, the code as an HMAC keyed by that id (a copy of
//     the table does not reveal the codes);
//   - login.ceremony: WebAuthn ceremonies in progress; login.pending:
//     a professional between authentication and the choice of a role;
//     login.oidc.state: upstream sign-ins in progress; login.oidc.link:
//     upstream subject → Patient; login.oidc.pending: a verified subject
//     linked to nobody yet, kept for ten minutes in the browser that
//     brought it, linked by that browser's next sign-in with a code or a
//     passkey (both proofs in one browser);
//   - login.fail and login.lock: failures and lockouts by the SHA-256 of
//     the account name, never the name or identity number itself;
//   - login.demo.outbox: in demo mode only, the codes "sent", shown at
//     /login/demo/outbox so a demonstration works without an SMS gateway.
package login
