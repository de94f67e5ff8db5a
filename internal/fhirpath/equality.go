package fhirpath

import (
	"encoding/json"
	"strings"
	"unicode"
)

// valueEqual is = on two items (https://hl7.org/fhirpath/N1/#equals);
// known is false when the result is empty (dates of different precision,
// quantities of incomparable units).
func valueEqual(x, y Value) (eq, known bool) {
	sx, okx := system(x)
	sy, oky := system(y)
	if okx != oky {
		return false, true
	}
	if !okx {
		if x.data == nil || y.data == nil {
			return false, false
		}
		return jsonEqual(x.data, y.data, false), true
	}
	switch a := sx.data.(type) {
	case int64:
		switch b := sy.data.(type) {
		case int64:
			return a == b, true
		case decimal:
			return decimalFromInt(a).cmp(b) == 0, true
		}
	case decimal:
		if b, ok := toDecimal(sy); ok && sy.typ.sys != kQuantity {
			return a.cmp(b) == 0, true
		}
	case string:
		if b, ok := sy.data.(string); ok {
			return a == b, true
		}
	case bool:
		if b, ok := sy.data.(bool); ok {
			return a == b, true
		}
	case dateTime:
		if b, ok := sy.data.(dateTime); ok {
			if (a.kind == kTime) != (b.kind == kTime) {
				return false, true
			}
			c, ok := compareDateTime(a, b)
			return c == 0, ok
		}
	case quantity:
		if b, ok := sy.data.(quantity); ok {
			va, vb, ok := convertQuantities(a, b)
			if !ok {
				return false, false
			}
			return va.cmp(vb) == 0, true
		}
	}
	return false, true
}

// valueEquivalent is ~ on two items (https://hl7.org/fhirpath/N1/#equivalent).
func valueEquivalent(x, y Value) bool {
	sx, okx := system(x)
	sy, oky := system(y)
	if okx != oky {
		return false
	}
	if !okx {
		return x.data != nil && y.data != nil && jsonEqual(x.data, y.data, true)
	}
	switch a := sx.data.(type) {
	case int64, decimal:
		da, _ := toDecimal(sx)
		if db, ok := toDecimal(sy); ok {
			return da.equivalent(db)
		}
	case string:
		if b, ok := sy.data.(string); ok {
			return normalizeSpace(a) == normalizeSpace(b)
		}
	case bool:
		if b, ok := sy.data.(bool); ok {
			return a == b
		}
	case dateTime:
		if b, ok := sy.data.(dateTime); ok {
			c, ok := compareDateTime(a, b)
			return ok && c == 0
		}
	case quantity:
		if b, ok := sy.data.(quantity); ok {
			va, vb, ok := convertQuantities(a, b)
			return ok && va.equivalent(vb)
		}
	}
	return false
}

// normalizeSpace lower-cases and collapses white space, for string equivalence.
func normalizeSpace(s string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " "))
}

// jsonEqual compares two JSON trees; numbers by value, strings exactly or
// (equivalent) ignoring case and white space.
func jsonEqual(a, b any, equivalent bool) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		n := 0
		for k, vx := range x {
			if equivalent && k == "id" {
				continue
			}
			vy, ok := y[k]
			if !ok || !jsonEqual(vx, vy, equivalent) {
				return false
			}
			n++
		}
		m := 0
		for k := range y {
			if !(equivalent && k == "id") {
				m++
			}
		}
		return n == m
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i], equivalent) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		dx, ok1 := parseDecimal(string(x))
		dy, ok2 := parseDecimal(string(y))
		return ok1 && ok2 && dx.cmp(dy) == 0
	case string:
		y, ok := b.(string)
		if equivalent {
			return ok && normalizeSpace(x) == normalizeSpace(y)
		}
		return ok && x == y
	}
	return a == b
}

// collectionEqual is = on collections: same size and pairwise equal, in order.
func collectionEqual(a, b Collection) (eq, known bool) {
	if len(a) == 0 || len(b) == 0 {
		return false, false
	}
	if len(a) != len(b) {
		return false, true
	}
	known = true
	for i := range a {
		e, k := valueEqual(a[i], b[i])
		if k && !e {
			return false, true
		}
		known = known && k
	}
	return known, known
}

// collectionEquivalent is ~ on collections: same size, equivalent in any order.
func collectionEquivalent(a, b Collection) bool {
	if len(a) != len(b) || len(a) > 1<<12 {
		return len(a) == len(b) && len(a) > 1<<12 && equivalentLarge(a, b)
	}
	used := make([]bool, len(b))
	for _, x := range a {
		found := false
		for j, y := range b {
			if !used[j] && valueEquivalent(x, y) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// contains reports whether c holds an item equal to v.
func contains(c Collection, v Value) bool {
	for _, x := range c {
		if eq, known := valueEqual(x, v); eq && known {
			return true
		}
	}
	return false
}

// distinct removes duplicates (by =), keeping the first of each.
func distinct(c Collection) Collection {
	if len(c) < 2 {
		return c
	}
	out := make(Collection, 0, len(c))
	var seen itemSet
	for _, v := range c {
		if !seen.has(v) {
			seen.add(v)
			out = append(out, v)
		}
	}
	return out
}

// compareValues orders two items for <, >, <=, >= and sort(); ok is false
// when the result is empty; err is set for incomparable types.
func compareValues(x, y Value) (c int, ok bool, err error) {
	sx, okx := system(x)
	sy, oky := system(y)
	if !okx || !oky {
		if (!okx && x.typ.sys != kNone) || (!oky && y.typ.sys != kNone) {
			return 0, false, nil // primitives without a value
		}
		return 0, false, errorf("cannot compare %s with %s", x.typ, y.typ)
	}
	switch a := sx.data.(type) {
	case int64, decimal:
		da, _ := toDecimal(sx)
		if db, isNum := toDecimal(sy); isNum {
			return da.cmp(db), true, nil
		}
	case string:
		if b, isStr := sy.data.(string); isStr {
			return strings.Compare(a, b), true, nil
		}
	case dateTime:
		if b, isDT := sy.data.(dateTime); isDT && (a.kind == kTime) == (b.kind == kTime) {
			c, ok := compareDateTime(a, b)
			return c, ok, nil
		}
	case quantity:
		if b, isQ := sy.data.(quantity); isQ {
			va, vb, ok := convertQuantities(a, b)
			if !ok {
				return 0, false, nil
			}
			return va.cmp(vb), true, nil
		}
	}
	return 0, false, errorf("cannot compare %s with %s", x.typ, y.typ)
}

// equivalentLarge compares big collections by their normalised string forms.
func equivalentLarge(a, b Collection) bool {
	counts := map[string]int{}
	for _, v := range a {
		counts[equivalenceKey(v)]++
	}
	for _, v := range b {
		k := equivalenceKey(v)
		if counts[k] == 0 {
			return false
		}
		counts[k]--
	}
	return true
}

func equivalenceKey(v Value) string {
	if s, ok := toStringValue(v); ok {
		return v.typ.Name + ":" + normalizeSpace(s)
	}
	return v.String()
}
