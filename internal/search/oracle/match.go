package oracle

import (
	"cmp"
	"fmt"
	"math/big"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// clause is one query parameter occurrence: values ORed, under one modifier.
type clause struct {
	param  Param
	mod    string
	values []value
}

// value is one search value, parsed for the parameter's type.
type value struct {
	raw       string
	prefix    string // date, number, quantity: eq when none was given
	system    string // token: the part before '|'; quantity: the unit system
	code      string // token: the code; quantity: the unit code
	hasSystem bool   // token: a '|' was given
	lo, hi    int64  // date: the search range
	num       *big.Rat
	nlo, nhi  *big.Rat // number and quantity: the precision range
	near      nearValue
	missing   bool // :missing=true
}

var prefixes = []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

// parseClause reads the values of one parameter occurrence.
func parseClause(p Param, mod, raw string) (clause, error) {
	c := clause{param: p, mod: mod}
	for _, part := range splitUnescaped(raw, ',') {
		v, err := parseValue(p, mod, part)
		if err != nil {
			return c, fmt.Errorf("oracle: %s:%s=%s: %w", p.Code, mod, raw, err)
		}
		c.values = append(c.values, v)
	}
	return c, nil
}

func parseValue(p Param, mod, s string) (value, error) {
	v := value{raw: unescape(s), prefix: "eq"}
	if mod == "missing" {
		v.missing = s == "true"
		return v, nil
	}
	switch p.Type {
	case "special":
		var err error
		v.near, err = parseNear(s)
		return v, err
	case "token":
		parts := splitUnescaped(s, '|')
		switch len(parts) {
		case 1:
			v.code = unescape(parts[0])
		case 2:
			v.system, v.code, v.hasSystem = unescape(parts[0]), unescape(parts[1]), true
		default:
			return v, fmt.Errorf("bad token")
		}
	case "date", "number", "quantity":
		for _, pre := range prefixes {
			if strings.HasPrefix(s, pre) {
				v.prefix, s = pre, s[2:]
				break
			}
		}
		if p.Type == "date" {
			var err error
			v.lo, v.hi, err = parseDate(s)
			return v, err
		}
		num := s
		if p.Type == "quantity" {
			parts := splitUnescaped(s, '|')
			num = parts[0]
			if len(parts) == 3 {
				v.system, v.code = unescape(parts[1]), unescape(parts[2])
			}
		}
		var ok bool
		if v.num, ok = new(big.Rat).SetString(num); !ok {
			return v, fmt.Errorf("bad number %q", num)
		}
		v.nlo, v.nhi = precision(num, v.num)
	}
	return v, nil
}

// precision is the range a number's written precision implies: half a
// unit of its last decimal place either side, so 100 is [99.5, 100.5) and
// 5.40 is [5.395, 5.405) (https://hl7.org/fhir/R4/search.html#number).
func precision(s string, n *big.Rat) (lo, hi *big.Rat) {
	places := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		places = len(s) - i - 1
	}
	half := new(big.Rat).SetFrac(big.NewInt(5), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places+1)), nil))
	return new(big.Rat).Sub(n, half), new(big.Rat).Add(n, half)
}

// match reports whether a resource with items satisfies the clause: any
// value matching any item, except :not (no item matches) and :missing.
func (c clause) match(items []Item) bool {
	switch c.mod {
	case "missing":
		return (len(items) == 0) == c.values[0].missing
	case "not":
		for _, v := range c.values {
			for _, it := range items {
				if matchToken("", v, it) {
					return false
				}
			}
		}
		return true
	}
	for _, v := range c.values {
		for _, it := range items {
			if c.matchItem(v, it) {
				return true
			}
		}
	}
	return false
}

func (c clause) matchItem(v value, it Item) bool {
	switch c.param.Type {
	case "token":
		return matchToken(c.mod, v, it)
	case "string":
		return matchString(c.mod, v.raw, it.Str)
	case "date":
		return matchDate(v.prefix, v.lo, v.hi, it.Lo, it.Hi)
	case "number":
		return matchNumber(v, it.Num)
	case "quantity":
		return matchQuantity(v, it)
	case "reference":
		return matchReference(v.raw, it)
	case "uri":
		return it.URL == v.raw
	case "special":
		return matchNear(v.near, it)
	}
	return false
}

// matchToken: "code" any system; "system|code"; "|code" no system;
// "system|" any code of the system; :text the start of a Coding's display
// or a CodeableConcept's text, compared as strings are.
func matchToken(mod string, v value, it Item) bool {
	if mod == "text" {
		return it.Text != "" && strings.HasPrefix(fold(it.Text), fold(v.raw))
	}
	if it.FHIRType == "CodeableConcept" { // its text, not a code
		return false
	}
	switch {
	case !v.hasSystem:
		return it.Code == v.code
	case v.code == "":
		return it.System == v.system
	}
	return it.System == v.system && it.Code == v.code
}

