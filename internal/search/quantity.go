package search

import (
	"fmt"
	"math/big"
)

// QuantityValue is a quantity search value
// (https://hl7.org/fhir/R4/search.html#quantity): "5.4", "5.4|sys|code",
// "5.4||mg" (code or unit, any system). When the unit is UCUM (the system
// is UCUM or empty) it is also converted: Canon is the value and its
// precision range in CanonUnit.
type QuantityValue struct {
	Number       NumberValue
	System, Code string
	Canon        *NumberValue // nil when the unit is absent or not convertible
	CanonUnit    string
}

func parseQuantity(s string) (QuantityValue, error) {
	parts := splitEscaped(s, '|')
	if len(parts) != 1 && len(parts) != 3 {
		return QuantityValue{}, fmt.Errorf("%q is not number|system|code", s)
	}
	n, err := ParseNumber(parts[0])
	if err != nil {
		return QuantityValue{}, err
	}
	q := QuantityValue{Number: n}
	if len(parts) == 3 {
		q.System, q.Code = unescape(parts[1]), unescape(parts[2])
	}
	if q.Code != "" && (q.System == "" || q.System == UCUMSystem) {
		if f, unit, ok := CanonicalUnit(q.Code); ok {
			c := n.scale(f)
			q.Canon, q.CanonUnit = &c, unit
		}
	}
	return q, nil
}

// MatchQuantity applies a prefix to one quantity row. When both the value
// and the row have a canonical unit they are compared in it, so 5.4||mg
// finds 5400 ug; otherwise the value is compared as written, the code
// matching the row's code (or its unit when no system is given) and the
// system matching when given.
func MatchQuantity(p Prefix, v QuantityValue, r QuantityRow) bool {
	if v.Canon != nil && r.CanonUnit != "" {
		return r.CanonUnit == v.CanonUnit && matchOpen(p, *v.Canon, r.CanonLo, r.CanonHi)
	}
	if v.Code != "" && r.Code != v.Code && !(v.System == "" && r.Unit == v.Code) {
		return false
	}
	if v.System != "" && r.System != v.System {
		return false
	}
	return matchOpen(p, v.Number, r.Lo, r.Hi)
}

// matchOpen is MatchNumber for targets whose ends may be open (nil).
func matchOpen(p Prefix, s NumberValue, lo, hi *big.Rat) bool {
	switch {
	case lo == nil && hi == nil:
		return false
	case lo == nil: // (−∞, hi]: below anything, so lt/le/ne hold; gt/ge depend on hi
		switch p {
		case Lt, Le, Ne, Eb:
			return p != Eb || hi.Cmp(s.Lo) < 0
		case Ap:
			alo, _ := s.approx()
			return hi.Cmp(alo) >= 0
		}
		return MatchNumber(p, s, hi, hi) && p != Eq && p != Sa
	case hi == nil: // [lo, +∞)
		switch p {
		case Gt, Ge, Ne, Sa:
			return p != Sa || lo.Cmp(s.Hi) >= 0
		case Ap:
			_, ahi := s.approx()
			return lo.Cmp(ahi) < 0
		}
		return MatchNumber(p, s, lo, lo) && p != Eq && p != Eb
	}
	return MatchNumber(p, s, lo, hi)
}
