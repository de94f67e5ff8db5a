// Package storetest is the conformance suite of the storage contract: one
// set of tests ([Run]) and benchmarks ([Benchmark]) that every driver runs,
// so SQLite and PostgreSQL behave the same to the layers above.
package storetest
