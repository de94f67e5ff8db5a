package sqlsearch

import (
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
)

// scope is where a clause applies: the resource types whose rows it reads
// (none: every type), at the top level of a compartment search the
// patient key those rows carry, and, when the resource a clause is about
// is a resource_current row in the statement, that row's alias (so a
// clause can name its type and id, not only its rid).
type scope struct {
	types   []string
	patient string
	row     string
	// probe: the clause is checked for one resource at a time, inside a
	// correlated semi-join (builder.semi), so a leaf probes that
	// resource's rows by rid instead of selecting every match.
	probe bool
}

// where is the condition on resource_current alias c for the plan's
// clauses, the searched types, the compartment and the access predicate.
func (b *builder) where(plan *search.Query, patient string) (string, error) {
	sc := scope{types: plan.Types, patient: patient, row: "c"}
	if plan.ResourceType != "" {
		sc.types = []string{plan.ResourceType}
	}
	key := "c.patient_key"
	if sc.patient == "" {
		key = b.probeKey(key)
	}
	conds := []string{"NOT c.deleted", b.typeCond("c.type", sc.types), b.scopedAccess(key, sc)}
	for _, cl := range plan.Clauses {
		cond, err := b.clause(cl, sc, "c.rid")
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	return and(conds...), nil
}

// typeCond restricts a type column to types ("" when any type will do).
func (b *builder) typeCond(col string, types []string) string {
	if len(types) == 0 {
		return ""
	}
	return b.in(col, types)
}

// rowScope is the condition every index row read for a clause meets: of
// the scope's types and compartment. It does not repeat the access
// predicate: the rows of a clause belong to the resource the clause is
// about (rid), and every caller checks that resource's visibility where it
// reads it — the searched resource in where, a chain's target and a _has
// source in chain and has. Checking it again per index row only made the
// value indexes non-covering.
func (b *builder) rowScope(x string, sc scope) string {
	c := b.typeCond(x+".res_type", sc.types)
	if sc.patient != "" {
		c = and(c, b.compartmentRows(x, sc.patient))
	}
	return c
}

// clause returns the condition that the resource whose rid is the SQL
// expression rid matches c.
func (b *builder) clause(c search.Clause, sc scope, rid string) (string, error) {
	switch {
	case c.Chain != nil:
		return b.chain(c, sc, rid)
	case c.Has != nil:
		return b.has(c, sc, rid)
	case c.Param == nil:
		return "", outcome.New(outcome.Internal, "search: clause without a parameter")
	case c.Param.Code == "_id":
		return b.idClause(c, sc, rid)
	case c.Param.Code == "_lastUpdated":
		return b.lastUpdated(c, sc, rid)
	case search.IsFullText(c.Param.Code):
		return b.fullText(c, sc, rid)
	case c.Param.Code == "_list":
		return b.list(c, sc, rid)
	case search.IsNear(c.Param):
		return b.near(c, sc, rid)
	}
	return b.leaf(c, sc, rid)
}

func unsupported(c search.Clause) error {
	name := c.Param.Code
	if c.Modifier != search.ModNone {
		name += ":" + string(c.Modifier)
	}
	return outcome.New(outcome.Invalid, "search parameter %s (%s) is not supported by this store", name, c.Param.Type)
}

// leaf compiles a clause on the searched resource's own index rows.
func (b *builder) leaf(c search.Clause, sc scope, rid string) (string, error) {
	t, param := c.Param.Type, c.Param.Code
	if t == search.Composite && len(c.Param.Components) > 0 {
		t, param = c.Param.Components[0].Type, param+"#0" // :missing looks at the first part
	}
	table := TableName(t)
	if table == "" {
		return "", unsupported(c)
	}
	if c.Modifier == search.ModMissing {
		x := b.alias("m")
		exists := "EXISTS (SELECT 1 FROM " + table + " " + x + " WHERE " + x + ".rid = " + rid +
			" AND " + x + ".param = " + b.arg(param) + ")"
		if len(c.Values) > 0 && c.Values[0].Missing {
			return "NOT " + exists, nil
		}
		return exists, nil
	}
	if c.Param.Type == search.Composite {
		return b.composite(c, sc, rid)
	}
	if c.Modifier == search.ModNot || c.Modifier == search.ModNotIn {
		x := b.alias("x")
		conds, err := b.values(c, t, x)
		if err != nil {
			return "", err
		}
		// No value matches any row; a resource without rows matches.
		return "NOT EXISTS (SELECT 1 FROM " + table + " " + x + " WHERE " + x + ".rid = " + rid +
			" AND " + x + ".param = " + b.arg(param) + " AND " + or(conds) + ")", nil
	}
	if sc.probe {
		return b.leafProbe(c, sc, rid)
	}
	rows, err := b.leafRows(c, sc, false)
	if err != nil {
		return "", err
	}
	return rid + " IN (" + rows + ")", nil
}

// leafRows selects, as column rid, the resources whose own index rows
// match c, a clause leaf compiles to a row search (no :missing, :not,
// :not-in or composite), in the scope. With access, the rows are also
// those of visible resources (for a query driven by these rows, which
// reads no resource_current row to check it on).
func (b *builder) leafRows(c search.Clause, sc scope, access bool) (string, error) {
	x := b.alias("x")
	conds, err := b.values(c, c.Param.Type, x)
	if err != nil {
		return "", err
	}
	visible := ""
	if access {
		visible = b.scopedAccess(x+".patient_key", sc)
	}
	return "SELECT " + x + ".rid FROM " + b.from(TableName(c.Param.Type), x, sc) + " WHERE " +
		and(x+".param = "+b.arg(c.Param.Code), b.rowScope(x, sc), or(conds), visible), nil
}

// values are the conditions that a row of alias x matches each of c's values.
// Plain token values (code, system|code) go as one list condition, so many
// values (identifier=a,b,…: a deposit's lookup of its source identifiers)
// are index probes, not a scan of the parameter's rows testing each.
func (b *builder) values(c search.Clause, t search.ParamType, x string) ([]string, error) {
	vals := c.Values
	var conds []string
	if t == search.Token && (c.Modifier == search.ModNone || c.Modifier == search.ModNot) && len(vals) > 1 {
		var listed []search.Coding
		vals, listed = plainTokens(vals)
		if len(listed) > 0 {
			conds = append(conds, b.expanded(listed, x))
		}
	}
	for _, v := range vals {
		cond, err := b.value(c, t, c.Modifier, v, x)
		if err != nil {
			return nil, err
		}
		conds = append(conds, cond)
	}
	return conds, nil
}

// plainTokens splits token values into those matched as one list of codings
// (a code in any system, or system|code) and the rest (|code, system|).
func plainTokens(vals []search.Value) (rest []search.Value, listed []search.Coding) {
	for _, v := range vals {
		switch tv := v.Token; {
		case tv.Code != "" && !tv.HasSystem:
			listed = append(listed, search.Coding{Code: tv.Code})
		case tv.Code != "" && tv.System != "":
			listed = append(listed, search.Coding{System: tv.System, Code: tv.Code})
		default:
			rest = append(rest, v)
		}
	}
	return rest, listed
}

// value is the condition that one row of alias x matches v.
func (b *builder) value(c search.Clause, t search.ParamType, mod search.Modifier, v search.Value, x string) (string, error) {
	switch t {
	case search.String:
		return b.stringCond(mod, v.String, x), nil
	case search.Token:
		return b.token(mod, v.Token, x), nil
	case search.Date:
		return b.date(v.Prefix, v.Date, v.Approx, x+".lo", x+".hi"), nil
	case search.Number:
		return b.number(v.Prefix, v.Number, x+".lo", x+".hi"), nil
	case search.Quantity:
		return b.quantity(v.Prefix, v.Quantity, x), nil
	case search.Reference:
		return b.reference(mod, v.Ref, x), nil
	case search.URI:
		if mod == search.ModAbove || mod == search.ModBelow {
			return b.hierarchy(mod, v.URI, x+".uri"), nil
		}
		return x + ".uri = " + b.arg(v.URI), nil
	}
	return "", unsupported(c)
}

// composite matches the parts of one combination, all in one resource:
// the parts' rows are joined on (rid, comb).
func (b *builder) composite(c search.Clause, sc scope, rid string) (string, error) {
	comps := c.Param.Components
	var ors []string
	for _, v := range c.Values {
		if len(v.Parts) != len(comps) {
			continue
		}
		var from, first string
		var conds []string
		for i, comp := range comps {
			table := TableName(comp.Type)
			if table == "" {
				return "", unsupported(c)
			}
			a := b.alias("p")
			if i == 0 {
				from, first = b.from(table, a, sc), a
				conds = append(conds, b.rowScope(a, sc))
			} else {
				from += " JOIN " + table + " " + a + " ON " + a + ".rid = " + first + ".rid AND " + a + ".comb = " + first + ".comb"
			}
			conds = append(conds, a+".param = "+b.arg(c.Param.Code+"#"+strconv.Itoa(i)))
			cond, err := b.value(c, comp.Type, search.ModNone, v.Parts[i], a)
			if err != nil {
				return "", err
			}
			conds = append(conds, cond)
		}
		ors = append(ors, rid+" IN (SELECT "+first+".rid FROM "+from+" WHERE "+and(conds...)+")")
	}
	return or(ors), nil
}

// chain: the resource refers through c.Param to a visible resource of one
// of the chain's types that matches the chained clause.
func (b *builder) chain(c search.Clause, sc scope, rid string) (string, error) {
	if b.semi {
		return b.chainProbe(c, sc, rid)
	}
	rows, err := b.chainRows(c, sc)
	if err != nil {
		return "", err
	}
	return rid + " IN (" + rows + ")", nil
}

// chainRows selects, as its one column, the rids of the resources that
// match chain clause c: every referring resource of every matching target.
func (b *builder) chainRows(c search.Clause, sc scope) (string, error) {
	r, t := b.alias("r"), b.alias("t")
	conds, err := b.chainConds(c, sc, r, t)
	if err != nil {
		return "", err
	}
	return "SELECT " + r + ".rid FROM " + b.from("idx_reference", r, sc) + " JOIN resource_current " + t +
		" ON " + t + ".type = " + r + ".target_type AND " + t + ".id = " + r + ".target_id WHERE " + conds, nil
}

// chainConds is the condition on reference row r and its target t of
// chain clause c.
func (b *builder) chainConds(c search.Clause, sc scope, r, t string) (string, error) {
	inner, err := b.clause(c.Chain.Clause, scope{types: c.Chain.Types, row: t, probe: b.semi}, t+".rid")
	if err != nil {
		return "", err
	}
	return and(r+".param = "+b.arg(c.Param.Code), b.rowScope(r, sc), r+".target_base = ''",
		b.typeCond(t+".type", c.Chain.Types), "NOT "+t+".deleted", b.accessCond(b.probeKey(t+".patient_key")), inner), nil
}

// has: a visible resource of Has.Type refers to the resource through
// Has.Ref and matches the inner clause.
func (b *builder) has(c search.Clause, sc scope, rid string) (string, error) {
	r := b.alias("r")
	refs, err := b.hasRefs(c, r)
	if err != nil {
		return "", err
	}
	if b.semi {
		return b.hasProbe(sc, rid, r, refs), nil
	}
	if sc.row != "" {
		// The resource's type and id are at hand: match them against the
		// references directly, without looking up each referenced
		// resource's rid (one index probe per referring resource).
		return "(" + sc.row + ".type, " + sc.row + ".id) IN (" + b.hasRows(sc, r, refs) + ")", nil
	}
	t := b.alias("t")
	return rid + " IN (SELECT " + t + ".rid FROM idx_reference " + r + " JOIN resource_current " + t +
		" ON " + t + ".type = " + r + ".target_type AND " + t + ".id = " + r + ".target_id WHERE " +
		and(refs, b.typeCond(t+".type", sc.types)) + ")", nil
}

// hasRows selects the (type, id) pairs the matching references of refs
// (on alias r) point at, within the scope's types.
func (b *builder) hasRows(sc scope, r, refs string) string {
	return "SELECT " + r + ".target_type, " + r + ".target_id FROM idx_reference " + r + " WHERE " +
		and(refs, b.typeCond(r+".target_type", sc.types))
}

// hasRefs is the condition that reference row r is a visible resource of
// Has.Type referring through Has.Ref and matching the inner clause.
func (b *builder) hasRefs(c search.Clause, r string) (string, error) {
	h := c.Has
	if h.Ref == nil {
		return "", outcome.New(outcome.Internal, "search: _has without a reference parameter")
	}
	inner, err := b.clause(h.Clause, scope{types: []string{h.Type}, probe: b.semi}, r+".rid")
	if err != nil {
		return "", err
	}
	return and(r+".res_type = "+b.arg(h.Type), r+".param = "+b.arg(h.Ref.Code), r+".target_base = ''",
		b.accessCond(b.probeKey(r+".patient_key")), inner), nil
}

// current is "rid is a live, visible resource of the scope meeting cond",
// for the parameters resource_current answers itself.
func (b *builder) current(sc scope, rid, t, cond string) string {
	conds := and("NOT "+t+".deleted", b.typeCond(t+".type", sc.types), b.scopedAccess(t+".patient_key", sc), cond)
	return rid + " IN (SELECT " + t + ".rid FROM resource_current " + t + " WHERE " + conds + ")"
}

// idClause compiles _id from resource_current: a token whose only row is
// the id, without a system.
func (b *builder) idClause(c search.Clause, sc scope, rid string) (string, error) {
	t := b.alias("t")
	var ids []string
	switch c.Modifier {
	case search.ModMissing: // every resource has an id
		if len(c.Values) > 0 && c.Values[0].Missing {
			return "1=0", nil
		}
		return "1=1", nil
	case search.ModNone, search.ModNot:
		for _, v := range c.Values {
			if v.Token.Code != "" && v.Token.System == "" {
				ids = append(ids, v.Token.Code)
			}
		}
	case search.ModIn, search.ModNotIn, search.ModAbove, search.ModBelow:
		for _, v := range c.Values {
			for _, e := range v.Token.Expanded {
				if e.System == "" {
					ids = append(ids, e.Code)
				}
			}
		}
	default:
		return "", unsupported(c)
	}
	if c.Modifier == search.ModNot || c.Modifier == search.ModNotIn {
		return "NOT EXISTS (SELECT 1 FROM resource_current " + t + " WHERE " + t + ".rid = " + rid +
			" AND " + b.in(t+".id", ids) + ")", nil
	}
	return b.current(sc, rid, t, b.in(t+".id", ids)), nil
}

// lastUpdated compiles _lastUpdated from resource_current's update time,
// the range [updated, updated+1µs).
func (b *builder) lastUpdated(c search.Clause, sc scope, rid string) (string, error) {
	switch c.Modifier {
	case search.ModMissing:
		if len(c.Values) > 0 && c.Values[0].Missing {
			return "1=0", nil
		}
		return "1=1", nil
	case search.ModNone:
	default:
		return "", unsupported(c)
	}
	t := b.alias("t")
	col := t + "." + b.d.Updated
	var conds []string
	for _, v := range c.Values {
		conds = append(conds, b.date(v.Prefix, v.Date, v.Approx, col, "("+col+" + 1)"))
	}
	return b.current(sc, rid, t, or(conds)), nil
}

// fullText compiles _text and _content on idx_text
// (search.MatchText): every word of a value occurs, the last as a prefix,
// through the database's full-text index; a value with a non-ASCII letter
// also matches as a substring of the normalised text.
func (b *builder) fullText(c search.Clause, sc scope, rid string) (string, error) {
	if c.Modifier != search.ModNone || b.d.TextMatch == nil {
		return "", unsupported(c)
	}
	x := b.alias("x")
	var conds []string
	for _, v := range c.Values {
		var ors []string
		if words := search.TextWords(v.String); len(words) > 0 {
			ors = append(ors, b.d.TextMatch(b, x, words))
		}
		if search.TextNeedsSubstring(v.String) {
			if n := search.Normalize(v.String); n != "" {
				ors = append(ors, b.d.Contains(x+".text", b.arg(n)))
			}
		}
		conds = append(conds, or(ors))
	}
	return rid + " IN (SELECT " + x + ".rid FROM idx_text " + x + " WHERE " +
		and(x+".param = "+b.arg(c.Param.Code), b.rowScope(x, sc), or(conds)) + ")", nil
}

// list compiles _list (https://hl7.org/fhir/R4/search.html#list): the
// resource is an entry.item (List's item reference rows) of the current
// version of one of the named Lists. Both the List and the item must be
// visible under the access predicate.
func (b *builder) list(c search.Clause, sc scope, rid string) (string, error) {
	if c.Modifier != search.ModNone {
		return "", unsupported(c)
	}
	var ids []string
	for _, v := range c.Values {
		if id := strings.TrimPrefix(v.String, "List/"); id != "" {
			ids = append(ids, id)
		}
	}
	l, r, t := b.alias("l"), b.alias("r"), b.alias("t")
	conds := and(l+".type = 'List'", b.in(l+".id", ids), "NOT "+l+".deleted", b.accessCond(l+".patient_key"),
		r+".param = 'item'", r+".target_base = ''", r+".comb = 0",
		"NOT "+t+".deleted", b.typeCond(t+".type", sc.types), b.scopedAccess(t+".patient_key", sc))
	return rid + " IN (SELECT " + t + ".rid FROM resource_current " + l + " JOIN idx_reference " + r + " ON " + r + ".rid = " + l +
		".rid JOIN resource_current " + t + " ON " + t + ".type = " + r + ".target_type AND " + t + ".id = " + r + ".target_id WHERE " +
		conds + ")", nil
}
