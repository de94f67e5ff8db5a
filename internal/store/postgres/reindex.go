package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store/internal/putcheck"
	"github.com/ehealthplus/ehealth/internal/store/internal/sqlsearch"
)

// lockCurrentSQL locks the resource's current-version row, so a concurrent
// Put of a newer version waits for the reindex (and then replaces its rows)
// rather than having its rows replaced by ones of an older version.
const lockCurrentSQL = `SELECT rid, deleted, patient_key FROM resource_current
WHERE type = $1 AND id = $2 FOR UPDATE`

// replaceSQL deletes, from every index table, resource $1's rows of the
// parameters $2 (the codes) and their composite parts ("code#0" …); the
// insert CTEs of putSQL then add the new rows, with $3 as the type and
// $4 as the patient key. One statement, one round trip.
var replaceSQL = func() string {
	var b strings.Builder
	b.WriteString("WITH moved AS (SELECT $1::bigint AS rid)")
	for i, t := range sqlsearch.Tables {
		b.WriteString(", d" + strconv.Itoa(i) + " AS (DELETE FROM " + t.Name +
			" WHERE rid = $1 AND (param = ANY($2::text[]) OR (strpos(param, '#') > 0 AND split_part(param, '#', 1) = ANY($2::text[]))))")
	}
	b.WriteString(insertCTEs(4, "$3", "$4"))
	b.WriteString("\nSELECT 1")
	return b.String()
}()

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
	err := t.tx.QueryRow(ctx, lockCurrentSQL, typ, id).Scan(&rid, &deleted, &patientKey)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && deleted) {
		return nil
	}
	if err == nil {
		args := append([]any{rid, codes, typ, patientKey}, indexArgs(entries)...)
		_, err = t.tx.Exec(ctx, replaceSQL, args...)
	}
	if err != nil {
		return fmt.Errorf("postgres: reindex %s/%s: %w", typ, id, err)
	}
	return nil
}
