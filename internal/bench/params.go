package bench

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// Params are the query parameters picked from the data.
type Params struct {
	ObsCode       string   `json:"observation_code"` // system|code of the most common Observation code
	ObsCodeCount  int64    `json:"observation_code_count"`
	CondCode      string   `json:"condition_code"` // system|code of the most common Condition code
	CondCodeCount int64    `json:"condition_code_count"`
	PatientsTotal int      `json:"patients_total"`
	Visible       []string `json:"-"`        // every other Patient id: the half-hiding predicate
	Patients      []string `json:"patients"` // visible patients with ObsCode, queried in turn
	Families      []string `json:"families"` // their family names, for the chained query
}

// maxQueried bounds the patients the clients cycle through.
const maxQueried = 50

// pick chooses parameters from the store's tables, from the resources
// writer wrote ("": all). Patients queried are drawn from the visible half
// (see halve), so every query has results in both runs.
func pick(ctx context.Context, db *sql.DB, writer string) (Params, error) {
	var p Params
	var err error
	var sys, code string
	if sys, code, p.ObsCodeCount, err = commonCode(ctx, db, "Observation", writer); err != nil {
		return p, err
	}
	p.ObsCode = sys + "|" + code
	var csys, ccode string
	if csys, ccode, p.CondCodeCount, err = commonCode(ctx, db, "Condition", writer); err != nil {
		return p, err
	}
	p.CondCode = csys + "|" + ccode
	all, err := column(ctx, db, "SELECT id FROM resource_current WHERE type = 'Patient'"+byWriter("", writer)+" ORDER BY id")
	if err != nil {
		return p, err
	}
	p.PatientsTotal = len(all)
	withObs, err := column(ctx, db, fmt.Sprintf(
		"SELECT DISTINCT patient_key FROM idx_token WHERE res_type = 'Observation' AND param = 'code' AND code = %s ORDER BY patient_key",
		quote(code)))
	if err != nil {
		return p, err
	}
	p.Visible, p.Patients = halve(all, withObs)
	if len(p.Patients) == 0 {
		return p, fmt.Errorf("bench: no patient has an Observation with code %s", p.ObsCode)
	}
	for _, id := range p.Patients {
		fam, err := column(ctx, db, fmt.Sprintf(
			"SELECT exact FROM idx_string WHERE res_type = 'Patient' AND param = 'family' AND patient_key = %s ORDER BY exact LIMIT 1", quote(id)))
		if err != nil {
			return p, err
		}
		if len(fam) > 0 {
			p.Families = append(p.Families, fam[0])
		}
	}
	if len(p.Families) == 0 {
		return p, fmt.Errorf("bench: the chosen patients have no family names")
	}
	sort.Strings(p.Families)
	return p, nil
}

// halve splits the patients for the predicate: every other patient with
// the Observation code, and every other patient of the rest, are visible,
// so the predicate hides half of both and the queried patients (the first
// maxQueried visible ones with the code) are never hidden.
func halve(all, withCode []string) (visible, queried []string) {
	has := map[string]bool{}
	for i, id := range withCode {
		has[id] = true
		if i%2 == 0 {
			visible = append(visible, id)
			if len(queried) < maxQueried {
				queried = append(queried, id)
			}
		}
	}
	i := 0
	for _, id := range all {
		if has[id] {
			continue
		}
		if i%2 == 0 {
			visible = append(visible, id)
		}
		i++
	}
	return visible, queried
}

// commonCode is the most frequent code of typ's code parameter among the
// resources writer wrote ("": all).
func commonCode(ctx context.Context, db *sql.DB, typ, writer string) (system, code string, n int64, err error) {
	cond := ""
	if writer != "" {
		cond = " AND rid IN (SELECT rid FROM resource_current WHERE type = " + quote(typ) + byWriter("", writer) + ")"
	}
	q := fmt.Sprintf(`SELECT system, code, count(*) AS n FROM idx_token
		WHERE res_type = %s AND param = 'code' AND code <> ''%s
		GROUP BY system, code ORDER BY n DESC, code LIMIT 1`, quote(typ), cond)
	if err := db.QueryRowContext(ctx, q).Scan(&system, &code, &n); err != nil {
		return "", "", 0, fmt.Errorf("bench: most common %s code: %w", typ, err)
	}
	return system, code, n, nil
}

// column runs a one-column query.
func column(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// quote is a SQL string literal; the picks run as literals because
// SQLite and PostgreSQL spell placeholders differently.
func quote(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// byWriter is the condition " AND [alias.]writer = writer", or "" for
// any writer.
func byWriter(alias, writer string) string {
	if writer == "" {
		return ""
	}
	if alias != "" {
		alias += "."
	}
	return " AND " + alias + "writer = " + quote(writer)
}
