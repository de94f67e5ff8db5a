package sqlite

import (
	"context"
	"math/big"
	"strings"

	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/sqlsearch"
)

// indexBatch is how many rows one INSERT statement of the index writes: a
// multi-row INSERT costs about as much as a single-row one, so a Put with
// ~30 rows runs a handful of statements instead of 30.
const indexBatch = 16

// deleteIndexSQL and insertIndexSQL are, per index table, the statements
// that remove a resource's rows and insert 1..indexBatch rows.
var deleteIndexSQL, insertIndexSQL = indexStatements()

func indexStatements() (del []string, ins [][]string) {
	for _, t := range sqlsearch.Tables {
		del = append(del, "DELETE FROM "+t.Name+" WHERE rid = ?")
		cols := []string{"rid", "res_type", "patient_key", "param", "comb"}
		for _, c := range t.Columns {
			cols = append(cols, c.Name)
		}
		tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		var byCount []string
		for n := 1; n <= indexBatch; n++ {
			byCount = append(byCount, "INSERT INTO "+t.Name+" ("+strings.Join(cols, ", ")+") VALUES "+
				strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", "))
		}
		ins = append(ins, byCount)
	}
	return del, ins
}

// indexQueries lists the index statements, to prepare with the others.
func indexQueries() []string {
	out := append([]string(nil), deleteIndexSQL...)
	for _, byCount := range insertIndexSQL {
		out = append(out, byCount...)
	}
	return out
}

// index replaces the search index rows of resource rid with v.Index (none
// for a delete marker). Rows are stored under v's type and patient key,
// whatever the entries say, so the access predicate on a row is the one on
// its resource.
func (t *tx) index(ctx context.Context, v *store.Version, rid int64, replace bool) error {
	if replace {
		for _, q := range deleteIndexSQL {
			if _, err := t.exec(ctx, q, rid); err != nil {
				return err
			}
		}
	}
	if v.Deleted || len(v.Index) == 0 {
		return nil
	}
	for i, rows := range sqlsearch.Flatten(v.Index) {
		for len(rows) > 0 {
			n := min(len(rows), indexBatch)
			var args []any
			for _, r := range rows[:n] {
				args = append(args, rid, v.Type, v.PatientKey, r.Param, r.Comb)
				for _, val := range r.Values {
					args = append(args, sqlValue(val))
				}
			}
			if _, err := t.exec(ctx, insertIndexSQL[i][n-1], args...); err != nil {
				return err
			}
			rows = rows[n:]
		}
	}
	return nil
}

// sqlValue binds a flattened column value: decimals as REAL, NULL for an open end.
func sqlValue(v any) any {
	if r, ok := v.(*big.Rat); ok {
		if r == nil {
			return nil
		}
		f, _ := r.Float64()
		return f
	}
	return v
}
