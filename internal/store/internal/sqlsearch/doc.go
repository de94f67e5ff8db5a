// Package sqlsearch turns a search plan ([search.Query]) into SQL on the
// index tables both drivers share (internal/search/SCHEMA.md), and runs
// the page, count and include queries through a small per-driver seam
// ([DB]). The drivers keep their own migrations and write statements; the
// query SQL is one compiler with a [Dialect] for the few places PostgreSQL
// and SQLite differ (placeholders, list binding, decimals, collation), so
// the two backends cannot drift apart in what a clause means.
//
// Every condition is built from bind parameters; no value is ever written
// into the SQL text.
package sqlsearch
