// Package csvdeposit is the simple way in for clinics with little IT: CSV
// templates for immunisations, allergies, vital signs and medication that
// a professional fills in a spreadsheet and uploads. Parse reads a file
// as a stream, checks it row by row and gives a report (row, column, what
// is wrong, in English and Traditional Chinese) and a deposit Bundle: a
// FHIR R4 transaction of the records, each keyed on its source identifier
// (the clinic's own record id), with one Patient entry per citizen
// (identity document, the clinic's record number, name, birth date) for
// the deposit service to match to the registered citizen.
//
// A file with errors stores nothing unless the user asks to keep only the
// valid rows (Options.KeepValid). Templates, columns and formats are in
// TEMPLATES.md beside this file; Template writes the blank template a
// clinic downloads.
package csvdeposit
