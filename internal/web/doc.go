// Package web is the foundation of the platform's server-rendered web
// apps — the citizen's app (/app), the provider portal (/portal) and the
// operator console (/admin): html/template pages from embedded files, one
// small CSS file and htmx (vendored from npm, see static/VENDOR.md), served
// bilingually (English and Traditional Chinese) behind a strict
// Content-Security-Policy.
//
// The apps never read the store or the resource service. Each is an OAuth
// client of the platform's own authorization server (auth/oauth),
// registered at start-up as a confidential client with a P-384 key kept in
// the keyed store: signing in is a SMART standalone launch (authorize with
// code + PKCE S256 through /login, back to the app's /callback), the tokens
// stay in a server-side Session (the browser holds an opaque cookie), and
// pages call the FHIR API in-process (FHIR: the rest API's http.Handler
// with the user's bearer token), so scopes, consent, role views and the
// audit journal apply to every page exactly as to any other app.
//
// A Site holds what the apps share (configuration, sessions, the message
// catalogues, the layout and the static files); NewApp mounts one app's
// routes under its prefix. Handlers get a *Ctx: the request, the language,
// the session and its FHIR client, Render, Redirect and Flash.
package web
