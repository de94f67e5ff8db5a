package sqlsearch

import (
	"context"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Explain returns the SQL that Search would run for q's page (the count
// query for _summary=count) and the database's plan for it. The SQL keeps
// its placeholders: values are bound for the plan but never written out,
// so the text holds no PHI. The plan is the driver's (DB.Plan).
func (e *Engine) Explain(ctx context.Context, db DB, q store.SearchQuery) (string, error) {
	plan := q.Plan
	if plan == nil {
		return "", outcome.New(outcome.Internal, "search: no plan")
	}
	if SearchesContained(q) {
		return e.explainContained(ctx, db, q)
	}
	b := &builder{d: e.d, access: q.Access}
	sql, err := b.countSQL(plan, q.Patient)
	if err != nil {
		return "", err
	}
	if plan.Summary != "count" && plan.Count > 0 {
		semi := false
		if joins(plan) {
			if semi, err = e.semiJoins(ctx, db, q); err != nil {
				return "", err
			}
		}
		b = &builder{d: e.d, access: q.Access, semi: semi}
		where, err := b.where(plan, q.Patient)
		if err != nil {
			return "", err
		}
		keys, sig, err := b.sortKeys(plan.Sort)
		if err != nil {
			return "", err
		}
		after, back := "", false
		if q.After != "" {
			cur, err := e.cursors.open(q.After, sig)
			if err != nil || len(cur.Keys) != len(keys) {
				return "", outcome.New(outcome.Invalid, "the paging cursor is not valid for this search; start it again")
			}
			after, back = " WHERE "+b.beyond(keys, cur), cur.Back
		}
		sql = e.pageSQL(b, where, keys, after, plan.Count+1, back)
	}
	text, err := db.Plan(ctx, sql, b.args)
	if err != nil {
		return "", fmt.Errorf("search explain: %w", err)
	}
	return "SQL:\n" + sql + "\n\nPlan:\n" + text, nil
}
