package search

// Match reports whether a resource whose index rows for c.Param are rows
// satisfies the clause: any value matching any row (OR), except for
// :missing (whether there are rows at all) and :not / :not-in (no value
// matches any row; resources without a value match). It is the reference
// the store's SQL must agree with. Chains and _has need the referenced
// resources and are not handled here: Match reports false for them.
func Match(c Clause, rows []Row) bool {
	if c.Chain != nil || c.Has != nil {
		return false
	}
	if c.Modifier == ModMissing {
		return len(c.Values) > 0 && c.Values[0].Missing == (len(rows) == 0)
	}
	hit := false
	for _, v := range c.Values {
		for _, r := range rows {
			if MatchValue(c.Param.Type, c.Modifier, v, r) {
				hit = true
				break
			}
		}
		if hit {
			break
		}
	}
	if c.Modifier == ModNot || c.Modifier == ModNotIn {
		return !hit
	}
	return hit
}

// MatchValue reports whether one value of a parameter of type t matches
// one row, under the modifier (:not and :not-in are matched positively;
// Match negates them).
func MatchValue(t ParamType, mod Modifier, v Value, r Row) bool {
	switch r := r.(type) {
	case StringRow:
		return t == String && StringMatch(mod, v.String, r)
	case TokenRow:
		return t == Token && MatchToken(mod, v.Token, r)
	case DateRow:
		return t == Date && MatchDate(v.Prefix, v.Date, v.Approx, r.DateRange)
	case NumberRow:
		return t == Number && matchOpen(v.Prefix, v.Number, r.Lo, r.Hi)
	case QuantityRow:
		return t == Quantity && MatchQuantity(v.Prefix, v.Quantity, r)
	case ReferenceRow:
		return t == Reference && MatchRef(mod, v.Ref, r)
	case URIRow:
		return t == URI && MatchURI(mod, v.URI, r)
	case TextRow:
		return t == String && mod == ModNone && MatchText(v.String, r)
	case PositionRow:
		return t == Special && mod == ModNone && MatchNear(v.Near, r)
	case CompositeRow:
		if t != Composite || len(r.Parts) != len(v.Parts) {
			return false
		}
		for i, part := range r.Parts {
			if !MatchValue(part.Kind(), ModNone, v.Parts[i], part) {
				return false
			}
		}
		return true
	}
	return false
}
