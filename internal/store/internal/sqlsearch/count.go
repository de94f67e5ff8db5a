package sqlsearch

import (
	"github.com/ehealthplus/ehealth/internal/search"
)

// countSQL is the statement counting plan's matches under b's access
// predicate.
//
// A resource has index rows only while it is current and not deleted, and
// its rows carry its type and patient key. So when a clause matches on the
// resource's own rows (a plain leaf: no chain, _has, :missing, :not or
// composite), the count can start from that clause's rows — checking the
// predicate on their patient key and the other clauses on their rid —
// without reading a resource_current row per match. The value index
// covers the rows and returns them in rid order (PostgreSQL's
// idx_token_code ends its key with rid and includes patient_key; SQLite's
// secondary indexes end with the table's key, rid first), so counting a
// code with 100k matches is one index-only range scan with no hashing.
func (b *builder) countSQL(plan *search.Query, patient string) (string, error) {
	drive := -1
	for i, c := range plan.Clauses {
		if rowDriven(c) {
			drive = i
			break
		}
	}
	if drive < 0 {
		where, err := b.where(plan, patient)
		if err != nil {
			return "", err
		}
		return "SELECT count(*) FROM resource_current c WHERE " + where, nil
	}
	sc := scope{types: plan.Types, patient: patient}
	if plan.ResourceType != "" {
		sc.types = []string{plan.ResourceType}
	}
	rows, err := b.leafRows(plan.Clauses[drive], sc, true)
	if err != nil {
		return "", err
	}
	var conds []string
	for i, c := range plan.Clauses {
		if i == drive {
			continue
		}
		cond, err := b.clause(c, sc, "d.rid")
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	return "SELECT count(*) FROM (SELECT DISTINCT d.rid FROM (" + rows + ") d WHERE " + and(conds...) + ") n", nil
}

// rowDriven reports whether clause c is answered by leafRows: a plain
// search on the resource's own index rows of one table.
func rowDriven(c search.Clause) bool {
	if c.Chain != nil || c.Has != nil || c.Param == nil || len(c.Values) == 0 {
		return false
	}
	switch c.Param.Code {
	case "_id", "_lastUpdated", "_list":
		return false
	}
	if search.IsFullText(c.Param.Code) || c.Param.Type == search.Composite || c.Param.Type == search.Special ||
		TableName(c.Param.Type) == "" {
		return false
	}
	switch c.Modifier {
	case search.ModMissing, search.ModNot, search.ModNotIn:
		return false
	}
	return true
}
