package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/putcheck"
	"github.com/ehealthplus/ehealth/internal/store/internal/sqlsearch"
)

// deleteIndexSQL, deleteParamSQL and insertIndexSQL are, per index table,
// the statements that remove a resource's rows, remove its rows of one
// param, and insert one row.
//
// Rows go in one at a time: a prepared single-row INSERT is cheap in
// SQLite, whereas a multi-row INSERT inside a transaction opens a statement
// journal (it could fail half-way) and measured slower.
var deleteIndexSQL, deleteParamSQL, insertIndexSQL = indexStatements()

func indexStatements() (del, delParam, ins []string) {
	for _, t := range sqlsearch.Tables {
		del = append(del, "DELETE FROM "+t.Name+" WHERE rid = ?")
		// A parameter's rows, and the parts of a composite one ("code#0" …).
		delParam = append(delParam, "DELETE FROM "+t.Name+" WHERE rid = ?1 AND (param = ?2 OR (param > ?2 || '#' AND param < ?2 || '$'))")
		cols := []string{"rid", "res_type", "patient_key", "param", "comb", "n"}
		for _, c := range t.Columns {
			cols = append(cols, c.Name)
		}
		ins = append(ins, "INSERT INTO "+t.Name+" ("+strings.Join(cols, ", ")+") VALUES ("+
			strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+")")
	}
	return del, delParam, ins
}

// insertTextSQL adds the full-text entry of the idx_text row just
// inserted (migration 00012).
const insertTextSQL = `INSERT INTO idx_text_fts (rowid, text) VALUES (last_insert_rowid(), ?)`

// textTable is the position of idx_text in sqlsearch.Tables.
var textTable = slices.IndexFunc(sqlsearch.Tables, func(t sqlsearch.Table) bool { return t.Name == "idx_text" })

// indexQueries lists the index statements, to prepare with the others.
func indexQueries() []string {
	return append(append(append([]string{currentRIDSQL, insertTextSQL}, deleteIndexSQL...), deleteParamSQL...), insertIndexSQL...)
}

// index replaces the search index rows of resource rid with v.Index (none
// for a delete marker). A new resource has no rows to delete. Rows are
// stored under v's patient key, whatever the entries say, so the access
// predicate on a row is the one on its resource, and under v's type, but
// for a contained resource's rows, under that resource's type.
func (t *tx) index(ctx context.Context, v *store.Version, rid int64, replace bool) error {
	if replace {
		for _, q := range deleteIndexSQL {
			if _, err := t.exec(ctx, q, rid); err != nil {
				return err
			}
		}
	}
	if v.Deleted {
		return nil
	}
	return t.insertRows(ctx, rid, v.Type, v.PatientKey, v.Index)
}

// insertRows inserts the rows of entries for resource rid. A row's n is its
// position among the table's rows of this call, unique within (rid, param)
// because every row of a param is written by one call.
func (t *tx) insertRows(ctx context.Context, rid int64, typ, patientKey string, entries []search.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	for i, rows := range sqlsearch.Flatten(entries) {
		if len(rows) == 0 {
			continue
		}
		st, err := t.stmt(ctx, insertIndexSQL[i])
		if err != nil {
			return err
		}
		args := make([]any, 6+len(sqlsearch.Tables[i].Columns))
		args[0], args[2] = rid, patientKey
		for n, r := range rows {
			args[1], args[3], args[4], args[5] = cmp.Or(r.Type, typ), r.Param, r.Comb, n
			for j, val := range r.Values {
				args[6+j] = sqlValue(val)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return err
			}
			if i == textTable {
				if _, err := t.exec(ctx, insertTextSQL, args[6]); err != nil {
					return err
				}
			}
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

const currentRIDSQL = `SELECT rid, deleted, patient_key FROM resource_current WHERE type = ? AND id = ?`

// ReplaceIndex replaces the index rows of the current version of typ/id for
// the parameters codes with entries, without writing a version; a no-op
// for a deleted or unknown resource (see store.Tx).
func (t *tx) ReplaceIndex(ctx context.Context, typ, id string, codes []string, entries []search.Entry) error {
	if err := putcheck.Entries(typ, id, codes, entries); err != nil {
		return err
	}
	var (
		rid        int64
		deleted    bool
		patientKey string
	)
	st, err := t.stmt(ctx, currentRIDSQL)
	if err == nil {
		err = st.QueryRowContext(ctx, typ, id).Scan(&rid, &deleted, &patientKey)
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && deleted) {
		return nil
	}
	if err == nil {
		err = t.deleteParams(ctx, rid, codes)
	}
	if err == nil {
		err = t.insertRows(ctx, rid, typ, patientKey, entries)
	}
	if err != nil {
		return fmt.Errorf("sqlite: reindex %s/%s: %w", typ, id, err)
	}
	return nil
}

// deleteParams removes resource rid's rows of the parameters codes.
func (t *tx) deleteParams(ctx context.Context, rid int64, codes []string) error {
	for _, q := range deleteParamSQL {
		for _, code := range codes {
			if _, err := t.exec(ctx, q, rid, code); err != nil {
				return err
			}
		}
	}
	return nil
}
