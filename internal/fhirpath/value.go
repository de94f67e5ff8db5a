package fhirpath

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// sysKind is the System type a value is, or converts to implicitly.
type sysKind uint8

const (
	kNone sysKind = iota // complex values: no System equivalent
	kBoolean
	kInteger
	kDecimal
	kString
	kDate
	kDateTime
	kTime
	kQuantity
)

// Type is a FHIRPath type: a System type (System.Integer …) or a FHIR type
// from the R4 definitions (FHIR.date, FHIR.HumanName, FHIR.Patient …).
// Types are shared and immutable.
type Type struct {
	Namespace string // "System" or "FHIR"
	Name      string
	base      *Type
	sys       sysKind    // the System type values of this type convert to
	node      *modelNode // children of complex FHIR types
	resource  bool
}

// Base returns the type this one derives from (FHIR.code → FHIR.string,
// FHIR.Patient → FHIR.DomainResource), nil at the root.
func (t *Type) Base() *Type { return t.base }

// String returns the qualified name, "FHIR.Patient" or "System.Integer".
func (t *Type) String() string { return t.Namespace + "." + t.Name }

// isA reports whether t is u or derives from u.
func (t *Type) isA(u *Type) bool {
	for ; t != nil; t = t.base {
		if t == u {
			return true
		}
	}
	return false
}

// The System types (https://hl7.org/fhirpath/N1/#types-and-reflection).
var (
	typeAny      = &Type{Namespace: "System", Name: "Any"}
	typeBoolean  = &Type{Namespace: "System", Name: "Boolean", sys: kBoolean, base: typeAny}
	typeInteger  = &Type{Namespace: "System", Name: "Integer", sys: kInteger, base: typeAny}
	typeDecimal  = &Type{Namespace: "System", Name: "Decimal", sys: kDecimal, base: typeAny}
	typeString   = &Type{Namespace: "System", Name: "String", sys: kString, base: typeAny}
	typeDate     = &Type{Namespace: "System", Name: "Date", sys: kDate, base: typeAny}
	typeDateTime = &Type{Namespace: "System", Name: "DateTime", sys: kDateTime, base: typeAny}
	typeTime     = &Type{Namespace: "System", Name: "Time", sys: kTime, base: typeAny}
	typeQuantity = &Type{Namespace: "System", Name: "Quantity", sys: kQuantity, base: typeAny}
	// typeObject is the type of JSON objects without FHIR type information.
	typeObject = &Type{Namespace: "System", Name: "Object", base: typeAny}
	// typeTypeInfo is the type of the result of type().
	typeTypeInfo = &Type{Namespace: "System", Name: "SimpleTypeInfo", base: typeAny}
)

var systemTypes = map[string]*Type{
	"Any": typeAny, "Boolean": typeBoolean, "Integer": typeInteger, "Decimal": typeDecimal,
	"String": typeString, "Date": typeDate, "DateTime": typeDateTime, "Time": typeTime,
	"Quantity": typeQuantity,
}

// Value is one item of a Collection: a FHIR element reached by navigation
// (it keeps its JSON form and FHIR type) or a System value (literal or computed).
type Value struct {
	typ  *Type
	data any            // FHIR: the JSON value; System: bool, int64, decimal, string, dateTime, quantity
	ext  map[string]any // FHIR primitives: the "_name" sibling holding id and extensions
	node *modelNode     // FHIR complex values: their children (backbone elements differ per path)
}

// Collection is an ordered FHIRPath collection; the empty collection is nil.
type Collection []Value

// Type returns the value's type.
func (v Value) Type() *Type { return v.typ }

// TypeName returns the FHIR type name for FHIR values ("code", "HumanName")
// and the lower-case FHIR spelling of System types ("boolean", "integer",
// "decimal", "string", "date", "dateTime", "time", "Quantity").
func (v Value) TypeName() string {
	if v.typ.Namespace == "FHIR" {
		return v.typ.Name
	}
	switch v.typ.sys {
	case kDateTime:
		return "dateTime"
	case kQuantity:
		return "Quantity"
	case kNone:
		return v.typ.Name
	}
	return strings.ToLower(v.typ.Name)
}

// IsPrimitive reports whether the value is a primitive (System value or FHIR primitive).
func (v Value) IsPrimitive() bool {
	return v.typ.sys != kNone && (v.typ.node == nil || v.typ.Namespace == "System")
}

