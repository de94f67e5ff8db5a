package fhirpath

import (
	"math/big"
	"strconv"
	"strings"
)

// quantity is a System.Quantity: a decimal value and a unit, either a UCUM
// code ("mg", "mm[Hg]", "1") or a calendar duration keyword ("week", "days").
type quantity struct {
	Value decimal
	Unit  string
}

// String formats the quantity as a FHIRPath literal: 1 'mg', 4 days.
func (q quantity) String() string {
	if _, ok := calendarUnits[q.Unit]; ok {
		return q.Value.String() + " " + q.Unit
	}
	return q.Value.String() + " '" + q.Unit + "'"
}

// calendarUnits maps the calendar duration keywords to their singular form
// (https://hl7.org/fhirpath/N1/#time-valued-quantities).
var calendarUnits = map[string]string{
	"year": "year", "years": "year", "month": "month", "months": "month",
	"week": "week", "weeks": "week", "day": "day", "days": "day",
	"hour": "hour", "hours": "hour", "minute": "minute", "minutes": "minute",
	"second": "second", "seconds": "second", "millisecond": "millisecond", "milliseconds": "millisecond",
}

// calendarToUCUM gives the UCUM unit a calendar keyword equals, for the
// units of definite length; years and months have none.
var calendarToUCUM = map[string]string{
	"week": "wk", "day": "d", "hour": "h", "minute": "min", "second": "s", "millisecond": "ms",
}

// dims is a vector of exponents of the UCUM base units.
type dims [8]int8 // m, g, s, rad, K, C, cd, mol

// unitValue is a unit reduced to base units: value = factor × base units.
type unitValue struct {
	factor *big.Rat
	dims   dims
	opaque string // a unit that is not reduced (arbitrary, special): only equal to itself
}

type atom struct {
	factor string // in base units
	dims   dims
	metric bool
}

// ucumAtoms are the UCUM units this engine converts
// (https://ucum.org/ucum): the common clinical ones.
var ucumAtoms = map[string]atom{
	"m": {"1", dims{1}, true}, "g": {"1", dims{0, 1}, true}, "s": {"1", dims{0, 0, 1}, true},
	"rad": {"1", dims{0, 0, 0, 1}, true}, "K": {"1", dims{0, 0, 0, 0, 1}, true},
	"C": {"1", dims{0, 0, 0, 0, 0, 1}, true}, "cd": {"1", dims{0, 0, 0, 0, 0, 0, 1}, true},
	"mol": {"1", dims{7: 1}, true}, "eq": {"1", dims{7: 1}, true}, "osm": {"1", dims{7: 1}, true},
	"L": {"1/1000", dims{3}, true}, "l": {"1/1000", dims{3}, true},
	"min": {"60", dims{0, 0, 1}, false}, "h": {"3600", dims{0, 0, 1}, false},
	"d": {"86400", dims{0, 0, 1}, false}, "wk": {"604800", dims{0, 0, 1}, false},
	"mo": {"2629800", dims{0, 0, 1}, false}, "a": {"31557600", dims{0, 0, 1}, false},
	"Hz": {"1", dims{0, 0, -1}, true}, "N": {"1000", dims{1, 1, -2}, true},
	"Pa": {"1000", dims{-1, 1, -2}, true}, "J": {"1000", dims{2, 1, -2}, true},
	"W": {"1000", dims{2, 1, -3}, true}, "A": {"1", dims{0, 0, -1, 0, 0, 1}, true},
	"V": {"1000", dims{2, 1, -2, 0, 0, -1}, true}, "bar": {"100000000", dims{-1, 1, -2}, true},
	"m[Hg]": {"133322000", dims{-1, 1, -2}, true}, "m[H2O]": {"9806650", dims{-1, 1, -2}, true},
	"cal": {"4184", dims{2, 1, -2}, true}, "U": {"1/60", dims{0, 0, -1, 0, 0, 0, 0, 1}, true},
	"%": {"1/100", dims{}, false}, "[ppm]": {"1/1000000", dims{}, false}, "[ppb]": {"1/1000000000", dims{}, false},
	"[lb_av]": {"45359237/100000", dims{0, 1}, false}, "[oz_av]": {"28349523125/1000000000", dims{0, 1}, false},
	"[in_i]": {"127/5000", dims{1}, false}, "[ft_i]": {"381/1250", dims{1}, false},
	"[yd_i]": {"1143/1250", dims{1}, false}, "[mi_i]": {"201168/125", dims{1}, false},
	"[gal_us]": {"3785411784/1000000000000", dims{3}, false}, "[foz_us]": {"29573529562/1000000000000000", dims{3}, false},
	"[degF]": {"", dims{}, false}, "Cel": {"", dims{}, false}, "[pH]": {"", dims{}, false},
	"[iU]": {"", dims{}, true}, "[IU]": {"", dims{}, true}, "[arb'U]": {"", dims{}, false},
	"10*": {"10", dims{}, false}, "10^": {"10", dims{}, false},
}

