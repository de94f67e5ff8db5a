package oracle

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Item is one value a parameter's expression found, read as the
// parameter's type reads it (https://hl7.org/fhir/R4/search.html#ptypes).
// Only the fields of that type are set.
type Item struct {
	FHIRType string // the FHIRPath type of the element: "CodeableConcept", "dateTime" ...

	// token: a code with its system; Text is a Coding's display or a
	// CodeableConcept's text (the latter an item without a code).
	System, Code, Text string

	// string
	Str string

	// date: the instants [Lo, Hi) the value covers, in microseconds.
	Lo, Hi int64

	// number and quantity: the value (nil when absent) and, for a
	// quantity, its unit.
	Num                  *big.Rat
	UnitSystem, UnitCode string
	Unit                 string

	// reference: the target's type and id, or the url of a canonical or uri.
	RefType, RefID, URL string
	// RefVersion is a canonical's |version (its URL is without it).
	RefVersion string

	// near: a position's latitude and longitude in degrees.
	Position bool
	Lat, Lon float64
}

// String shows the item for failure messages.
func (it Item) String() string {
	switch {
	case it.Position:
		return fmt.Sprintf("%s (%v, %v)", it.FHIRType, it.Lat, it.Lon)
	case it.Lo != 0 || it.Hi != 0:
		return fmt.Sprintf("%s[%s, %s)", it.FHIRType, microString(it.Lo), microString(it.Hi))
	case it.Num != nil:
		return fmt.Sprintf("%s %s|%s|%s (%s)", it.FHIRType, it.Num.FloatString(6), it.UnitSystem, it.UnitCode, it.Unit)
	case it.RefID != "" || it.URL != "":
		return fmt.Sprintf("%s %s/%s %s", it.FHIRType, it.RefType, it.RefID, it.URL)
	case it.Str != "":
		return fmt.Sprintf("%s %q", it.FHIRType, it.Str)
	}
	return fmt.Sprintf("%s %s|%s text=%q", it.FHIRType, it.System, it.Code, it.Text)
}

