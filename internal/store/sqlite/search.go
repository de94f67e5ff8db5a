package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/sqlsearch"
)

var _ store.Searcher = (*Store)(nil)

// dialect is SQLite's SQL for the search compiler: lists are bound as one
// JSON array and read with json_each, so a statement's text does not
// depend on how many values a list has; decimals are REAL.
var dialect = &sqlsearch.Dialect{
	Param:   func(n int) string { return "?" + strconv.Itoa(n) },
	InList:  func(expr, ph string) string { return expr + " IN (SELECT value FROM json_each(" + ph + "))" },
	ListArg: jsonList,
	PairIn: func(a, b, pa, pb string) string {
		return "(" + a + ", " + b + ") IN (SELECT j.value, k.value FROM json_each(" + pa + ") j JOIN json_each(" + pb + ") k ON k.key = j.key)"
	},
	NumArg: func(r *big.Rat) any {
		f, _ := r.Float64()
		return f
	},
	NumKeyOut: func(expr string) string { return expr },
	NumKeyArg: func(s string) any {
		f, _ := strconv.ParseFloat(s, 64)
		return f
	},
	Contains: func(hay, needle string) string { return "instr(" + hay + ", " + needle + ") > 0" },
	TextKey:  func(expr string) string { return expr },
	TextMatch: func(b sqlsearch.Binder, x string, words []string) string {
		return x + ".rowid IN (SELECT rowid FROM idx_text_fts WHERE idx_text_fts MATCH " + b.Arg(ftsQuery(words)) + ")"
	},
	Updated:   "updated",
	Unindexed: func(col string) string { return "+" + col },
	PatientIndex: func(table string) string {
		if ix := patientIndexes[table]; ix != "" {
			return " INDEXED BY " + ix
		}
		return ""
	},
	VersionJoin: "CROSS JOIN",
}

// patientIndexes are the patient-leading indexes of the migration.
var patientIndexes = map[string]string{
	"idx_string": "idx_string_pat", "idx_token": "idx_token_pat", "idx_date": "idx_date_pat",
	"idx_quantity": "idx_quantity_pat", "idx_reference": "idx_ref_pat",
}

// ftsQuery is the FTS5 query of words (letters and digits only, so safe
// inside quotes): all of them, the last as a prefix.
func ftsQuery(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = `"` + w + `"`
	}
	return strings.Join(q, " AND ") + "*"
}

func jsonList(vals []string) any {
	b, _ := json.Marshal(vals) // strings always marshal
	return string(b)
}

// searchDB runs the engine's queries on the reader pool.
type searchDB struct{ s *Store }

func (d searchDB) Query(ctx context.Context, query string, args []any, scalars int) ([]sqlsearch.Row, error) {
	st, err := d.s.searchStmts.get(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sqlsearch.Row
	for rows.Next() {
		r := sqlsearch.Row{Scalars: make([]any, scalars)}
		lead := make([]any, scalars)
		for i := range lead {
			lead[i] = &r.Scalars[i]
		}
		if r.Version, err = scanVersion(rows, lead...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (d searchDB) Count(ctx context.Context, query string, args []any) (int64, error) {
	st, err := d.s.searchStmts.get(ctx, query)
	if err != nil {
		return 0, err
	}
	var n int64
	err = st.QueryRowContext(ctx, args...).Scan(&n)
	return n, err
}

// Plan runs EXPLAIN QUERY PLAN and indents each step under its parent.
func (d searchDB) Plan(ctx context.Context, query string, args []any) (string, error) {
	rows, err := d.s.readers.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	depth := map[int64]int{}
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int64
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		depth[id] = depth[parent] + 1
		b.WriteString(strings.Repeat("  ", depth[id]-1) + detail + "\n")
	}
	return b.String(), rows.Err()
}

// Analyze refreshes the planner's statistics (sqlite_stat1); call it after
// a bulk load so searches plan well.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.writer.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("sqlite: analyze: %w", err)
	}
	return nil
}
