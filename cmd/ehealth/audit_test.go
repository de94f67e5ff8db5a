package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for tampering

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/store"
)

// journal is an audit journal of 30 entries with checkpoints at seq 10, 20
// and 30, exported to a file, and the means to tamper with its tables.
type journal struct {
	url, key, export string
	raw              *sql.DB
	postgres         bool
}

// newJournal records 30 events through an Auditor over a new database
// with a key from `ehealth audit keygen`.
func newJournal(t *testing.T, url string) *journal {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	j := &journal{url: url, key: filepath.Join(dir, "audit.key"), export: filepath.Join(dir, "checkpoints.jsonl"),
		postgres: !strings.HasPrefix(url, "sqlite:")}
	var out bytes.Buffer
	if err := run(ctx, []string{"audit", "keygen", "--out", j.key}, &out, &out); err != nil {
		t.Fatalf("audit keygen: %v: %s", err, out.String())
	}
	priv, err := audit.LoadPrivateKey(j.key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := audit.New(st, audit.Config{Source: audit.Source{Base: "https://ehealth.test/fhir", Name: "test"},
		Key: priv, ExportPath: j.export, Every: 1 << 20, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 30; i++ {
		e := audit.Event{Interaction: audit.Read, Resource: fmt.Sprintf("Observation/o%d", i), Patients: []string{fmt.Sprint("p", i%3)},
			Caller: audit.Caller{FHIRUser: "Practitioner/dr-chan", Org: "Organization/clinic", ClientID: "emr", Purpose: "TREAT"}}
		if err := a.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if _, _, err := a.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	j.raw = openRaw(t, url)
	return j
}

// openRaw opens the database with plain SQL, as an attacker would.
func openRaw(t *testing.T, url string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", url
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		driver, dsn = "sqlite", path
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// exec runs statements written with ? placeholders on either database,
// after dropping the append-only triggers (an attacker with the database
// can).
func (j *journal) exec(t *testing.T, stmts ...string) {
	t.Helper()
	drop := []string{"DROP TRIGGER IF EXISTS audit_entry_no_update", "DROP TRIGGER IF EXISTS audit_entry_no_delete",
		"DROP TRIGGER IF EXISTS audit_checkpoint_no_update", "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete"}
	if j.postgres {
		drop = []string{"DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry",
			"DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint"}
	}
	for _, s := range append(drop, stmts...) {
		if _, err := j.raw.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// update runs one statement with arguments (? placeholders).
func (j *journal) update(t *testing.T, query string, args ...any) {
	t.Helper()
	if j.postgres {
		n := 0
		query = regexp.MustCompile(`\?`).ReplaceAllStringFunc(query, func(string) string { n++; return fmt.Sprint("$", n) })
	}
	if _, err := j.raw.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// verify runs `ehealth audit verify` and returns its output lines and error.
func (j *journal) verify(t *testing.T) ([]string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"audit", "verify", "--db", j.url, "--key", j.key + ".pub", "--checkpoint", j.export}, &out, &errOut)
	if errOut.Len() > 0 {
		t.Logf("stderr: %s", errOut.String())
	}
	return strings.Split(strings.TrimSpace(out.String()), "\n"), err
}

// rewrite changes entry 5's body and recomputes every later hash, as an
// attacker without the key can, and points the stored checkpoints at the
// new heads.
func (j *journal) rewrite(t *testing.T) {
	t.Helper()
	st, err := openStore(t.Context(), j.url)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.ReadAudit(t.Context(), store.AuditQuery{})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	j.exec(t)
	prev := entries[3].Hash
	for _, e := range entries[4:] {
		if e.Seq == 5 {
			e.Body = bytes.ReplaceAll(e.Body, []byte("dr-chan"), []byte("dr-lee"))
		}
		e.PrevHash, e.Hash = prev, store.AuditHash(prev, e)
		j.update(t, "UPDATE audit_entry SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?", e.Body, e.PrevHash, e.Hash, e.Seq)
		j.update(t, "UPDATE audit_checkpoint SET hash = ? WHERE seq = ?", e.Hash, e.Seq)
		prev = e.Hash
	}
}

// TestAuditVerify tampers with the journal's tables directly and expects
// `ehealth audit verify` against the exported checkpoints to name each
// problem and where it is, on both backends; an untouched journal
// verifies.
func TestAuditVerify(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, j *journal)
		want   []string // "seq N: kind" of each problem, in any order
	}{
		{"untouched", func(*testing.T, *journal) {}, nil},
		{"edit", func(t *testing.T, j *journal) {
			j.exec(t)
			j.update(t, "UPDATE audit_entry SET body = ? WHERE seq = 7", []byte(`{"resourceType":"AuditEvent","edited":true}`))
		}, []string{"seq 7: altered"}},
		{"delete", func(t *testing.T, j *journal) {
			j.exec(t, "DELETE FROM audit_entry WHERE seq = 12", "DELETE FROM audit_patient WHERE seq = 12")
		}, []string{"seq 12: removed"}},
		{"swap", func(t *testing.T, j *journal) {
			j.exec(t, "UPDATE audit_entry SET seq = -1 WHERE seq = 15", "UPDATE audit_entry SET seq = 15 WHERE seq = 16",
				"UPDATE audit_entry SET seq = 16 WHERE seq = -1")
		}, []string{"seq 15: reordered", "seq 16: reordered"}},
		{"truncate", func(t *testing.T, j *journal) {
			j.exec(t, "DELETE FROM audit_entry WHERE seq > 25", "DELETE FROM audit_checkpoint WHERE seq > 25")
		}, []string{"seq 30: checkpoint-missing", "seq 26-30: truncated"}},
		{"rewrite", func(t *testing.T, j *journal) { j.rewrite(t) }, []string{
			"seq 10: bad-signature", "seq 20: bad-signature", "seq 30: bad-signature",
			"seq 10: checkpoint-differs", "seq 20: checkpoint-differs", "seq 30: checkpoint-differs",
			"seq 1-10: rewritten", "seq 20: rewritten", "seq 30: rewritten"}},
	}
	for _, b := range adminDatabases {
		for _, c := range cases {
			t.Run(b.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				j := newJournal(t, b.url(t))
				c.tamper(t, j)
				lines, err := j.verify(t)
				if c.want == nil {
					if err != nil || !strings.HasPrefix(lines[0], "OK: 30 entries") {
						t.Fatalf("untouched journal: %v: %q", err, lines)
					}
					return
				}
				if err == nil {
					t.Fatalf("verify passed a tampered journal: %q", lines)
				}
				var got []string
				for _, l := range lines {
					where, rest, _ := strings.Cut(l, ": ")
					kind, _, _ := strings.Cut(rest, ":")
					got = append(got, where+": "+kind)
				}
				slices.Sort(got)
				want := slices.Clone(c.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("problems:\n%s\nwant %q", strings.Join(lines, "\n"), c.want)
				}
			})
		}
	}
}

func TestAuditCommandsRefuse(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(ctx, []string{"audit", "keygen", "--out", filepath.Join(dir, "k")}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"audit", "keygen", "--out", filepath.Join(dir, "k")}, // exists
		{"audit", "keygen"},
		{"audit", "verify", "--db", "sqlite:" + filepath.Join(dir, "x.db")}, // no key
		{"audit", "verify", "--db", "sqlite:" + filepath.Join(dir, "x.db"), "--key", filepath.Join(dir, "missing.pub")},
		{"audit", "nonsense"},
	} {
		if err := run(ctx, args, &out, &out); err == nil {
			t.Errorf("%q succeeded", args)
		}
	}
}
