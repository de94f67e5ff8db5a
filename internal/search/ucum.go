package search

import (
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// CanonicalUnit converts a UCUM unit code into a factor and a canonical
// unit: "mg" is 1/1000 of "g", "mg/dL" is 10 of "g.m-3", "mm[Hg]" is
// 133322 of "g.m-1.s-2". Two quantities are comparable when their
// canonical units are equal; their canonical values are value × factor.
//
// It knows the common units of clinical data (mass, length, volume, time,
// amount, pressure, energy, enzyme and arbitrary units) with every SI
// prefix, products ".", quotients "/", exponents ("m2", "s-1"), "10*3"
// factors and {annotations}. Units with an offset (Cel, [degF]) and
// unknown atoms report ok = false, and quantities then match on their
// code as written. A full UCUM implementation can replace this function.
func CanonicalUnit(code string) (factor *big.Rat, unit string, ok bool) {
	if code == "" || len(code) > 64 {
		return nil, "", false
	}
	u, ok := parseUnitExpr(code)
	if !ok {
		return nil, "", false
	}
	return u.factor, u.String(), true
}

// unitValue is a factor times a product of base units with exponents.
type unitValue struct {
	factor *big.Rat
	dims   map[string]int
}

func one() unitValue { return unitValue{factor: big.NewRat(1, 1), dims: map[string]int{}} }

func (u unitValue) mul(v unitValue, exp int) unitValue {
	out := unitValue{factor: new(big.Rat).Set(u.factor), dims: map[string]int{}}
	for k, e := range u.dims {
		out.dims[k] = e
	}
	f := ratPow(v.factor, exp)
	out.factor.Mul(out.factor, f)
	for k, e := range v.dims {
		out.dims[k] += e * exp
		if out.dims[k] == 0 {
			delete(out.dims, k)
		}
	}
	return out
}

func ratPow(r *big.Rat, exp int) *big.Rat {
	out := big.NewRat(1, 1)
	for range abs(exp) {
		out.Mul(out, r)
	}
	if exp < 0 {
		out.Inv(out)
	}
	return out
}

// String writes the base units in a fixed order: "g.m-3"; "1" when dimensionless.
func (u unitValue) String() string {
	keys := make([]string, 0, len(u.dims))
	for k := range u.dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k
		if e := u.dims[k]; e != 1 {
			parts[i] += strconv.Itoa(e)
		}
	}
	if len(parts) == 0 {
		return "1"
	}
	return strings.Join(parts, ".")
}

// atom is a UCUM unit atom: its value in base units and whether SI
// prefixes apply to it.
type atom struct {
	factor string // a decimal or a fraction
	dims   string // base units, "g.m-1.s-2"
	metric bool
}

var atoms = map[string]atom{
	"m": {"1", "m", true}, "g": {"1", "g", true}, "s": {"1", "s", true},
	"mol": {"1", "mol", true}, "K": {"1", "K", true}, "A": {"1", "A", true}, "cd": {"1", "cd", true},
	"L": {"1/1000", "m3", true}, "l": {"1/1000", "m3", true}, "t": {"1000000", "g", true},
	"min": {"60", "s", false}, "h": {"3600", "s", false}, "d": {"86400", "s", false},
	"wk": {"604800", "s", false}, "a": {"31557600", "s", false}, "mo": {"2629800", "s", false},
	"Hz": {"1", "s-1", true}, "N": {"1000", "g.m.s-2", true}, "Pa": {"1000", "g.m-1.s-2", true},
	"bar": {"100000000", "g.m-1.s-2", true}, "J": {"1000", "g.m2.s-2", true}, "W": {"1000", "g.m2.s-3", true},
	"cal": {"4184", "g.m2.s-2", true}, "[Cal]": {"4184000", "g.m2.s-2", false},
	"m[Hg]": {"133322000", "g.m-1.s-2", true}, "m[H2O]": {"9806650", "g.m-1.s-2", true},
	"eq": {"1", "mol", true}, "Eq": {"1", "mol", true}, "U": {"1/60000000", "mol.s-1", true}, "kat": {"1", "mol.s-1", true},
	"%": {"1/100", "", false}, "[ppm]": {"1/1000000", "", false}, "[ppb]": {"1/1000000000", "", false},
	"[in_i]": {"0.0254", "m", false}, "[ft_i]": {"0.3048", "m", false}, "[yd_i]": {"0.9144", "m", false},
	"[mi_i]": {"1609.344", "m", false}, "[nmi_i]": {"1852", "m", false},
	"[lb_av]": {"453.59237", "g", false}, "[oz_av]": {"28.349523125", "g", false},
	"[IU]": {"1", "[IU]", true}, "[iU]": {"1", "[IU]", true}, "[arb'U]": {"1", "[arb'U]", true},
	"[pH]": {"1", "[pH]", false}, "osm": {"1", "mol", true},
}

