package sqlsearch

import (
	"math/big"
	"strings"

	"github.com/ehealthplus/ehealth/internal/search"
)

// The conditions below are search.MatchValue written as SQL on one row of
// the type's table (alias x); the conformance suite checks they agree.

// stringCond: default starts-with on the normalised value, :exact on the
// value as written, :contains anywhere in the normalised value.
func (b *builder) stringCond(mod search.Modifier, v, x string) string {
	switch mod {
	case search.ModExact:
		return x + ".exact = " + b.arg(v)
	case search.ModContains:
		return b.d.Contains(x+".norm", b.arg(search.Normalize(v)))
	}
	return b.prefix(x+".norm", search.Normalize(v))
}

// token: code, system|code, |code, system|; :text, :of-type, and the
// terminology modifiers through the caller's expansion.
func (b *builder) token(mod search.Modifier, v search.TokenValue, x string) string {
	switch mod {
	case search.ModText:
		return "(" + x + ".text <> '' AND " + b.prefix(x+".text", search.Normalize(v.Text)) + ")"
	case search.ModOfType:
		return "(" + x + ".type_system = " + b.arg(v.TypeSystem) + " AND " + x + ".type_code = " + b.arg(v.TypeCode) +
			" AND " + x + ".code = " + b.arg(v.Code) + ")"
	case search.ModIn, search.ModNotIn, search.ModAbove, search.ModBelow:
		return b.expanded(v.Expanded, x)
	}
	switch {
	case !v.HasSystem:
		return x + ".code = " + b.arg(v.Code)
	case v.Code == "":
		return x + ".system = " + b.arg(v.System)
	}
	return "(" + x + ".system = " + b.arg(v.System) + " AND " + x + ".code = " + b.arg(v.Code) + ")"
}

// expanded matches any of the codings (a coding without a system matches
// the code in any system), bound as lists so a large expansion is two
// parameters, not thousands.
func (b *builder) expanded(codings []search.Coding, x string) string {
	var anySys, systems, codes []string
	for _, c := range codings {
		if c.System == "" {
			anySys = append(anySys, c.Code)
		} else {
			systems, codes = append(systems, c.System), append(codes, c.Code)
		}
	}
	var ors []string
	if len(anySys) > 0 {
		ors = append(ors, b.in(x+".code", anySys))
	}
	if len(codes) > 0 {
		ors = append(ors, b.d.PairIn(x+".system", x+".code", b.arg(b.d.ListArg(systems)), b.arg(b.d.ListArg(codes))))
	}
	return or(ors)
}

// date applies a prefix to the row range [lo, hi) (search.MatchDate).
func (b *builder) date(p search.Prefix, s, approx search.DateRange, lo, hi string) string {
	eq := func() string {
		return "(" + lo + " >= " + b.arg(s.Lo) + " AND " + hi + " <= " + b.arg(s.Hi) + ")"
	}
	switch p {
	case search.Ne:
		return "NOT " + eq()
	case search.Gt:
		return hi + " > " + b.arg(s.Hi)
	case search.Lt:
		return lo + " < " + b.arg(s.Lo)
	case search.Ge:
		return "(" + hi + " > " + b.arg(s.Hi) + " OR " + eq() + ")"
	case search.Le:
		return "(" + lo + " < " + b.arg(s.Lo) + " OR " + eq() + ")"
	case search.Sa:
		return lo + " >= " + b.arg(s.Hi)
	case search.Eb:
		return hi + " <= " + b.arg(s.Lo)
	case search.Ap:
		return "(" + lo + " < " + b.arg(approx.Hi) + " AND " + hi + " > " + b.arg(approx.Lo) + ")"
	}
	return eq()
}

// number applies a prefix to the closed row interval [lo, hi] whose ends
// may be NULL (open), as search's matchOpen does.
func (b *builder) number(p search.Prefix, s search.NumberValue, lo, hi string) string {
	someEnd := "(" + lo + " IS NOT NULL OR " + hi + " IS NOT NULL)"
	switch p {
	case search.Ne:
		return "(" + someEnd + " AND NOT (" + lo + " IS NOT NULL AND " + hi + " IS NOT NULL AND " +
			lo + " >= " + b.num(s.Lo) + " AND " + hi + " < " + b.num(s.Hi) + "))"
	case search.Gt, search.Ge:
		op := map[search.Prefix]string{search.Gt: " > ", search.Ge: " >= "}[p]
		return "(" + hi + op + b.num(s.Value) + " OR (" + hi + " IS NULL AND " + lo + " IS NOT NULL))"
	case search.Lt, search.Le:
		op := map[search.Prefix]string{search.Lt: " < ", search.Le: " <= "}[p]
		return "(" + lo + op + b.num(s.Value) + " OR (" + lo + " IS NULL AND " + hi + " IS NOT NULL))"
	case search.Sa:
		return lo + " >= " + b.num(s.Hi)
	case search.Eb:
		return hi + " < " + b.num(s.Lo)
	case search.Ap:
		alo, ahi := approx(s)
		return "(" + someEnd + " AND (" + lo + " IS NULL OR " + lo + " < " + b.num(ahi) + ") AND (" +
			hi + " IS NULL OR " + hi + " >= " + b.num(alo) + "))"
	}
	return "(" + lo + " >= " + b.num(s.Lo) + " AND " + hi + " < " + b.num(s.Hi) + ")"
}

