package sqlsearch

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// DB is what the engine needs from a driver: run a query whose select list
// is some scalar columns followed by the version columns of alias v
// (Dialect.VersionColumns), run a count, and explain a query.
type DB interface {
	Query(ctx context.Context, sql string, args []any, scalars int) ([]Row, error)
	Count(ctx context.Context, sql string, args []any) (int64, error)
	// Plan returns the database's query plan for sql with args bound, as
	// text, one step a line.
	Plan(ctx context.Context, sql string, args []any) (string, error)
}

// Row is one result row: the leading scalar columns, as scanned, and the version.
type Row struct {
	Scalars []any
	Version store.Version
}

// Engine runs searches and includes for one store.
type Engine struct {
	d        *Dialect
	versions string // the select list of a version, alias v
	cursors  sealer
	broadAt  int // rows that make a _has or chain clause broad (semi.go); 0: the default
}

// New returns an engine for dialect d; versionColumns is the driver's
// select list of a resource_versions row aliased v, which its DB scans.
func New(d *Dialect, versionColumns string) (*Engine, error) {
	s, err := newSealer()
	if err != nil {
		return nil, err
	}
	return &Engine{d: d, versions: versionColumns, cursors: s}, nil
}

// sortKey is one ORDER BY key: an expression on resource_current alias c.
type sortKey struct {
	expr string
	kind ColKind // how the cursor binds the key back
	desc bool
	// set: every resource has the key (_id, _lastUpdated), so the order
	// needs no "missing last" term and an index in the key's order (the
	// type's resource_current rows by update time) can give the page
	// without sorting every match.
	set bool
}

// Search runs one page of q on db.
func (e *Engine) Search(ctx context.Context, db DB, q store.SearchQuery) (store.SearchPage, error) {
	plan := q.Plan
	if plan == nil {
		return store.SearchPage{}, outcome.New(outcome.Internal, "search: no plan")
	}
	semi := false
	if joins(plan) && plan.Summary != "count" && plan.Count > 0 {
		var err error
		if semi, err = e.semiJoins(ctx, db, q); err != nil {
			return store.SearchPage{}, err
		}
	}
	decide := e.decider(ctx, db, q.Access)
	b := &builder{d: e.d, access: q.Access, semi: semi, decide: decide}
	where, err := b.where(plan, q.Patient)
	if err == nil {
		err = b.err
	}
	if err != nil {
		return store.SearchPage{}, err
	}
	page := store.SearchPage{Total: -1}
	if exactTotal(plan) {
		cb := &builder{d: e.d, access: q.Access, decide: decide}
		sql, err := cb.countSQL(plan, q.Patient)
		if err == nil {
			err = cb.err
		}
		if err != nil {
			return store.SearchPage{}, err
		}
		n, err := db.Count(ctx, sql, cb.args)
		if err != nil {
			return store.SearchPage{}, fmt.Errorf("search count: %w", err)
		}
		page.Total = n
	}
	if plan.Summary == "count" || plan.Count <= 0 {
		return page, nil
	}
	keys, sig, err := b.sortKeys(plan.Sort)
	if err != nil {
		return store.SearchPage{}, err
	}
	var cur *cursor
	beyond := ""
	if q.After != "" {
		c, err := e.cursors.open(q.After, sig)
		if err != nil || len(c.Keys) != len(keys) {
			return store.SearchPage{}, outcome.New(outcome.Invalid, "the paging cursor is not valid for this search; start it again")
		}
		cur = &c
		beyond = " WHERE " + b.beyond(keys, c)
	}
	back := cur != nil && cur.Back
	rows, err := db.Query(ctx, e.pageSQL(b, where, keys, beyond, plan.Count+1, back), b.args, len(keys)+1)
	if err != nil {
		return store.SearchPage{}, fmt.Errorf("search: %w", err)
	}
	more := len(rows) > plan.Count // rows beyond this page, in the direction read
	if more {
		rows = rows[:plan.Count]
	}
	if back {
		slices.Reverse(rows)
	}
	if len(rows) > 0 {
		// Going forward there is a next page if more rows followed, and a
		// previous one unless this is the first; going back, the page we
		// came from follows, and a previous one if more rows preceded.
		if more || back {
			if page.Next, err = e.cursorAt(rows[len(rows)-1], sig, len(keys), false); err != nil {
				return store.SearchPage{}, err
			}
		}
		if (back && more) || (!back && cur != nil) {
			if page.Previous, err = e.cursorAt(rows[0], sig, len(keys), true); err != nil {
				return store.SearchPage{}, err
			}
		}
	}
	for _, r := range rows {
		page.Versions = append(page.Versions, r.Version)
	}
	if page.Total < 0 && plan.Total != "none" {
		if page.Total, err = e.boundedTotal(ctx, db, q, semi, cur == nil && !more, len(rows)); err != nil {
			return store.SearchPage{}, err
		}
	}
	return page, nil
}