// prefixes are the SI prefixes as powers of ten; "da" is tried before "d".
var prefixes = []struct {
	sym string
	exp int
}{
	{"da", 1}, {"Y", 24}, {"Z", 21}, {"E", 18}, {"P", 15}, {"T", 12}, {"G", 9}, {"M", 6}, {"k", 3},
	{"h", 2}, {"d", -1}, {"c", -2}, {"m", -3}, {"u", -6}, {"n", -9}, {"p", -12}, {"f", -15},
	{"a", -18}, {"z", -21}, {"y", -24},
}

// parseUnitExpr reads terms joined by "." and "/"; a leading "/" inverts.
func parseUnitExpr(s string) (unitValue, bool) {
	acc := one()
	sign := 1
	if strings.HasPrefix(s, "/") {
		sign, s = -1, s[1:]
	}
	for {
		i := nextOperator(s)
		term := s
		if i >= 0 {
			term = s[:i]
		}
		u, ok := parseTerm(term)
		if !ok {
			return unitValue{}, false
		}
		acc = acc.mul(u, sign)
		if i < 0 {
			return acc, true
		}
		sign = 1
		if s[i] == '/' {
			sign = -1
		}
		s = s[i+1:]
	}
}

// nextOperator finds the next "." or "/" outside brackets, braces and parentheses.
func nextOperator(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '{', '(':
			depth++
		case ']', '}', ')':
			depth--
		case '.', '/':
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// parseTerm reads one term: an annotation, a number, "10*n", a
// parenthesised expression, or a prefixed atom with an exponent.
func parseTerm(t string) (unitValue, bool) {
	if i := strings.IndexByte(t, '{'); i >= 0 && strings.HasSuffix(t, "}") {
		t = t[:i] // annotations carry no dimension
		if t == "" {
			return one(), true
		}
	}
	if t == "" {
		return unitValue{}, false
	}
	if strings.HasPrefix(t, "(") && strings.HasSuffix(t, ")") {
		return parseUnitExpr(t[1 : len(t)-1])
	}
	if rest, ok := strings.CutPrefix(t, "10*"); ok {
		return powerOfTen(rest)
	}
	if rest, ok := strings.CutPrefix(t, "10^"); ok {
		return powerOfTen(rest)
	}
	if allDigits(t) {
		n, ok := new(big.Rat).SetString(t)
		return unitValue{factor: n, dims: map[string]int{}}, ok && n.Sign() > 0
	}
	sym, exp := splitExponent(t)
	u, ok := lookupAtom(sym)
	if !ok {
		return unitValue{}, false
	}
	return one().mul(u, exp), true
}

func powerOfTen(e string) (unitValue, bool) {
	n, err := strconv.Atoi(e)
	if err != nil || n < -24 || n > 24 {
		return unitValue{}, false
	}
	return unitValue{factor: pow10(n), dims: map[string]int{}}, true
}

// splitExponent splits "cm3" into "cm", 3 and "s-1" into "s", -1.
func splitExponent(t string) (string, int) {
	i := len(t)
	for i > 0 && t[i-1] >= '0' && t[i-1] <= '9' {
		i--
	}
	if i > 0 && i < len(t) && (t[i-1] == '-' || t[i-1] == '+') {
		i--
	}
	if i == 0 || i == len(t) {
		return t, 1
	}
	e, err := strconv.Atoi(t[i:])
	if err != nil || e == 0 || e > 9 || e < -9 {
		return t, 1
	}
	return t[:i], e
}

// lookupAtom finds an atom, with an SI prefix when the atom is metric.
func lookupAtom(sym string) (unitValue, bool) {
	if a, ok := atoms[sym]; ok {
		return a.value(), true
	}
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(sym, p.sym); ok {
			if a, ok := atoms[rest]; ok && a.metric {
				v := a.value()
				v.factor.Mul(v.factor, pow10(p.exp))
				return v, true
			}
		}
	}
	return unitValue{}, false
}

func (a atom) value() unitValue {
	f, _ := new(big.Rat).SetString(a.factor)
	u := unitValue{factor: f, dims: map[string]int{}}
	if a.dims == "" {
		return u
	}
	for _, part := range strings.Split(a.dims, ".") {
		sym, exp := splitExponent(part)
		u.dims[sym] += exp
	}
	return u
}