var ucumPrefixes = map[string]string{
	"Y": "1e24", "Z": "1e21", "E": "1e18", "P": "1e15", "T": "1e12", "G": "1e9", "M": "1e6",
	"k": "1e3", "h": "1e2", "da": "1e1", "d": "1e-1", "c": "1e-2", "m": "1e-3", "u": "1e-6",
	"n": "1e-9", "p": "1e-12", "f": "1e-15", "a": "1e-18", "z": "1e-21", "y": "1e-24",
}

func ratOf(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil
	}
	return r
}

// parseUnit reduces a UCUM expression ("mg/dL", "kg.m2", "10*3/uL") to base units.
func parseUnit(u string) (unitValue, bool) {
	if u == "" || u == "1" {
		return unitValue{factor: big.NewRat(1, 1)}, true
	}
	p := unitParser{s: u}
	v, ok := p.term()
	if !ok || p.i != len(p.s) {
		return unitValue{}, false
	}
	return v, true
}

type unitParser struct {
	s     string
	i     int
	depth int
}

func (p *unitParser) term() (unitValue, bool) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 20 {
		return unitValue{}, false
	}
	acc := unitValue{factor: big.NewRat(1, 1)}
	op := byte('.')
	if p.i < len(p.s) && p.s[p.i] == '/' {
		op = '/'
		p.i++
	}
	for {
		c, ok := p.component()
		if !ok {
			return unitValue{}, false
		}
		acc = combineUnits(acc, c, op == '/')
		if p.i >= len(p.s) || (p.s[p.i] != '.' && p.s[p.i] != '/') {
			return acc, true
		}
		op = p.s[p.i]
		p.i++
	}
}

func combineUnits(a, b unitValue, divide bool) unitValue {
	r := unitValue{factor: new(big.Rat)}
	if divide {
		r.factor.Quo(a.factor, b.factor)
	} else {
		r.factor.Mul(a.factor, b.factor)
	}
	for i := range r.dims {
		if divide {
			r.dims[i] = a.dims[i] - b.dims[i]
		} else {
			r.dims[i] = a.dims[i] + b.dims[i]
		}
	}
	switch {
	case a.opaque != "" && b.opaque != "":
		r.opaque = a.opaque + map[bool]string{false: ".", true: "/"}[divide] + b.opaque
	case b.opaque != "":
		r.opaque = map[bool]string{false: "", true: "/"}[divide] + b.opaque
	default:
		r.opaque = a.opaque
	}
	return r
}

// component parses a parenthesised term, a number or an annotated unit with exponent.
func (p *unitParser) component() (unitValue, bool) {
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		v, ok := p.term()
		if !ok || p.i >= len(p.s) || p.s[p.i] != ')' {
			return unitValue{}, false
		}
		p.i++
		return v, true
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '.' && p.s[p.i] != '/' && p.s[p.i] != '(' && p.s[p.i] != ')' {
		if p.s[p.i] == '{' {
			end := strings.IndexByte(p.s[p.i:], '}')
			if end < 0 {
				return unitValue{}, false
			}
			p.i += end
		}
		if p.s[p.i] == '[' {
			end := strings.IndexByte(p.s[p.i:], ']')
			if end < 0 {
				return unitValue{}, false
			}
			p.i += end
		}
		p.i++
	}
	return simpleUnit(p.s[start:p.i])
}

