package fhirpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// system returns v as a System value: FHIR primitives convert to the System
// type of their kind (https://hl7.org/fhir/R4/fhirpath.html#types), a FHIR
// quantity to a System.Quantity. ok is false for other complex values and for
// primitives that have only extensions.
func system(v Value) (Value, bool) {
	if v.typ.Namespace == "System" {
		return v, v.typ.sys != kNone
	}
	switch v.typ.sys {
	case kNone:
		return v, false
	case kBoolean:
		b, ok := v.data.(bool)
		return boolValue(b), ok
	case kInteger:
		switch d := v.data.(type) {
		case json.Number:
			i, err := strconv.ParseInt(string(d), 10, 64)
			return intValue(i), err == nil
		case float64:
			return intValue(int64(d)), d == float64(int64(d))
		}
	case kDecimal:
		switch d := v.data.(type) {
		case json.Number:
			x, ok := parseDecimal(string(d))
			return decimalValue(x), ok
		case float64:
			x, ok := decimalFromFloat(d)
			return decimalValue(x), ok
		}
	case kString:
		s, ok := v.data.(string)
		return stringValue(s), ok
	case kDate, kDateTime, kTime:
		s, ok := v.data.(string)
		if !ok {
			return v, false
		}
		return parseTemporal(s, v.typ.sys)
	case kQuantity:
		return fhirQuantity(v)
	}
	return v, false
}

// parseTemporal converts FHIR date, dateTime, instant and time strings.
func parseTemporal(s string, k sysKind) (Value, bool) {
	switch k {
	case kDate:
		d, err := parseDateTime(s, kDate)
		return Value{typ: typeDate, data: d}, err == nil
	case kTime:
		v, err := parseTime(s)
		return v, err == nil
	}
	d, err := parseDateTime(s, kDateTime)
	if err == nil && d.prec <= pDay {
		// a FHIR dateTime without a time is still a DateTime, partial.
		return Value{typ: typeDateTime, data: d}, true
	}
	return Value{typ: typeDateTime, data: d}, err == nil
}

// fhirQuantity converts a FHIR quantity element to a System.Quantity, using
// the UCUM code when there is one and the unit text otherwise.
func fhirQuantity(v Value) (Value, bool) {
	m, ok := v.data.(map[string]any)
	if !ok {
		return v, false
	}
	num, ok := m["value"].(json.Number)
	if !ok {
		return v, false
	}
	d, ok := parseDecimal(string(num))
	if !ok {
		return v, false
	}
	unit, _ := m["code"].(string)
	if sys, _ := m["system"].(string); unit == "" || (sys != "" && sys != "http://unitsofmeasure.org") {
		if u, ok := m["unit"].(string); ok {
			unit = u
		}
	}
	if unit == "" {
		unit = "1"
	}
	return quantityValue(quantity{Value: d, Unit: unit}), true
}

// hasValue reports whether v carries a value (a FHIR primitive may hold only extensions).
func hasValue(v Value) bool { return v.data != nil }

// numeric returns v as a System Integer, Decimal or quantity.
func numeric(v Value) (Value, bool) {
	s, ok := system(v)
	if !ok {
		return s, false
	}
	switch s.typ.sys {
	case kInteger, kDecimal, kQuantity:
		return s, true
	}
	return s, false
}

// toDecimal converts an Integer or Decimal.
func toDecimal(v Value) (decimal, bool) {
	s, ok := system(v)
	if !ok {
		return decimal{}, false
	}
	switch d := s.data.(type) {
	case int64:
		return decimalFromInt(d), true
	case decimal:
		return d, true
	}
	return decimal{}, false
}

func negate(v Value) (Value, error) {
	s, _ := system(v)
	switch d := s.data.(type) {
	case int64:
		return intValue(-d), nil
	case decimal:
		return decimalValue(d.neg()), nil
	case quantity:
		return quantityValue(quantity{Value: d.Value.neg(), Unit: d.Unit}), nil
	}
	return v, fmt.Errorf("cannot negate %s", v.typ)
}