// cursorAt seals the position of row r: pages after it, or before it when back.
func (e *Engine) cursorAt(r Row, sig string, nkeys int, back bool) (string, error) {
	cur := cursor{Sig: sig, RID: r.Scalars[nkeys].(int64), Back: back}
	for _, v := range r.Scalars[:nkeys] {
		cur.Keys = append(cur.Keys, keyText(v))
	}
	s, err := e.cursors.seal(cur)
	if err != nil {
		return "", fmt.Errorf("search cursor: %w", err)
	}
	return s, nil
}

// pageSQL selects the matches with their sort keys in an inner query, so
// the keyset condition and ORDER BY can name the keys, then joins the
// versions of one page. Reading back (towards the previous page), the
// order is reversed and the caller reverses the rows.
func (e *Engine) pageSQL(b *builder, where string, keys []sortKey, beyond string, limit int, back bool) string {
	var inner, outer, order strings.Builder
	inner.WriteString("SELECT c.rid, c.type, c.id, c.version_id")
	nulls, rid := "", ""
	if back {
		nulls, rid = " DESC", " DESC"
	}
	for i, k := range keys {
		m := "m.k" + strconv.Itoa(i)
		fmt.Fprintf(&inner, ", %s AS k%d", k.expr, i)
		if k.kind == Num {
			outer.WriteString(e.d.NumKeyOut(m) + ", ")
		} else {
			outer.WriteString(m + ", ")
		}
		dir := ""
		if k.desc != back {
			dir = " DESC"
		}
		if !k.set {
			fmt.Fprintf(&order, "%s IS NULL%s, ", m, nulls)
		}
		fmt.Fprintf(&order, "%s%s, ", m, dir)
	}
	inner.WriteString(" FROM resource_current c WHERE " + where)
	return "SELECT " + outer.String() + "m.rid, " + e.versions + " FROM (" + inner.String() + ") m" +
		" " + b.d.versionJoin() + " resource_versions v ON v.type = m.type AND v.id = m.id AND v.version_id = m.version_id" + beyond +
		" ORDER BY " + order.String() + "m.rid" + rid + " LIMIT " + b.arg(limit)
}

