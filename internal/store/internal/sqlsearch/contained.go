package sqlsearch

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Contained resources (https://hl7.org/fhir/R4/search.html#contained;
// search/contained.go, SCHEMA.md). A contained resource's rows are stored
// with its container's (same rid and patient key) under the contained
// resource's type, with param "<code>#contained" and comb its position in
// the container's contained list. No other query names such a param or
// reads a row with comb <> 0 outside a composite's own params, so today's
// searches never see them; and as a composite's parts are joined on (rid,
// comb), every clause of a contained search is held to one contained
// resource by its (rid, comb). Each contained resource has one
// "_id#contained" token row, its local id as code: the anchor a contained
// search starts from.

// containedSuffix ends the param of a contained resource's rows. A
// reindex deleting a parameter's rows also deletes these, as it deletes a
// composite's "<code>#<i>" parts.
const containedSuffix = "#contained"

// containedSig is the sort signature sealed into the cursors of
// SearchContained, so a cursor of another search is refused.
const containedSig = "#contained"

// addContained adds the row of a contained resource's entry; composite
// and position rows have no plain values and are not stored.
func addContained(out [][]FlatRow, e search.Entry) {
	if e.Row == nil {
		return
	}
	i := tableOf(e.Row.Kind())
	vals := values(e.Row)
	if i < 0 || vals == nil {
		return
	}
	out[i] = append(out[i], FlatRow{Param: e.Code + containedSuffix, Comb: int64(e.Contained), Type: e.ResourceType, Values: vals})
}

// SearchesContained reports whether q matches contained resources, so
// its page comes from SearchContained rather than Search.
func SearchesContained(q store.SearchQuery) bool { return q.Plan != nil && q.Plan.SearchesContained() }

// SearchContained runs one page of a search with _contained=true or both.
// Its matches are units (rid, k): k = 0 for a resource that matches
// itself, k > 0 for the k-th resource it contains. With
// _containedType=container a container is one unit, however many of its
// contained resources match; with contained each contained match is one,
// returned as its container's version with Contained = k. Units are
// ordered by (rid, k) and paged by a cursor on it; there is no _sort
// (search.Parse refuses it). The count is of units, under the predicate.
func (e *Engine) SearchContained(ctx context.Context, db DB, q store.SearchQuery) (store.SearchPage, error) {
	plan := q.Plan
	b := &builder{d: e.d, access: q.Access}
	units, err := b.units(plan, q.Patient)
	if err != nil {
		return store.SearchPage{}, err
	}
	page := store.SearchPage{Total: -1}
	if plan.Total != "none" || plan.Summary == "count" {
		n, err := db.Count(ctx, "SELECT count(*) FROM ("+units+") m", b.args)
		if err != nil {
			return store.SearchPage{}, fmt.Errorf("search count: %w", err)
		}
		page.Total = n
	}
	if plan.Summary == "count" || plan.Count <= 0 {
		return page, nil
	}
	cur, err := e.unitCursorOf(q.After)
	if err != nil {
		return store.SearchPage{}, err
	}
	back := cur != nil && cur.Back
	rows, err := db.Query(ctx, e.unitPageSQL(b, units, cur, plan.Count+1), b.args, 2)
	if err != nil {
		return store.SearchPage{}, fmt.Errorf("search: %w", err)
	}
	more := len(rows) > plan.Count
	if more {
		rows = rows[:plan.Count]
	}
	if back {
		slices.Reverse(rows)
	}
	if len(rows) > 0 {
		if more || back {
			if page.Next, err = e.unitCursor(rows[len(rows)-1], false); err != nil {
				return store.SearchPage{}, err
			}
		}
		if (back && more) || (!back && cur != nil) {
			if page.Previous, err = e.unitCursor(rows[0], true); err != nil {
				return store.SearchPage{}, err
			}
		}
	}
	for _, r := range rows {
		v := r.Version
		if plan.ReturnsContained() {
			v.Contained = int(scalarInt(r.Scalars[1]))
		}
		page.Versions = append(page.Versions, v)
	}
	return page, nil
}

// unitCursorOf opens the cursor after ("" for the first page: nil), which
// must be one of SearchContained's, naming a unit (rid, k).
func (e *Engine) unitCursorOf(after string) (*cursor, error) {
	if after == "" {
		return nil, nil
	}
	c, err := e.cursors.open(after, containedSig)
	if err != nil || len(c.Keys) != 1 || c.Keys[0] == nil {
		return nil, outcome.New(outcome.Invalid, "the paging cursor is not valid for this search; start it again")
	}
	if _, err := strconv.ParseInt(*c.Keys[0], 10, 64); err != nil {
		return nil, outcome.New(outcome.Invalid, "the paging cursor is not valid for this search; start it again")
	}
	return &c, nil
}

// unitPageSQL selects a page of units with their versions, after (or,
// going back, before) the cursor's unit, reading backwards in reverse.
func (e *Engine) unitPageSQL(b *builder, units string, cur *cursor, limit int) string {
	beyond, dir := "", ""
	if cur != nil {
		k, _ := strconv.ParseInt(*cur.Keys[0], 10, 64) // checked by unitCursorOf
		op := " > "
		if cur.Back {
			op, dir = " < ", " DESC"
		}
		rid := b.arg(cur.RID)
		beyond = " WHERE (m.rid" + op + rid + " OR (m.rid = " + rid + " AND m.k" + op + b.arg(k) + "))"
	}
	return "SELECT m.rid, m.k, " + e.versions + " FROM (" + units + ") m" +
		" JOIN resource_current c ON c.rid = m.rid" +
		" " + b.d.versionJoin() + " resource_versions v ON v.type = c.type AND v.id = c.id AND v.version_id = c.version_id" + beyond +
		" ORDER BY m.rid" + dir + ", m.k" + dir + " LIMIT " + b.arg(limit)
}

// unitCursor seals the position of unit r: pages after it, or before it when back.
func (e *Engine) unitCursor(r Row, back bool) (string, error) {
	k := strconv.FormatInt(scalarInt(r.Scalars[1]), 10)
	s, err := e.cursors.seal(cursor{Sig: containedSig, Keys: []*string{&k}, RID: scalarInt(r.Scalars[0]), Back: back})
	if err != nil {
		return "", fmt.Errorf("search cursor: %w", err)
	}
	return s, nil
}

// scalarInt reads an integer column as the drivers scan it (PostgreSQL's
// int is an int32).
func scalarInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	}
	return 0
}

