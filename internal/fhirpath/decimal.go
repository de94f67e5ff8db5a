package fhirpath

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// decimal is an exact decimal: a rational value and the number of digits
// after the point it was written or computed with (its precision), so that
// 1.50 keeps printing as 1.50 and 0.1 + 0.2 = 0.3 exactly.
type decimal struct {
	r     *big.Rat
	scale int
}

// divisionScale is the number of decimal places kept by division and the
// functions that cannot be exact (the step of System.Decimal, 10^-8).
const divisionScale = 8

// maxScale bounds the digits a decimal keeps, so multiplication chains stay small.
const maxScale = 28

func parseDecimal(s string) (decimal, bool) {
	if s == "" || len(s) > 400 {
		return decimal{}, false
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 400 || e < -400 {
			return decimal{}, false
		}
		mant, exp = s[:i], e
	}
	body := strings.TrimLeft(mant, "+-")
	if body == "" || strings.Count(body, ".") > 1 || body[0] == '.' || body[len(body)-1] == '.' {
		return decimal{}, false
	}
	for _, c := range body {
		if c != '.' && (c < '0' || c > '9') {
			return decimal{}, false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return decimal{}, false
	}
	scale := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		scale = len(mant) - i - 1
	}
	scale -= exp
	if scale < 0 {
		scale = 0
	}
	return decimal{r: r, scale: scale}, true
}

func decimalFromInt(i int64) decimal { return decimal{r: new(big.Rat).SetInt64(i)} }

func decimalFromFloat(f float64) (decimal, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return decimal{}, false
	}
	d, ok := parseDecimal(strconv.FormatFloat(f, 'f', -1, 64))
	if ok && d.scale > divisionScale {
		d = d.round(divisionScale)
	}
	return d, ok
}

func (d decimal) String() string {
	if d.r == nil {
		return "0"
	}
	return d.r.FloatString(d.scale)
}

func (d decimal) float() float64 { f, _ := d.r.Float64(); return f }

func (d decimal) sign() int { return d.r.Sign() }

func (d decimal) cmp(e decimal) int { return d.r.Cmp(e.r) }

func capScale(s int) int { return min(s, maxScale) }

func (d decimal) add(e decimal) decimal {
	return decimal{r: new(big.Rat).Add(d.r, e.r), scale: max(d.scale, e.scale)}
}

func (d decimal) sub(e decimal) decimal {
	return decimal{r: new(big.Rat).Sub(d.r, e.r), scale: max(d.scale, e.scale)}
}

func (d decimal) mul(e decimal) decimal {
	r := decimal{r: new(big.Rat).Mul(d.r, e.r), scale: capScale(d.scale + e.scale)}
	if !r.exactAt(r.scale) {
		r = r.round(r.scale)
	}
	return r
}

// maxMagnitude bounds decimals produced by arithmetic: results beyond it
// are empty, as overflow is (System.Decimal holds 28 digits; the margin
// keeps products of in-range values representable). It also keeps the cost
// of each operation bounded.
var maxMagnitude = new(big.Rat).SetInt(pow10(60))

// inRange reports whether d is small enough to keep computing with.
func (d decimal) inRange() bool {
	return new(big.Rat).Abs(d.r).Cmp(maxMagnitude) <= 0
}

// div divides to divisionScale places, dropping trailing zeros; ok is false for division by zero.
func (d decimal) div(e decimal) (decimal, bool) {
	if e.sign() == 0 {
		return decimal{}, false
	}
	q := decimal{r: new(big.Rat).Quo(d.r, e.r), scale: divisionScale}
	q = q.round(divisionScale)
	for q.scale > 0 && q.exactAt(q.scale-1) {
		q.scale--
	}
	return q, true
}

// exactAt reports whether d has no digits beyond s decimal places.
func (d decimal) exactAt(s int) bool {
	x := new(big.Rat).Mul(d.r, new(big.Rat).SetInt(pow10(s)))
	return x.IsInt()
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// round rounds half away from zero to s decimal places.
func (d decimal) round(s int) decimal {
	scaleF := new(big.Rat).SetInt(pow10(s))
	x := new(big.Rat).Mul(d.r, scaleF)
	num, den := x.Num(), x.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	m2 := new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2))
	if m2.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return decimal{r: new(big.Rat).SetFrac(q, pow10(s)), scale: s}
}

// truncate drops the digits beyond s decimal places (towards zero).
func (d decimal) truncate(s int) decimal {
	x := new(big.Rat).Mul(d.r, new(big.Rat).SetInt(pow10(s)))
	q := new(big.Int).Quo(x.Num(), x.Denom())
	return decimal{r: new(big.Rat).SetFrac(q, pow10(s)), scale: s}
}

// floor rounds towards negative infinity to an integer.
func (d decimal) floor() *big.Int {
	q, m := new(big.Int).QuoRem(d.r.Num(), d.r.Denom(), new(big.Int))
	if m.Sign() < 0 {
		q.Sub(q, big.NewInt(1))
	}
	return q
}

func (d decimal) ceiling() *big.Int {
	q, m := new(big.Int).QuoRem(d.r.Num(), d.r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func (d decimal) neg() decimal { return decimal{r: new(big.Rat).Neg(d.r), scale: d.scale} }

func (d decimal) abs() decimal { return decimal{r: new(big.Rat).Abs(d.r), scale: d.scale} }

// mod is the remainder of truncated division.
func (d decimal) mod(e decimal) (decimal, bool) {
	if e.sign() == 0 {
		return decimal{}, false
	}
	q := new(big.Rat).Quo(d.r, e.r)
	t := new(big.Int).Quo(q.Num(), q.Denom())
	r := new(big.Rat).Sub(d.r, new(big.Rat).Mul(e.r, new(big.Rat).SetInt(t)))
	return decimal{r: r, scale: max(d.scale, e.scale)}, true
}

// intDiv is truncated division to an integer.
func (d decimal) intDiv(e decimal) (*big.Int, bool) {
	if e.sign() == 0 {
		return nil, false
	}
	q := new(big.Rat).Quo(d.r, e.r)
	return new(big.Int).Quo(q.Num(), q.Denom()), true
}

// equivalent compares after rounding both to the precision of the less precise operand.
func (d decimal) equivalent(e decimal) bool {
	s := min(d.scale, e.scale)
	return d.round(s).cmp(e.round(s)) == 0
}

// int64 returns the value when it is an integer that fits.
func (d decimal) int64() (int64, bool) {
	if !d.r.IsInt() || !d.r.Num().IsInt64() {
		return 0, false
	}
	return d.r.Num().Int64(), true
}
