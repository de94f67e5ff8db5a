// Package ips builds the International Patient Summary (IPS STU2, 2.0.0:
// http://hl7.org/fhir/uv/ips) of a citizen's record — "download my
// record" — and serves it as Patient/{id}/$summary (and POST
// Patient/$summary with the patient's identifier).
//
// A summary is built as the caller: every record in it was found by the
// resource service's searches with the caller's resource.Caller, so
// consent, restricted records, role views and scopes apply exactly as for
// any read, and a Patient the caller may not see is not found. The
// document Bundle holds the Composition (LOINC 60591-5), the Patient,
// every section's entries and the resources they reference that the
// caller may read, and the platform's Device as author. The three
// sections the IPS requires (problems, allergies, medications) are always
// there, with entries or an emptyReason (unavailable; withheld when the
// caller may read none of the section's types); the recommended and
// optional ones the platform holds (immunizations, results, procedures,
// devices, vital signs, past illness, plan of care, alerts, social
// history, pregnancy) only when they have entries. Narratives are in
// English or Traditional Chinese (language or _language, else
// Accept-Language), with code displays from the terminology service's
// Chinese designations where it has them.
//
// The printable form (Accept: application/pdf or _format=pdf) is a PDF
// printed with go-pdf/fpdf, in Chinese with a TrueType CJK font read at
// start-up (Config.FontPath, else a Debian font: DefaultFonts), in
// English with a note where the server has none.
package ips