// approx is the range ap matches: the value ±10%, and at least its
// precision range (search.NumberValue's unexported approx).
func approx(n search.NumberValue) (lo, hi *big.Rat) {
	tenth := new(big.Rat).Abs(n.Value)
	tenth.Quo(tenth, big.NewRat(10, 1))
	lo = new(big.Rat).Sub(n.Value, tenth)
	hi = new(big.Rat).Add(n.Value, tenth)
	if n.Lo.Cmp(lo) < 0 {
		lo = n.Lo
	}
	if n.Hi.Cmp(hi) > 0 {
		hi = n.Hi
	}
	return lo, hi
}

// quantity compares canonically when both the value and the row have a
// canonical unit, and as written otherwise (search.MatchQuantity).
func (b *builder) quantity(p search.Prefix, q search.QuantityValue, x string) string {
	written := []string{b.number(p, q.Number, x+".lo", x+".hi")}
	if q.Code != "" {
		code := b.arg(q.Code)
		if q.System == "" {
			written = append(written, "("+x+".code = "+code+" OR "+x+".unit = "+code+")")
		} else {
			written = append(written, x+".code = "+code)
		}
	}
	if q.System != "" {
		written = append(written, x+".system = "+b.arg(q.System))
	}
	if q.Canon == nil {
		return "(" + and(written...) + ")"
	}
	canon := x + ".canon_unit = " + b.arg(q.CanonUnit) + " AND " + b.number(p, *q.Canon, x+".canon_lo", x+".canon_hi")
	return "((" + x + ".canon_unit <> '' AND " + canon + ") OR (" + x + ".canon_unit = '' AND " + and(written...) + "))"
}

// reference: Type/id (local or on another server), a URL or canonical,
// :identifier, and :above/:below on the URL (search.MatchRef).
func (b *builder) reference(mod search.Modifier, v search.RefValue, x string) string {
	switch {
	case mod == search.ModIdentifier:
		c := x + ".ident_value = " + b.arg(v.IdentifierValue)
		if v.IdentifierValue != "" {
			c += " AND " + x + ".ident_value <> ''" // implied; lets the partial index idx_ref_ident serve it
		}
		if v.HasSystem {
			c += " AND " + x + ".ident_system = " + b.arg(v.IdentifierSystem)
		}
		return "(" + c + ")"
	case mod == search.ModAbove || mod == search.ModBelow:
		return b.hierarchy(mod, v.URL, x+".url")
	case v.ID != "":
		conds := []string{x + ".target_id = " + b.arg(v.ID)}
		if v.Type != "" {
			conds = append(conds, x+".target_type = "+b.arg(v.Type))
		}
		if v.Version != "" {
			conds = append(conds, x+".version = "+b.arg(v.Version))
		}
		if base := strings.TrimRight(v.Base, "/"); base == "" {
			conds = append(conds, x+".target_base = ''")
		} else {
			conds = append(conds, "rtrim("+x+".target_base, '/') = "+b.arg(base))
		}
		return "(" + and(conds...) + ")"
	case v.URL != "":
		c := x + ".url = " + b.arg(v.URL) + " AND " + x + ".url <> ''" // implied; lets the partial index idx_ref_url serve it
		if v.Version != "" {
			c += " AND " + x + ".version = " + b.arg(v.Version)
		}
		return "(" + c + ")"
	}
	return "1=0"
}

// hierarchy is :below (the column is v or under it) and :above (the column
// is v or one of its ancestors), path segment by path segment.
func (b *builder) hierarchy(mod search.Modifier, v, col string) string {
	if v == "" {
		return "1=0"
	}
	if mod == search.ModBelow {
		parent := strings.TrimRight(v, "/")
		p := b.arg(parent)
		return "(" + col + " <> '' AND (" + col + " = " + p + " OR " + b.prefix(col, parent+"/") +
			" OR rtrim(" + col + ", '/') = " + p + "))"
	}
	// The ancestors of v: every prefix ending before a '/', v itself and v
	// without trailing slashes.
	cands := []string{v, strings.TrimRight(v, "/")}
	for i := 0; i < len(v); i++ {
		if v[i] == '/' {
			cands = append(cands, v[:i])
		}
	}
	return "(" + col + " <> '' AND " + b.in("rtrim("+col+", '/')", cands) + ")"
}