// beyond is the keyset condition: rows that sort after the cursor's row
// under ORDER BY (k IS NULL, k [DESC]) …, rid — or before it for a cursor
// that pages back.
func (b *builder) beyond(keys []sortKey, cur cursor) string {
	op := " > "
	if cur.Back {
		op = " < "
	}
	cond := "m.rid" + op + b.arg(cur.RID)
	for i := len(keys) - 1; i >= 0; i-- {
		k := "m.k" + strconv.Itoa(i)
		if cur.Keys[i] == nil { // missing values sort last
			if cur.Back { // every present value precedes
				cond = "(" + k + " IS NOT NULL OR (" + k + " IS NULL AND " + cond + "))"
			} else { // only more missing ones follow
				cond = "(" + k + " IS NULL AND " + cond + ")"
			}
			continue
		}
		var ph string
		switch keys[i].kind {
		case Num:
			ph = b.arg(b.d.NumKeyArg(*cur.Keys[i])) + b.d.NumCast
		case Int:
			n, _ := strconv.ParseInt(*cur.Keys[i], 10, 64) // sealed by this store: well-formed
			ph = b.arg(n)
		default:
			ph = b.arg(*cur.Keys[i])
		}
		op := " > "
		if keys[i].desc != cur.Back {
			op = " < "
		}
		step := k + op + ph + " OR (" + k + " = " + ph + " AND " + cond + ")"
		if cur.Back {
			cond = "(" + k + " IS NOT NULL AND (" + step + "))"
		} else {
			cond = "(" + k + " IS NULL OR " + step + ")"
		}
	}
	return cond
}

// sortKeys compiles _sort (https://hl7.org/fhir/R4/search.html#sort):
// ascending by the smallest value, descending by the largest, as
// search.SortKeyOf; sig names the sort for the cursor.
func (b *builder) sortKeys(sorts []search.SortParam) ([]sortKey, string, error) {
	var keys []sortKey
	var sig []string
	for _, s := range sorts {
		k, err := b.sortKey(s)
		if err != nil {
			return nil, "", err
		}
		keys = append(keys, k)
		name := s.Param.Code
		if s.Desc {
			name = "-" + name
		}
		sig = append(sig, name)
	}
	return keys, strings.Join(sig, ","), nil
}

func (b *builder) sortKey(s search.SortParam) (sortKey, error) {
	agg := "min"
	if s.Desc {
		agg = "max"
	}
	k := sortKey{desc: s.Desc, set: true}
	switch s.Param.Code {
	case "_id":
		k.expr = b.d.TextKey("c.id")
		return k, nil
	case "_lastUpdated":
		k.expr, k.kind = "c."+b.d.Updated, Int
		return k, nil
	}
	k.set = false
	var table, val string
	switch s.Param.Type {
	case search.String:
		table, val = "idx_string", "x.norm"
	case search.Token:
		table, val = "idx_token", "CASE WHEN x.code <> '' THEN x.code END"
	case search.URI:
		table, val = "idx_uri", "x.uri"
	case search.Reference:
		table, val = "idx_reference", "CASE WHEN x.target_id <> '' THEN x.target_type || '/' || x.target_id WHEN x.url <> '' THEN x.url END"
	case search.Date:
		table, val = "idx_date", "x.lo"
		if s.Desc {
			val = "x.hi"
		}
		k.kind = Int
	case search.Number:
		table, val, k.kind = "idx_number", pick("x.lo", "x.hi", s.Desc), Num
	case search.Quantity:
		table, k.kind = "idx_quantity", Num
		val = "CASE WHEN x.canon_unit <> '' THEN " + pick("x.canon_lo", "x.canon_hi", s.Desc) + " ELSE " + pick("x.lo", "x.hi", s.Desc) + " END"
	default:
		return sortKey{}, outcome.New(outcome.Invalid, "cannot sort by %s (%s)", s.Param.Code, s.Param.Type)
	}
	x := b.alias("s")
	val = strings.ReplaceAll(val, "x.", x+".")
	k.expr = "(SELECT " + agg + "(" + val + ") FROM " + table + " " + x + " WHERE " + x + ".rid = c.rid AND " + x +
		".param = " + b.arg(s.Param.Code) + ")"
	if k.kind == Text {
		k.expr = b.d.TextKey(k.expr)
	}
	return k, nil
}

// pick is the end a number sorts by: the low one ascending (the high one
// when the low is open), the high one descending.
func pick(lo, hi string, desc bool) string {
	if desc {
		return "coalesce(" + hi + ", " + lo + ")"
	}
	return "coalesce(" + lo + ", " + hi + ")"
}