// JSON returns the value as FHIR JSON would hold it: the JSON of FHIR
// elements as read, and for System values a bool, json.Number, string (dates
// and times without '@') or, for a quantity, {"value": n, "unit": u}.
func (v Value) JSON() any {
	switch d := v.data.(type) {
	case int64:
		return json.Number(strconv.FormatInt(d, 10))
	case decimal:
		return json.Number(d.String())
	case dateTime:
		return d.String()
	case quantity:
		m := map[string]any{"value": json.Number(d.Value.String()), "unit": d.Unit}
		if u, ok := calendarUnits[d.Unit]; ok {
			m["unit"] = u
		}
		return m
	case typeInfo:
		return map[string]any{"namespace": d.t.Namespace, "name": d.t.Name}
	}
	return v.data
}

// String renders the value as FHIRPath's toString() would, or a compact JSON form for elements.
func (v Value) String() string {
	if s, ok := toStringValue(v); ok {
		return s
	}
	b, _ := json.Marshal(v.JSON())
	return string(b)
}

// typeInfo is the payload of type() results.
type typeInfo struct{ t *Type }

// System value constructors.

func boolValue(b bool) Value       { return Value{typ: typeBoolean, data: b} }
func intValue(i int64) Value       { return Value{typ: typeInteger, data: i} }
func decimalValue(d decimal) Value { return Value{typ: typeDecimal, data: d} }
func stringValue(s string) Value   { return Value{typ: typeString, data: s} }
func quantityValue(q quantity) Value {
	return Value{typ: typeQuantity, data: q}
}

// numberValue makes an Integer or Decimal from a number's text; text that
// is no number (or absurdly long) stays a String.
func numberValue(s string) Value {
	v, ok := parseNumber(s)
	if !ok {
		return stringValue(s)
	}
	return v
}

func parseNumber(s string) (Value, bool) {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return intValue(i), true
		}
	}
	d, ok := parseDecimal(s)
	return decimalValue(d), ok
}

var (
	trueCollection  = Collection{boolValue(true)}
	falseCollection = Collection{boolValue(false)}
)

func boolCollection(b bool) Collection {
	if b {
		return trueCollection
	}
	return falseCollection
}

// ValueOf converts a Go value to a Collection, for environment variables and
// inputs: nil → empty; Collection and Value as they are; a resource
// (map[string]any with resourceType) typed from the R4 model; other maps as
// untyped objects; []any element by element; bool, int, int64, float64,
// json.Number, string and time.Time as System values.
func ValueOf(x any) Collection {
	switch d := x.(type) {
	case nil:
		return nil
	case Collection:
		return d
	case Value:
		return Collection{d}
	case map[string]any:
		return Collection{objectValue(d)}
	case []any:
		var out Collection
		for _, e := range d {
			out = append(out, ValueOf(e)...)
		}
		return out
	case bool:
		return Collection{boolValue(d)}
	case int:
		return Collection{intValue(int64(d))}
	case int64:
		return Collection{intValue(d)}
	case float64:
		return Collection{numberValue(strconv.FormatFloat(d, 'f', -1, 64))}
	case json.Number:
		return Collection{numberValue(string(d))}
	case string:
		return Collection{stringValue(d)}
	case time.Time:
		return Collection{Value{typ: typeDateTime, data: dateTimeFromTime(d, pMillis)}}
	}
	return Collection{stringValue(fmt.Sprint(x))}
}

// objectValue types a JSON object: a resource by its resourceType, anything else untyped.
func objectValue(m map[string]any) Value {
	if rt, ok := m["resourceType"].(string); ok {
		if t := fhirType(rt); t != nil && t.node != nil {
			return Value{typ: t, data: m, node: t.node}
		}
	}
	return Value{typ: typeObject, data: m}
}

// untypedValue types a JSON value found without model information.
func untypedValue(x any) (Value, bool) {
	switch d := x.(type) {
	case map[string]any:
		return objectValue(d), true
	case string:
		return stringValue(d), true
	case bool:
		return boolValue(d), true
	case json.Number:
		return numberValue(string(d)), true
	case float64:
		return numberValue(strconv.FormatFloat(d, 'f', -1, 64)), true
	}
	return Value{}, false
}

// ElementPath is the model path of a complex FHIR element — "Patient",
// "Patient.contact", "HumanName" — so a caller can look its children up in
// the R4 definitions (FHIRPath Patch adds elements this way); "" for
// primitives and System values.
func (v Value) ElementPath() string {
	if v.node == nil {
		return ""
	}
	return v.node.path
}
