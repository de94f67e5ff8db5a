package sqlsearch

import (
	"context"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Include returns the current versions that from refer to through inc
// (_include) or that refer to from through it (_revinclude, rev true),
// visible under access, at most limit of them, in rid order
// (https://hl7.org/fhir/R4/search.html#include). Composite parts are not
// references of their own and are never followed.
func (e *Engine) Include(ctx context.Context, db DB, from []store.Version, inc search.Include, rev bool,
	access store.Access, limit int) ([]store.Version, error) {
	var types, ids []string
	for _, v := range from {
		if !v.Deleted {
			types, ids = append(types, v.Type), append(ids, v.ID)
		}
	}
	if len(types) == 0 || limit <= 0 {
		return nil, nil
	}
	b := &builder{d: e.d, access: access}
	r := b.alias("r")
	conds := []string{r + ".comb = 0", r + ".target_base = ''"}
	if inc.Source != "" && inc.Source != "*" {
		conds = append(conds, r+".res_type = "+b.arg(inc.Source))
	}
	if !inc.Wildcard && inc.Param != nil {
		conds = append(conds, r+".param = "+b.arg(inc.Param.Code))
	}
	if inc.Target != "" {
		conds = append(conds, r+".target_type = "+b.arg(inc.Target))
	}
	pairs := func(a, c string) string {
		return e.d.PairIn(a, c, b.arg(e.d.ListArg(types)), b.arg(e.d.ListArg(ids)))
	}
	var matches string
	if rev {
		// Resources whose reference rows point at from; the rows carry the
		// referring resource's patient key.
		conds = append(conds, pairs(r+".target_type", r+".target_id"), b.accessCond(r+".patient_key"))
		matches = "SELECT DISTINCT " + r + ".rid FROM idx_reference " + r + " WHERE " + and(conds...)
	} else {
		s, t := b.alias("s"), b.alias("t")
		conds = append(conds, pairs(s+".type", s+".id"), "NOT "+t+".deleted", b.accessCond(t+".patient_key"))
		matches = "SELECT DISTINCT " + t + ".rid FROM idx_reference " + r +
			" JOIN resource_current " + s + " ON " + s + ".rid = " + r + ".rid" +
			" JOIN resource_current " + t + " ON " + t + ".type = " + r + ".target_type AND " + t + ".id = " + r + ".target_id" +
			" WHERE " + and(conds...)
	}
	sql := "SELECT m.rid, " + e.versions + " FROM (" + matches + " ORDER BY 1 LIMIT " + b.arg(limit) + ") m" +
		" JOIN resource_current c ON c.rid = m.rid" +
		" " + b.d.versionJoin() + " resource_versions v ON v.type = c.type AND v.id = c.id AND v.version_id = c.version_id ORDER BY m.rid"
	rows, err := db.Query(ctx, sql, b.args, 1)
	if err != nil {
		return nil, fmt.Errorf("search include: %w", err)
	}
	out := make([]store.Version, len(rows))
	for i, row := range rows {
		out[i] = row.Version
	}
	return out, nil
}