var errNotSingleton = errors.New("expected a single value but found several")

// singletonBool applies singleton evaluation for a Boolean
// (https://hl7.org/fhirpath/N1/#singleton-evaluation-of-collections):
// empty → ok false; one Boolean → its value; one other item → true.
func singletonBool(c Collection) (value, ok bool, err error) {
	switch len(c) {
	case 0:
		return false, false, nil
	case 1:
		s, isSys := system(c[0])
		if b, isBool := s.data.(bool); isSys && isBool {
			return b, true, nil
		}
		if c[0].typ.sys == kBoolean && !hasValue(c[0]) {
			return false, false, nil
		}
		return true, true, nil
	}
	return false, false, errNotSingleton
}

// strictBool is like singletonBool but rejects non-Boolean items.
func strictBool(c Collection) (value, ok bool, err error) {
	switch len(c) {
	case 0:
		return false, false, nil
	case 1:
		s, isSys := system(c[0])
		if b, isBool := s.data.(bool); isSys && isBool {
			return b, true, nil
		}
		return false, false, fmt.Errorf("expected a Boolean but found %s", c[0].typ)
	}
	return false, false, errNotSingleton
}

func singletonInt(c Collection) (int64, bool, error) {
	if len(c) == 0 {
		return 0, false, nil
	}
	if len(c) > 1 {
		return 0, false, errNotSingleton
	}
	s, _ := system(c[0])
	if i, ok := s.data.(int64); ok {
		return i, true, nil
	}
	return 0, false, fmt.Errorf("expected an Integer but found %s", c[0].typ)
}

// singletonString returns the single String of c; ok is false when c is empty.
func singletonString(c Collection) (string, bool, error) {
	if len(c) == 0 {
		return "", false, nil
	}
	if len(c) > 1 {
		return "", false, errNotSingleton
	}
	s, _ := system(c[0])
	if str, ok := s.data.(string); ok {
		return str, true, nil
	}
	return "", false, fmt.Errorf("expected a String but found %s", c[0].typ)
}

// toStringValue converts a primitive to its String form (toString()).
func toStringValue(v Value) (string, bool) {
	s, ok := system(v)
	if !ok {
		return "", false
	}
	switch d := s.data.(type) {
	case bool:
		return strconv.FormatBool(d), true
	case int64:
		return strconv.FormatInt(d, 10), true
	case decimal:
		return d.String(), true
	case string:
		return d, true
	case dateTime:
		return d.String(), true
	case quantity:
		return d.String(), true
	}
	return "", false
}

// literalString renders a value as a FHIRPath literal would be written,
// dates with '@' and quantities with their unit: for tests and tracing.
func literalString(v Value) string {
	s, ok := system(v)
	if !ok {
		return v.String()
	}
	switch d := s.data.(type) {
	case dateTime:
		return d.literal()
	case quantity:
		return d.String()
	}
	str, _ := toStringValue(s)
	return str
}

// parseQuantityString parses the text form of a quantity: "4 'mg'", "1 day", "1.5".
func parseQuantityString(s string) (quantity, bool) {
	s = strings.TrimSpace(s)
	num, unit, hasUnit := strings.Cut(s, " ")
	d, ok := parseDecimal(strings.TrimPrefix(num, "+"))
	if !ok {
		return quantity{}, false
	}
	if !hasUnit {
		return quantity{Value: d, Unit: "1"}, true
	}
	unit = strings.TrimSpace(unit)
	if len(unit) >= 2 && unit[0] == '\'' && unit[len(unit)-1] == '\'' {
		return quantity{Value: d, Unit: unit[1 : len(unit)-1]}, true
	}
	if _, ok := calendarUnits[unit]; ok {
		return quantity{Value: d, Unit: unit}, true
	}
	return quantity{}, false
}
