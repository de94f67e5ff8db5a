// Package postgres is the PostgreSQL driver of the storage contract
// ([store.Store]), on a pgx connection pool.
//
// Write transactions run at READ COMMITTED. Put's conditional write is a
// single guarded statement on the current-version row (an UPDATE … WHERE
// version_id = expect, or an INSERT … ON CONFLICT DO NOTHING for a create),
// so of two writers with the same expectation the row lock lets exactly one
// through and the other sees zero rows and gets outcome.Conflict. Write
// retries a transaction that fails with a serialization failure or a
// deadlock.
package postgres
