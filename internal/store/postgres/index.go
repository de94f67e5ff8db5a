package postgres

import (
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/sqlsearch"
)

// Put is one statement, so one round trip, whatever the index holds: data-
// modifying CTEs move the current-version pointer (the conditional write),
// append the version, delete the resource's previous index rows and insert
// the new ones from arrays with unnest. All sub-statements see the same
// snapshot, so the DELETEs remove only the previous rows. When the pointer
// does not move (a conflict) every other part reads an empty "moved" and
// does nothing.
//
// The base arguments are $1 type, $2 id, $3 version_id, $4 updated,
// $5 deleted, $6 patient_key, $7 method, $8 writer, $9 body, $10 updated_us
// and, for an update, $11 expect; the index arrays follow.
var (
	createSQL      = putSQL(false, false)
	updateSQL      = putSQL(true, false)
	createIndexSQL = putSQL(false, true)
	updateIndexSQL = putSQL(true, true)
)

// insertCTEs returns the CTEs that insert the index arrays (indexArgs),
// bound from $after+1 on, for the resource moved.rid with type typ (a
// contained resource's rows: the type in their array) and patient key pk
// (SQL expressions).
func insertCTEs(after int, typ, pk string) string {
	var b strings.Builder
	n := after
	for i, t := range sqlsearch.Tables {
		cols := []string{"param", "comb"}
		arrays := []string{"$" + strconv.Itoa(n+1) + "::text[]", "$" + strconv.Itoa(n+2) + "::int[]", "$" + strconv.Itoa(n+3) + "::text[]"}
		sel := []string{"u.param", "u.comb"}
		n += 3
		for j, c := range t.Columns {
			n++
			u := "c" + strconv.Itoa(j)
			cols = append(cols, c.Name)
			switch c.Kind {
			case sqlsearch.Int:
				arrays = append(arrays, "$"+strconv.Itoa(n)+"::bigint[]")
				sel = append(sel, "u."+u)
			case sqlsearch.Num:
				arrays = append(arrays, "$"+strconv.Itoa(n)+"::text[]")
				sel = append(sel, "u."+u+"::numeric")
			default:
				arrays = append(arrays, "$"+strconv.Itoa(n)+"::text[]")
				sel = append(sel, "u."+u)
			}
		}
		names := []string{"param", "comb", "rtype"}
		for j := range t.Columns {
			names = append(names, "c"+strconv.Itoa(j))
		}
		b.WriteString(", i" + strconv.Itoa(i) + " AS (INSERT INTO " + t.Name + " (rid, res_type, patient_key, " +
			strings.Join(cols, ", ") + ") SELECT moved.rid, coalesce(nullif(u.rtype, ''), " + typ + "), " + pk + ", " + strings.Join(sel, ", ") +
			" FROM moved, unnest(" + strings.Join(arrays, ", ") + ") AS u(" + strings.Join(names, ", ") + "))")
	}
	return b.String()
}

func putSQL(update, index bool) string {
	var b strings.Builder
	n := 10
	if update {
		n = 11
		b.WriteString(`WITH moved AS (
	UPDATE resource_current SET version_id = $3, updated = $4, updated_us = $10, deleted = $5, patient_key = $6, writer = $8
	WHERE type = $1 AND id = $2 AND version_id = $11
	RETURNING rid
)`)
	} else {
		b.WriteString(`WITH moved AS (
	INSERT INTO resource_current (type, id, version_id, updated, updated_us, deleted, patient_key, writer)
	VALUES ($1, $2, $3, $4, $10, $5, $6, $8)
	ON CONFLICT (type, id) DO NOTHING
	RETURNING rid
)`)
	}
	b.WriteString(`, ver AS (
	INSERT INTO resource_versions (type, id, version_id, updated, deleted, method, writer, patient_key, body)
	SELECT $1, $2, $3, $4, $5, $7::text, $8::text, $6, $9::bytea FROM moved
	RETURNING seq
)`)
	if update {
		for i, t := range sqlsearch.Tables {
			b.WriteString(", d" + strconv.Itoa(i) + " AS (DELETE FROM " + t.Name + " WHERE rid IN (SELECT rid FROM moved))")
		}
	}
	if index {
		b.WriteString(insertCTEs(n, "$1", "$6"))
	}
	b.WriteString("\nSELECT seq FROM ver")
	return b.String()
}

// indexArgs returns the index arrays of putSQL: per table, the param and
// comb arrays, the contained type array ("" but for a contained resource's
// rows), and one array per column. Rows are stored under v's patient key,
// whatever the entries say, so the access predicate on a row is the one on
// its resource, and under v's type, but for a contained resource's rows,
// under that resource's type.
func indexArgs(entries []search.Entry) []any {
	var args []any
	for i, rows := range sqlsearch.Flatten(entries) {
		t := sqlsearch.Tables[i]
		params := make([]string, len(rows))
		combs := make([]int32, len(rows))
		types := make([]string, len(rows))
		cols := make([]any, len(t.Columns))
		for j, c := range t.Columns {
			switch c.Kind {
			case sqlsearch.Int:
				cols[j] = make([]int64, len(rows))
			case sqlsearch.Num:
				cols[j] = make([]*string, len(rows))
			default:
				cols[j] = make([]string, len(rows))
			}
		}
		for k, r := range rows {
			params[k], combs[k], types[k] = r.Param, int32(r.Comb), r.Type
			for j, v := range r.Values {
				switch col := cols[j].(type) {
				case []int64:
					col[k] = v.(int64)
				case []*string:
					if rat := sqlsearch.Rat(v); rat != nil {
						s := search.DecimalString(rat)
						col[k] = &s
					}
				case []string:
					col[k] = v.(string)
				}
			}
		}
		args = append(args, params, combs, types)
		args = append(args, cols...)
	}
	return args
}

// putArgs returns the statement and arguments that put v.
func putArgs(v *store.Version, expect int64) (string, []any) {
	var body []byte
	if !v.Deleted {
		body = v.Body
	}
	args := []any{v.Type, v.ID, v.VersionID, v.Updated, v.Deleted, v.PatientKey, string(v.Method), v.Writer, body,
		v.Updated.UnixMicro()}
	index := !v.Deleted && len(v.Index) > 0
	query := createSQL
	switch {
	case expect > 0 && index:
		query = updateIndexSQL
	case expect > 0:
		query = updateSQL
	case index:
		query = createIndexSQL
	}
	if expect > 0 {
		args = append(args, expect)
	}
	if index {
		args = append(args, indexArgs(v.Index)...)
	}
	return query, args
}