// units is the SQL of plan's matches as units (rid, k) — see
// SearchContained — each visible under the access predicate and, when
// patient is set, in that patient's compartment.
func (b *builder) units(plan *search.Query, patient string) (string, error) {
	sc := scope{types: plan.Types, patient: patient}
	if plan.ResourceType != "" {
		sc.types = []string{plan.ResourceType}
	}
	a := b.alias("a")
	conds := []string{a + ".param = " + b.arg("_id"+containedSuffix), b.rowScope(a, sc), b.scopedAccess(a+".patient_key", sc)}
	for _, cl := range plan.Clauses {
		cond, err := b.containedClause(cl, sc, a)
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	k, distinct, union := a+".comb", "", " UNION ALL "
	if !plan.ReturnsContained() {
		k, distinct, union = "0", "DISTINCT ", " UNION "
	}
	contained := "SELECT " + distinct + a + ".rid AS rid, " + k + " AS k FROM idx_token " + a + " WHERE " + and(conds...)
	if !plan.SearchesTopLevel() {
		return contained, nil
	}
	top := *plan
	top.Contained = "false"
	where, err := b.where(&top, patient)
	if err != nil {
		return "", err
	}
	return "SELECT c.rid AS rid, 0 AS k FROM resource_current c WHERE " + where + union + contained, nil
}

// containedClause is the condition that the contained resource whose
// anchor row is alias a matches c: the rows of c's parameter with a's rid
// and comb. Which clauses a contained resource can meet is search's
// decision (checkContained); the rest are refused here too.
func (b *builder) containedClause(c search.Clause, sc scope, a string) (string, error) {
	switch {
	case c.Param == nil:
		return "", outcome.New(outcome.Internal, "search: clause without a parameter")
	case c.Chain != nil:
		return b.containedChain(c, sc, a)
	case c.Has != nil || c.Param.Type == search.Composite || c.Param.Code == "_lastUpdated" ||
		search.IsFullText(c.Param.Code) || c.Param.Code == "_list":
		return "", unsupportedContained(c)
	}
	table := TableName(c.Param.Type)
	if table == "" {
		return "", unsupportedContained(c)
	}
	param := b.arg(c.Param.Code + containedSuffix)
	x := b.alias("x")
	same := x + ".rid = " + a + ".rid AND " + x + ".comb = " + a + ".comb AND " + x + ".param = " + param
	if c.Modifier == search.ModMissing {
		exists := "EXISTS (SELECT 1 FROM " + table + " " + x + " WHERE " + same + ")"
		if len(c.Values) > 0 && c.Values[0].Missing {
			return "NOT " + exists, nil
		}
		return exists, nil
	}
	var conds []string
	for _, v := range c.Values {
		cond, err := b.value(c, c.Param.Type, c.Modifier, v, x)
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	if c.Modifier == search.ModNot || c.Modifier == search.ModNotIn {
		return "NOT EXISTS (SELECT 1 FROM " + table + " " + x + " WHERE " + same + " AND " + or(conds) + ")", nil
	}
	return "(" + a + ".rid, " + a + ".comb) IN (SELECT " + x + ".rid, " + x + ".comb FROM " + b.from(table, x, sc) + " WHERE " +
		and(x+".param = "+param, b.rowScope(x, sc), or(conds)) + ")", nil
}

// containedChain: the contained resource refers through c.Param to a
// visible resource of one of the chain's types that matches the chained
// clause. References to the container's other contained resources ("#id")
// name no resource and are not followed.
func (b *builder) containedChain(c search.Clause, sc scope, a string) (string, error) {
	r, t := b.alias("r"), b.alias("t")
	inner, err := b.clause(c.Chain.Clause, scope{types: c.Chain.Types, row: t}, t+".rid")
	if err != nil {
		return "", err
	}
	conds := and(r+".param = "+b.arg(c.Param.Code+containedSuffix), b.rowScope(r, sc), r+".target_base = ''",
		b.typeCond(t+".type", c.Chain.Types), "NOT "+t+".deleted", b.accessCond(t+".patient_key"), inner)
	return "(" + a + ".rid, " + a + ".comb) IN (SELECT " + r + ".rid, " + r + ".comb FROM " + b.from("idx_reference", r, sc) +
		" JOIN resource_current " + t + " ON " + t + ".type = " + r + ".target_type AND " + t + ".id = " + r + ".target_id WHERE " + conds + ")", nil
}

func unsupportedContained(c search.Clause) error {
	name := c.Param.Code
	if c.Has != nil {
		name = "_has"
	}
	return outcome.New(outcome.Invalid, "search parameter %s (%s) is not supported on contained resources by this store", name, c.Param.Type)
}

// explainContained is Explain for a search with _contained=true or both:
// the page SQL of SearchContained (the count for _summary=count).
func (e *Engine) explainContained(ctx context.Context, db DB, q store.SearchQuery) (string, error) {
	b := &builder{d: e.d, access: q.Access}
	units, err := b.units(q.Plan, q.Patient)
	if err != nil {
		return "", err
	}
	sql := "SELECT count(*) FROM (" + units + ") m"
	if q.Plan.Summary != "count" && q.Plan.Count > 0 {
		cur, err := e.unitCursorOf(q.After)
		if err != nil {
			return "", err
		}
		sql = e.unitPageSQL(b, units, cur, q.Plan.Count+1)
	}
	text, err := db.Plan(ctx, sql, b.args)
	if err != nil {
		return "", fmt.Errorf("search explain: %w", err)
	}
	return "SQL:\n" + sql + "\n\nPlan:\n" + text, nil
}
