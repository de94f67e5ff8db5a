package search

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// NumberValue is a number as a search value: the value written and the
// range its precision implies, [Lo, Hi). "100" is [99.5, 100.5), "100.00"
// is [99.995, 100.005), "1e2" (one significant figure) is [50, 150)
// (https://hl7.org/fhir/R4/search.html#number). Arithmetic is exact.
type NumberValue struct {
	Value  *big.Rat
	Lo, Hi *big.Rat // the implicit precision range, half-open
}

// ParseNumber reads a decimal ("-1.50", "1e2", "3.2E-4") exactly.
func ParseNumber(s string) (NumberValue, error) {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 1000 || e < -1000 {
			return NumberValue{}, fmt.Errorf("%q is not a number", s)
		}
		mant, exp = s[:i], e
	}
	digits := strings.TrimLeft(mant, "+-")
	intPart, frac, _ := strings.Cut(digits, ".")
	if digits == "" || intPart+frac == "" || !allDigits(intPart) || !allDigits(frac) || len(mant)-len(digits) > 1 {
		return NumberValue{}, fmt.Errorf("%q is not a number", s)
	}
	v, ok := new(big.Rat).SetString(mant)
	if !ok {
		return NumberValue{}, fmt.Errorf("%q is not a number", s)
	}
	v.Mul(v, pow10(exp))
	half := new(big.Rat).Mul(big.NewRat(1, 2), pow10(exp-len(frac)))
	return NumberValue{
		Value: v,
		Lo:    new(big.Rat).Sub(v, half),
		Hi:    new(big.Rat).Add(v, half),
	}, nil
}

// parseDecimal reads a FHIR decimal (as found in a resource) exactly.
func parseDecimal(s string) (*big.Rat, bool) {
	n, err := ParseNumber(s)
	if err != nil {
		return nil, false
	}
	return n.Value, true
}

func pow10(e int) *big.Rat {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(e))), nil)
	if e < 0 {
		return new(big.Rat).SetFrac(big.NewInt(1), p)
	}
	return new(big.Rat).SetInt(p)
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// scale returns n with every bound multiplied by f (for unit conversion).
func (n NumberValue) scale(f *big.Rat) NumberValue {
	mul := func(x *big.Rat) *big.Rat { return new(big.Rat).Mul(x, f) }
	out := NumberValue{Value: mul(n.Value), Lo: mul(n.Lo), Hi: mul(n.Hi)}
	if f.Sign() < 0 {
		out.Lo, out.Hi = out.Hi, out.Lo
	}
	return out
}

// approx is the range ap matches: the value ±10%, and at least its
// precision range.
func (n NumberValue) approx() (lo, hi *big.Rat) {
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

// MatchNumber applies prefix p with search value s to a target, the
// closed interval [lo, hi] (lo == hi for a plain number; a Range gives
// both ends). eq and ne use the precision range of s; gt, lt, ge and le
// compare with the value itself; sa and eb with the precision range; ap
// with approx.
func MatchNumber(p Prefix, s NumberValue, lo, hi *big.Rat) bool {
	switch p {
	case Ne:
		return !(s.Lo.Cmp(lo) <= 0 && hi.Cmp(s.Hi) < 0)
	case Gt:
		return hi.Cmp(s.Value) > 0
	case Lt:
		return lo.Cmp(s.Value) < 0
	case Ge:
		return hi.Cmp(s.Value) >= 0
	case Le:
		return lo.Cmp(s.Value) <= 0
	case Sa:
		return lo.Cmp(s.Hi) >= 0
	case Eb:
		return hi.Cmp(s.Lo) < 0
	case Ap:
		alo, ahi := s.approx()
		return lo.Cmp(ahi) < 0 && hi.Cmp(alo) >= 0
	default:
		return s.Lo.Cmp(lo) <= 0 && hi.Cmp(s.Hi) < 0
	}
}

// DecimalString writes r as a decimal for storage, exactly when r has a
// finite decimal expansion and to 18 fractional digits otherwise.
func DecimalString(r *big.Rat) string {
	if r == nil {
		return ""
	}
	if n, exact := r.FloatPrec(); exact {
		return trimZeros(r.FloatString(n))
	}
	return trimZeros(r.FloatString(18))
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
