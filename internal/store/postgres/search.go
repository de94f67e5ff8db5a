package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/sqlsearch"
)

var _ store.Searcher = (*Store)(nil)

// dialect is PostgreSQL's SQL for the search compiler: lists are bound as
// text arrays, decimals as numeric (exact), and text sort keys compare in
// the "C" collation, code point order, as Go strings do.
var dialect = &sqlsearch.Dialect{
	Param:   func(n int) string { return "$" + strconv.Itoa(n) },
	InList:  func(expr, ph string) string { return expr + " = ANY(" + ph + "::text[])" },
	ListArg: func(vals []string) any { return vals },
	PairIn: func(a, b, pa, pb string) string {
		return "(" + a + ", " + b + ") IN (SELECT * FROM unnest(" + pa + "::text[], " + pb + "::text[]))"
	},
	NumArg:    func(r *big.Rat) any { return search.DecimalString(r) },
	NumCast:   "::numeric",
	NumKeyOut: func(expr string) string { return "CAST(" + expr + " AS text)" },
	NumKeyArg: func(s string) any { return s },
	Contains:  func(hay, needle string) string { return "strpos(" + hay + ", " + needle + ") > 0" },
	TextKey:   func(expr string) string { return "(" + expr + ") COLLATE \"C\"" },
	TextMatch: func(b sqlsearch.Binder, x string, words []string) string {
		return "to_tsvector('simple', " + x + ".text) @@ to_tsquery('simple', " + b.Arg(tsQuery(words)) + ")"
	},
	Updated: "updated_us",
	Fence:   " OFFSET 0",
}

// tsQuery is the tsquery of words (letters and digits only, so no
// operators): all of them, the last as a prefix.
func tsQuery(words []string) string {
	return strings.Join(words, " & ") + ":*"
}

// searchDB runs the engine's queries on the pool.
type searchDB struct{ s *Store }

func (d searchDB) Query(ctx context.Context, query string, args []any, scalars int) ([]sqlsearch.Row, error) {
	rows, err := d.s.pool.Query(ctx, query, args...)
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
	var n int64
	err := d.s.pool.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

// Plan returns EXPLAIN (FORMAT TEXT) of the generic plan: the statement is
// prepared and explained with plan_cache_mode = force_generic_plan and
// NULL for every parameter, so the plan shows $n where a custom plan would
// print the values (a patient id, a name) into the text.
func (d searchDB) Plan(ctx context.Context, query string, args []any) (string, error) {
	conn, err := d.s.pool.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Release()
	// Runs after the rollback: a prepared statement outlives its transaction.
	defer conn.Exec(context.WithoutCancel(ctx), "DEALLOCATE ehealth_explain") //nolint:errcheck // may not exist
	tx, err := conn.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only; the rollback ends it
	if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, "PREPARE ehealth_explain AS "+query); err != nil {
		return "", err
	}
	nulls := strings.TrimSuffix(strings.Repeat("NULL, ", len(args)), ", ")
	execute := "EXECUTE ehealth_explain"
	if nulls != "" {
		execute += "(" + nulls + ")"
	}
	rows, err := tx.Query(ctx, "EXPLAIN (FORMAT TEXT) "+execute)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		b.WriteString(line + "\n")
	}
	return b.String(), rows.Err()
}

// Analyze refreshes the planner's statistics, as autovacuum eventually
// does; call it after a bulk load so the first searches plan well.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("postgres: analyze: %w", err)
	}
	return nil
}

// Estimate returns the planner's estimate of the rows query returns (its
// top plan node's), for _total=estimate (sqlsearch.Estimator): planning
// only, nothing is read.
func (d searchDB) Estimate(ctx context.Context, query string, args []any) (int64, error) {
	var out []byte
	if err := d.s.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&out); err != nil {
		return 0, err
	}
	var plans []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) == 0 {
		return 0, fmt.Errorf("explain: %s: %w", out, err)
	}
	return int64(plans[0].Plan.Rows), nil
}
