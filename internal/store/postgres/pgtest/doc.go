// Package pgtest gives tests a throwaway PostgreSQL: a server started from
// the local binaries in a temporary directory (or the one named by
// EHEALTH_TEST_POSTGRES) and a fresh, empty database per test.
//
// A test package wires it up once:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and each test asks for a database:
//
//	dsn := pgtest.DSN(t) // skips the test if PostgreSQL is not installed
//
// The server starts on the first DSN call, so packages whose tests all skip
// pay nothing, and it stops when the test binary exits.
package pgtest
