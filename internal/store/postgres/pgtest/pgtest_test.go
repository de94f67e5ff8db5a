package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestDSNGivesFreshDatabases(t *testing.T) {
	ctx := t.Context()
	seen := map[string]bool{}
	for range 2 {
		conn, err := pgx.Connect(ctx, DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		var db string
		var tables int
		if err := conn.QueryRow(ctx, `SELECT current_database(),
			(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&db, &tables); err != nil {
			t.Fatal(err)
		}
		if seen[db] || tables != 0 {
			t.Errorf("database %s (seen before: %t) has %d tables, want a new empty one", db, seen[db], tables)
		}
		seen[db] = true
		if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
	}
}

func TestDBName(t *testing.T) {
	for _, name := range []string{"TestX/sub-test_Ünïcode", string(make([]byte, 200))} {
		got := dbName(name)
		if len(got) > 63 {
			t.Errorf("dbName(%q) = %q: longer than 63 bytes", name, got)
		}
		for _, r := range got {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				t.Errorf("dbName(%q) = %q: bad character %q", name, got, r)
			}
		}
	}
}

func TestWithDBName(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@h:5432/app?sslmode=disable": "postgres://u:p@h:5432/x?sslmode=disable",
		"host=/tmp port=5 user=postgres dbname=app": "host=/tmp port=5 user=postgres dbname=app dbname=x",
	} {
		got := withDBName(in, "x")
		if got != want {
			t.Errorf("withDBName(%q) = %q, want %q", in, got, want)
		}
		cfg, err := pgx.ParseConfig(got)
		if err != nil || cfg.Database != "x" {
			t.Errorf("%q parses to database %q (%v), want x", got, cfg.Database, err)
		}
	}
}