// itemsOf reads one element of FHIR type fhirType (JSON value v) as a
// value of parameter type ptype.
func itemsOf(ptype, fhirType string, v any) []Item {
	switch ptype {
	case "token":
		return tokenItems(fhirType, v)
	case "string":
		return stringItems(fhirType, v)
	case "date":
		return dateItems(fhirType, v)
	case "number":
		return numberItems(fhirType, v)
	case "quantity":
		return quantityItems(fhirType, v)
	case "reference":
		return referenceItems(fhirType, v)
	case "uri":
		if s, ok := v.(string); ok && s != "" {
			return []Item{{FHIRType: fhirType, URL: s}}
		}
	case "special": // near, the only special parameter with an expression
		return positionItems(fhirType, v)
	}
	return nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func strs(m map[string]any, k string) []string {
	switch x := m[k].(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func objs(m map[string]any, k string) []map[string]any {
	var out []map[string]any
	switch x := m[k].(type) {
	case map[string]any:
		out = append(out, x)
	case []any:
		for _, e := range x {
			if o, ok := e.(map[string]any); ok {
				out = append(out, o)
			}
		}
	}
	return out
}

// tokenItems: a Coding is its system and code; a CodeableConcept its
// codings and its text; an Identifier its system and value; a ContactPoint
// its value; a code, string, id, uri or boolean itself, with no system.
func tokenItems(fhirType string, v any) []Item {
	switch x := v.(type) {
	case string:
		if x != "" {
			return []Item{{FHIRType: fhirType, Code: x}}
		}
	case bool:
		return []Item{{FHIRType: fhirType, Code: strconv.FormatBool(x)}}
	case map[string]any:
		switch fhirType {
		case "Coding":
			return []Item{{FHIRType: fhirType, System: str(x, "system"), Code: str(x, "code"), Text: str(x, "display")}}
		case "CodeableConcept":
			var out []Item
			for _, c := range objs(x, "coding") {
				out = append(out, Item{FHIRType: "Coding", System: str(c, "system"), Code: str(c, "code"), Text: str(c, "display")})
			}
			if t := str(x, "text"); t != "" {
				out = append(out, Item{FHIRType: fhirType, Text: t})
			}
			return out
		case "Identifier":
			if str(x, "system") != "" || str(x, "value") != "" {
				return []Item{{FHIRType: fhirType, System: str(x, "system"), Code: str(x, "value")}}
			}
		case "ContactPoint":
			if val := str(x, "value"); val != "" {
				return []Item{{FHIRType: fhirType, Code: val}}
			}
		}
	}
	return nil
}

// stringItems: a string itself; a HumanName its family, given, prefix,
// suffix and text; an Address its line, city, district, state, postal
// code, country and text.
func stringItems(fhirType string, v any) []Item {
	var parts []string
	switch x := v.(type) {
	case string:
		parts = []string{x}
	case map[string]any:
		switch fhirType {
		case "HumanName":
			for _, k := range []string{"family", "given", "prefix", "suffix", "text"} {
				parts = append(parts, strs(x, k)...)
			}
		case "Address":
			for _, k := range []string{"line", "city", "district", "state", "postalCode", "country", "text"} {
				parts = append(parts, strs(x, k)...)
			}
		}
	}
	var out []Item
	for _, p := range parts {
		if p != "" {
			out = append(out, Item{FHIRType: fhirType, Str: p})
		}
	}
	return out
}

// dateItems: a date, dateTime or instant covers its precision; a Period
// runs from the start of its start to the end of its end, open where one
// is missing; a Timing is its events.
func dateItems(fhirType string, v any) []Item {
	switch x := v.(type) {
	case string:
		if lo, hi, err := parseDate(x); err == nil {
			return []Item{{FHIRType: fhirType, Lo: lo, Hi: hi}}
		}
	case map[string]any:
		switch fhirType {
		case "Period":
			start, end := str(x, "start"), str(x, "end")
			if start == "" && end == "" {
				return nil
			}
			it := Item{FHIRType: fhirType, Lo: openLow, Hi: openHigh}
			if start != "" {
				lo, _, err := parseDate(start)
				if err != nil {
					return nil
				}
				it.Lo = lo
			}
			if end != "" {
				_, hi, err := parseDate(end)
				if err != nil {
					return nil
				}
				it.Hi = hi
			}
			return []Item{it}
		case "Timing":
			var out []Item
			for _, e := range strs(x, "event") {
				if lo, hi, err := parseDate(e); err == nil {
					out = append(out, Item{FHIRType: fhirType, Lo: lo, Hi: hi})
				}
			}
			return out
		}
	}
	return nil
}

func numberItems(fhirType string, v any) []Item {
	if n, ok := ratOf(v); ok {
		return []Item{{FHIRType: fhirType, Num: n}}
	}
	return nil
}

// quantityItems: a Quantity (or Age, Duration, ...) its value and unit.
func quantityItems(fhirType string, v any) []Item {
	x, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	n, ok := ratOf(x["value"])
	if !ok {
		return nil
	}
	return []Item{{FHIRType: fhirType, Num: n, UnitSystem: str(x, "system"), UnitCode: str(x, "code"), Unit: str(x, "unit")}}
}

// referenceItems: a Reference its literal reference as type and id (a
// reference to a contained resource, "#id", has neither but is a value
// for :missing); a canonical or uri its url.
func referenceItems(fhirType string, v any) []Item {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		it := Item{FHIRType: fhirType, URL: x}
		if fhirType == "canonical" {
			it.URL, it.RefVersion, _ = strings.Cut(x, "|")
		}
		it.RefType, it.RefID, _ = splitRef(it.URL)
		return []Item{it}
	case map[string]any:
		ref := str(x, "reference")
		if ref == "" { // only an identifier or a display: nothing to search by
			return nil
		}
		it := Item{FHIRType: fhirType, URL: ref} // "#id" of a contained resource is a value too
		it.RefType, it.RefID, _ = splitRef(ref)
		return []Item{it}
	}
	return nil
}

// splitRef reads "Type/id", "Type/id/_history/n" or an absolute url ending
// in either.
func splitRef(ref string) (typ, id string, ok bool) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return "", "", false
	}
	typ, id = parts[len(parts)-2], parts[len(parts)-1]
	if typ == "" || id == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return "", "", false
	}
	return typ, id, true
}

// ratOf reads a JSON number exactly.
func ratOf(v any) (*big.Rat, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		s = strconv.FormatInt(x, 10)
	case int:
		s = strconv.Itoa(x)
	default:
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}
