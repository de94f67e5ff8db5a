// Package sqlite is the SQLite driver of the storage contract
// ([store.Store]), for a single server or a developer's machine.
//
// The database runs in WAL mode so readers never wait for the writer. Reads
// go through a pool of read-only connections; every write goes through
// exactly one writer connection, so concurrent [Store.Write] calls queue in
// the process instead of failing with SQLITE_BUSY. busy_timeout covers the
// remaining case of another process writing the same file.
package sqlite
