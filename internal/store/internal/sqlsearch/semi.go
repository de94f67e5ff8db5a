package sqlsearch

import (
	"context"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Pages that stop early.
//
// A _has or chain clause can be answered two ways. Selecting the whole
// set it matches (every Observation with the code, then the patients
// they refer to) for an IN costs O(that set) whatever the page size: at
// 3.76M resources the most common code has 100k Observations. Probing
// it as a correlated EXISTS per resource, read in the page's order
// (resource_current by (type, rid), or the keyset after a cursor),
// stops after _count+1 matches — but when few resources match it reads
// most of the searched type to find them. Neither database can tell the
// two apart from its statistics (SQLite never turns a correlated EXISTS
// into a join; PostgreSQL's estimates for a code inside a semi-join are
// guesses), so the engine looks first: it reads at most broadAt rows of
// each such clause's set (semiJoins). A set that has them is broad and
// the page probes; a narrower one is cheap to select whole.
//
// The access predicate is the same either way: the referring resource
// of a _has (its reference row's patient key) and the target of a chain
// are checked where they are read, inside the EXISTS.

// broadAt is how many rows of a _has or chain clause's set make it broad
// enough to probe per resource: reading that many costs about what
// probing a page's worth of resources does on the Synthea data, where
// about every tenth resource of a type matches a broad clause.
const broadAt = 2000

// semiJoins reports whether q's _has and chain clauses should be probed
// per resource (builder.semi): whether one of them at the top level
// matches a set of at least broadAt rows. Plans without such clauses
// need no look.
func (e *Engine) semiJoins(ctx context.Context, db DB, q store.SearchQuery) (bool, error) {
	sc := scope{types: q.Plan.Types, patient: q.Patient}
	if q.Plan.ResourceType != "" {
		sc.types = []string{q.Plan.ResourceType}
	}
	for _, c := range q.Plan.Clauses {
		if c.Chain == nil && c.Has == nil {
			continue
		}
		b := &builder{d: e.d, access: q.Access}
		var rows string
		if c.Chain != nil {
			var err error
			if rows, err = b.chainTargets(c); err != nil {
				return false, err
			}
		} else {
			var err error
			if rows, err = b.hasSize(c, sc); err != nil {
				return false, err
			}
		}
		n, err := db.Count(ctx, "SELECT count(*) FROM ("+rows+" LIMIT "+b.arg(e.broad())+") p", b.args)
		if err != nil {
			return false, fmt.Errorf("search: size of %s: %w", clauseName(c), err)
		}
		if n >= int64(e.broad()) {
			return true, nil
		}
	}
	return false, nil
}

func (e *Engine) broad() int {
	if e.broadAt > 0 {
		return e.broadAt
	}
	return broadAt
}

// chainTargets selects the targets chain clause c can reach: visible
// resources of the chain's types matching the chained clause. A chain is
// broad by its targets, not by its references: the resources referring to
// one target are contiguous in rid order (a patient's records are written
// together), so a walk in rid order meets a match about once per target,
// and a few targets with many references each would be found only after
// reading most of the type.
func (b *builder) chainTargets(c search.Clause) (string, error) {
	t := b.alias("t")
	inner, err := b.clause(c.Chain.Clause, scope{types: c.Chain.Types, row: t}, t+".rid")
	if err != nil {
		return "", err
	}
	return "SELECT 1 FROM resource_current " + t + " WHERE " + and(b.typeCond(t+".type", c.Chain.Types), "NOT "+t+".deleted",
		b.accessCond(b.unindexed(t+".patient_key")), inner), nil
}

// hasSize selects a row for each reference of _has clause c's set. When
// the inner clause is a plain one, its index rows drive a join to the
// references (one probe each, streamed: a LIMIT stops it), not an IN,
// which PostgreSQL answers by first hashing every rid of the inner clause
// (all 100k of a common code).
func (b *builder) hasSize(c search.Clause, sc scope) (string, error) {
	r := b.alias("r")
	if !rowDriven(c.Has.Clause) || c.Has.Ref == nil {
		refs, err := b.hasRefs(c, r)
		if err != nil {
			return "", err
		}
		return b.hasRows(sc, r, refs), nil
	}
	h := c.Has
	rows, err := b.leafRows(h.Clause, scope{types: []string{h.Type}}, false)
	if err != nil {
		return "", err
	}
	return "SELECT 1 FROM (" + rows + ") d JOIN idx_reference " + r + " ON " + r + ".rid = d.rid WHERE " +
		and(r+".res_type = "+b.arg(h.Type), r+".param = "+b.arg(h.Ref.Code), r+".target_base = ''",
			b.accessCond(b.unindexed(r+".patient_key")), b.typeCond(r+".target_type", sc.types)), nil
}

// clauseName names a clause in an error: its parameter or _has.
func clauseName(c search.Clause) string {
	switch {
	case c.Has != nil:
		return "_has:" + c.Has.Type
	case c.Param != nil:
		return c.Param.Code
	}
	return "a clause"
}

// joins reports whether plan has a _has or chain clause at the top level:
// the shapes whose accurate count costs O(the set they match).
func joins(plan *search.Query) bool {
	for _, c := range plan.Clauses {
		if c.Chain != nil || c.Has != nil {
			return true
		}
	}
	return false
}

// chainProbe is chain clause c as a semi-join probed from the resource
// whose rid is rid: its reference rows by (rid, param), each target by
// its key, the chained clause probed on the target.
func (b *builder) chainProbe(c search.Clause, sc scope, rid string) (string, error) {
	r, t := b.alias("r"), b.alias("t")
	conds, err := b.chainConds(c, sc, r, t)
	if err != nil {
		return "", err
	}
	return "EXISTS (SELECT 1 FROM idx_reference " + r + " JOIN resource_current " + t + " ON " + t + ".type = " + r +
		".target_type AND " + t + ".id = " + r + ".target_id WHERE " + and(r+".rid = "+rid, conds) + b.d.Fence + ")", nil
}

// hasProbe is a _has as a semi-join probed from the resource: the
// references to its (type, id), refs holding on each (alias r). Without
// its row at hand (a _has inside a _has), the resource is looked up by rid.
func (b *builder) hasProbe(sc scope, rid, r, refs string) string {
	if sc.row != "" {
		return "EXISTS (SELECT 1 FROM idx_reference " + r + " WHERE " +
			and(r+".target_id = "+sc.row+".id", r+".target_type = "+sc.row+".type", refs) + b.d.Fence + ")"
	}
	t := b.alias("t")
	return "EXISTS (SELECT 1 FROM resource_current " + t + " JOIN idx_reference " + r + " ON " + r + ".target_id = " + t +
		".id AND " + r + ".target_type = " + t + ".type WHERE " + and(t+".rid = "+rid, b.typeCond(t+".type", sc.types), refs) + b.d.Fence + ")"
}

// leafProbe is leaf clause c checked on one resource's own rows, found by
// its rid.
func (b *builder) leafProbe(c search.Clause, sc scope, rid string) (string, error) {
	x := b.alias("x")
	conds, err := b.values(c, c.Param.Type, x)
	if err != nil {
		return "", err
	}
	return "EXISTS (SELECT 1 FROM " + TableName(c.Param.Type) + " " + x + " WHERE " +
		and(x+".rid = "+rid, x+".param = "+b.arg(c.Param.Code), b.rowScope(x, sc), or(conds)) + b.d.Fence + ")", nil
}

// Totals that do not cost the page.
//
// Bundle.total is optional and the server chooses when _total is not
// given (https://hl7.org/fhir/R4/search.html#total). An accurate count of
// a _has or chain clause reads every match, which is what a page that
// stops early avoids, so for those shapes the engine counts exactly only
// when asked (_total=accurate, _summary=count); otherwise the total is
// exact when it is cheap to know — the first page holds every match, or
// there are at most totalCap matches (a count that stops at totalCap+1)
// — and absent beyond that. _total=estimate beyond the cap is the
// database planner's estimate of the matches where the driver has one
// (PostgreSQL: Estimator), at least totalCap+1; SQLite gives none. Other
// shapes count exactly, as a count of their plain clauses reads an
// index range.

// totalCap is the most matches a _has or chain search counts exactly
// without _total=accurate.
const totalCap = 100

// Estimator is a DB whose planner estimates how many rows a query
// returns.
type Estimator interface {
	Estimate(ctx context.Context, sql string, args []any) (int64, error)
}

// exactTotal reports whether a search of plan counts every match before
// its page: when asked to, when only the count is wanted, and for shapes
// whose count reads no more than an index range.
func exactTotal(plan *search.Query) bool {
	switch {
	case plan.Summary == "count", plan.Total == "accurate", plan.Count <= 0:
		return true
	case plan.Total == "none":
		return false
	}
	return !joins(plan)
}

// boundedTotal is the total of a page whose search did not count exactly
// (-1 for none): n when whole (the first page holds every match), else a
// count that stops after totalCap+1 matches, exact below it; beyond it
// an estimate if the plan asked for one and db can make it.
func (e *Engine) boundedTotal(ctx context.Context, db DB, q store.SearchQuery, semi, whole bool, n int) (int64, error) {
	if whole {
		return int64(n), nil
	}
	b := &builder{d: e.d, access: q.Access, semi: semi}
	where, err := b.where(q.Plan, q.Patient)
	if err != nil {
		return 0, err
	}
	matches := "SELECT 1 FROM resource_current c WHERE " + where
	capped, err := db.Count(ctx, "SELECT count(*) FROM ("+matches+" LIMIT "+b.arg(totalCap+1)+") n", b.args)
	if err != nil {
		return 0, fmt.Errorf("search count: %w", err)
	}
	if capped <= totalCap {
		return capped, nil
	}
	est, ok := db.(Estimator)
	if q.Plan.Total != "estimate" || !ok {
		return -1, nil
	}
	m, err := est.Estimate(ctx, matches, b.args[:len(b.args)-1])
	if err != nil {
		return 0, fmt.Errorf("search estimate: %w", err)
	}
	return max(m, capped), nil
}