// matchString: the folded target starts with the folded value; :exact the
// strings are equal; :contains the folded target contains it anywhere.
func matchString(mod, v, target string) bool {
	switch mod {
	case "exact":
		return target == v
	case "contains":
		return strings.Contains(fold(target), fold(v))
	}
	return strings.HasPrefix(fold(target), fold(v))
}

// fold makes a string case- and accent-insensitive: decomposed, combining
// marks dropped, lower-cased, white space collapsed.
func fold(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return norm.NFC.String(b.String())
}

// matchNumber applies the prefix to the target n: eq and ne against the
// value's precision range, gt/lt/ge/le against the value itself, sa and eb
// beyond the precision range, ap within 10% of the value (or its precision).
func matchNumber(v value, n *big.Rat) bool {
	if n == nil {
		return false
	}
	in := v.nlo.Cmp(n) <= 0 && n.Cmp(v.nhi) < 0
	switch v.prefix {
	case "ne":
		return !in
	case "gt":
		return n.Cmp(v.num) > 0
	case "lt":
		return n.Cmp(v.num) < 0
	case "ge":
		return n.Cmp(v.num) >= 0
	case "le":
		return n.Cmp(v.num) <= 0
	case "sa":
		return n.Cmp(v.nhi) >= 0
	case "eb":
		return n.Cmp(v.nlo) < 0
	case "ap":
		tenth := new(big.Rat).Abs(new(big.Rat).Quo(v.num, big.NewRat(10, 1)))
		lo, hi := new(big.Rat).Sub(v.num, tenth), new(big.Rat).Add(v.num, tenth)
		if v.nlo.Cmp(lo) < 0 {
			lo = v.nlo
		}
		if v.nhi.Cmp(hi) > 0 {
			hi = v.nhi
		}
		return lo.Cmp(n) <= 0 && n.Cmp(hi) < 0
	}
	return in
}

// matchReference: "Type/id" the same target on this server (a relative
// reference); a bare id a target of any type with that id on this server;
// an absolute url the reference as written (a version in the reference
// ignored), and a canonical's |version when the value names one.
func matchReference(v string, it Item) bool {
	v, version, _ := strings.Cut(v, "|")
	if !absolute(v) {
		if typ, id, ok := splitRef(v); ok {
			return it.RefType == typ && it.RefID == id && !absolute(it.URL)
		}
		if !strings.Contains(v, "/") {
			return it.RefID == v && !absolute(it.URL)
		}
	}
	return withoutHistory(it.URL) == withoutHistory(v) && (version == "" || it.RefVersion == version)
}

// absolute reports whether a reference is an absolute URL (or a urn).
func absolute(ref string) bool { return strings.Contains(ref, "://") || strings.HasPrefix(ref, "urn:") }

// withoutHistory is a reference without its /_history/n.
func withoutHistory(ref string) string {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		return ref[:i]
	}
	return ref
}

// Key is a resource's sort key for one parameter; Has is false for a
// resource without a value, which sorts last either way.
type Key struct {
	Has  bool
	Text string
	Time int64
}

// sortKeyOf is the smallest value (ascending) or the largest (descending):
// folded strings, codes, and for dates the start (ascending) or end
// (descending) of the ranges.
func sortKeyOf(items []Item, desc bool) Key {
	var k Key
	for _, it := range items {
		c, ok := itemKey(it, desc)
		if !ok {
			continue
		}
		if !k.Has || (CompareKeys(c, k, false) > 0) == desc && CompareKeys(c, k, false) != 0 {
			k = c
		}
	}
	return k
}

func itemKey(it Item, desc bool) (Key, bool) {
	switch {
	case it.Lo != 0 || it.Hi != 0:
		if desc {
			return Key{Has: true, Time: it.Hi}, true
		}
		return Key{Has: true, Time: it.Lo}, true
	case it.Str != "":
		return Key{Has: true, Text: fold(it.Str)}, true
	case it.Code != "":
		return Key{Has: true, Text: it.Code}, true
	case it.RefID != "":
		return Key{Has: true, Text: it.RefType + "/" + it.RefID}, true
	}
	return Key{}, false
}

// CompareKeys orders two sort keys for the direction: missing keys last.
func CompareKeys(a, b Key, desc bool) int {
	switch {
	case !a.Has && !b.Has:
		return 0
	case !a.Has:
		return 1
	case !b.Has:
		return -1
	}
	c := cmp.Or(cmp.Compare(a.Time, b.Time), strings.Compare(a.Text, b.Text))
	if desc {
		return -c
	}
	return c
}

// splitUnescaped splits s at sep where sep is not escaped with '\'
// (https://hl7.org/fhir/R4/search.html#escaping); parts keep their escapes.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescape removes the backslash before \, | $ and \.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Escape escapes a value's \ , | and $ for a query.
func Escape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `,`, `\,`, `|`, `\|`, `$`, `\$`)
	return r.Replace(s)
}