// simpleUnit reduces one unit symbol with optional prefix and exponent: "cm2", "s-1", "{cells}".
func simpleUnit(s string) (unitValue, bool) {
	if i := strings.IndexByte(s, '{'); i >= 0 {
		s = s[:i] // annotations carry no meaning
		if s == "" {
			return unitValue{factor: big.NewRat(1, 1)}, true
		}
	}
	if allDigits(s) {
		n := ratOf(s)
		return unitValue{factor: n}, n != nil && n.Sign() != 0
	}
	if strings.HasPrefix(s, "10*") || strings.HasPrefix(s, "10^") {
		e, err := strconv.Atoi(s[3:])
		if err != nil || e > 30 || e < -30 {
			return unitValue{}, false
		}
		return unitValue{factor: ratOf("1e" + strconv.Itoa(e))}, true
	}
	exp := 1
	j := len(s)
	for j > 0 && isDigit(s[j-1]) {
		j--
	}
	if j < len(s) && j > 0 {
		k := j
		if s[k-1] == '-' || s[k-1] == '+' {
			k--
		}
		if k > 0 {
			e, err := strconv.Atoi(s[k:])
			if err != nil || e > 10 || e < -10 {
				return unitValue{}, false
			}
			exp, s = e, s[:k]
		}
	}
	base, ok := lookupAtom(s)
	if !ok {
		return unitValue{}, false
	}
	r := unitValue{factor: big.NewRat(1, 1), opaque: base.opaque}
	for k := 0; k < abs(exp); k++ {
		r = combineUnits(r, unitValue{factor: base.factor, dims: base.dims}, exp < 0)
	}
	if base.opaque != "" && exp != 1 {
		r.opaque = base.opaque + strconv.Itoa(exp)
	}
	return r, true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// lookupAtom finds a unit symbol, trying it whole and then as prefix + metric atom.
func lookupAtom(s string) (unitValue, bool) {
	if a, ok := ucumAtoms[s]; ok {
		return atomValue(s, a, big.NewRat(1, 1)), true
	}
	for _, n := range []int{2, 1} {
		if len(s) <= n {
			continue
		}
		pf, ok := ucumPrefixes[s[:n]]
		if !ok {
			continue
		}
		if a, ok := ucumAtoms[s[n:]]; ok && a.metric {
			return atomValue(s, a, ratOf(pf)), true
		}
	}
	return unitValue{}, false
}

func atomValue(sym string, a atom, prefix *big.Rat) unitValue {
	if a.factor == "" {
		return unitValue{factor: prefix, opaque: sym}
	}
	return unitValue{factor: new(big.Rat).Mul(prefix, ratOf(a.factor)), dims: a.dims}
}

// unitOf reduces a quantity's unit, mapping calendar keywords of definite
// length to UCUM; years and months stay opaque calendar units.
func unitOf(unit string) (unitValue, bool) {
	if c, ok := calendarUnits[unit]; ok {
		if u, ok := calendarToUCUM[c]; ok {
			return parseUnit(u)
		}
		f := map[string]int64{"year": 12, "month": 1}[c]
		return unitValue{factor: big.NewRat(f, 1), opaque: "{calendar-month}"}, true
	}
	return parseUnit(unit)
}

// sameDims reports whether two reduced units measure the same thing.
func sameDims(a, b unitValue) bool { return a.dims == b.dims && a.opaque == b.opaque }

// convertQuantities brings two quantities to a common base unit so that
// their values can be compared; ok is false when the units are not comparable.
func convertQuantities(a, b quantity) (decimal, decimal, bool) {
	if a.Unit == b.Unit {
		return a.Value, b.Value, true
	}
	ua, oka := unitOf(a.Unit)
	ub, okb := unitOf(b.Unit)
	if !oka || !okb || !sameDims(ua, ub) {
		return decimal{}, decimal{}, false
	}
	return scaleBy(a.Value, ua.factor), scaleBy(b.Value, ub.factor), true
}

// scaleBy multiplies by an exact factor, keeping enough decimal places.
func scaleBy(d decimal, f *big.Rat) decimal {
	if f.Cmp(big.NewRat(1, 1)) == 0 {
		return d
	}
	r := decimal{r: new(big.Rat).Mul(d.r, f), scale: d.scale}
	for r.scale < maxScale && !r.exactAt(r.scale) {
		r.scale++
	}
	return r
}

// convertTo expresses q in unit, when the units are comparable.
func convertTo(q quantity, unit string) (quantity, bool) {
	if q.Unit == unit {
		return q, true
	}
	uq, ok1 := unitOf(q.Unit)
	uu, ok2 := unitOf(unit)
	if !ok1 || !ok2 || !sameDims(uq, uu) {
		return q, false
	}
	f := new(big.Rat).Quo(uq.factor, uu.factor)
	return quantity{Value: scaleBy(q.Value, f), Unit: unit}, true
}

// ucumUnit gives the UCUM form of a unit for arithmetic results.
func ucumUnit(u string) string {
	if c, ok := calendarUnits[u]; ok {
		if x, ok := calendarToUCUM[c]; ok {
			return x
		}
	}
	return u
}

// mulUnits and divUnits build the unit of a product or quotient.
func mulUnits(a, b string) string {
	a, b = ucumUnit(a), ucumUnit(b)
	switch {
	case a == "1":
		return b
	case b == "1":
		return a
	case a == b && isAtomic(a):
		return a + "2"
	}
	return wrapUnit(a) + "." + wrapUnit(b)
}

func divUnits(a, b string) string {
	a, b = ucumUnit(a), ucumUnit(b)
	if a == b {
		return "1"
	}
	if b == "1" {
		return a
	}
	return wrapUnit(a) + "/" + wrapUnit(b)
}

// isAtomic reports whether a unit is one symbol without exponent or operator.
func isAtomic(u string) bool {
	return !strings.ContainsAny(u, "./()0123456789+-")
}

func wrapUnit(u string) string {
	if strings.ContainsAny(u, "./") {
		return "(" + u + ")"
	}
	return u
}
