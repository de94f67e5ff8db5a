package search

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Extractor turns element values into index rows. Its settings must be
// those queries are parsed with (Options): Loc is the zone of dates and
// times written without one (UTC when nil); BaseURL is this server's base,
// so an absolute reference to it is indexed as local.
type Extractor struct {
	Loc     *time.Location
	BaseURL string
}

// Extract returns the index rows of one element value found by p's
// expression, with the zero Extractor (dates without a zone in UTC).
func Extract(p *Param, fhirType string, value any) []Row {
	return Extractor{}.Extract(p, fhirType, value)
}

// Extract returns the index rows for one value that p's expression found
// on a resource. fhirType is the value's FHIR type as the FHIRPath engine
// reports it ("HumanName", "CodeableConcept", "dateTime", "Reference"...);
// value is its JSON form as decoded by package fhir (map[string]any,
// []any, json.Number, string, bool). A value the parameter type cannot
// index (a Period for a token) gives no rows. Composite parameters are
// built with ExtractComposite.
func (x Extractor) Extract(p *Param, fhirType string, value any) []Row {
	if value == nil {
		return nil
	}
	switch p.Type {
	case String:
		return extractString(fhirType, value)
	case Token:
		return extractToken(fhirType, value)
	case Date:
		return x.extractDate(fhirType, value)
	case Number:
		return extractNumber(fhirType, value)
	case Quantity:
		return extractQuantity(fhirType, value)
	case Reference:
		return x.extractReference(fhirType, value)
	case URI:
		if s, ok := value.(string); ok && s != "" {
			return []Row{URIRow{URI: s}}
		}
	case Special:
		if IsNear(p) {
			return extractPosition(value)
		}
	}
	return nil
}

// ExtractComposite builds the rows of a composite parameter from the rows
// of its components, each found by the component's expression on the same
// element (parts[i] for p.Components[i]): one row per combination.
func ExtractComposite(p *Param, parts [][]Row) []Row {
	if len(parts) != len(p.Components) || len(parts) == 0 {
		return nil
	}
	combos := [][]Row{nil}
	for _, rows := range parts {
		var next [][]Row
		for _, c := range combos {
			for _, r := range rows {
				next = append(next, append(append([]Row(nil), c...), r))
			}
		}
		combos = next
	}
	out := make([]Row, len(combos))
	for i, c := range combos {
		out[i] = CompositeRow{Parts: c}
	}
	return out
}

// field returns m[key] as a string.
func field(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// list returns m[key] as strings, whether it is one string or an array.
func list(m map[string]any, key string) []string {
	switch v := m[key].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// objects returns m[key] as objects, whether it is one object or an array.
func objects(m map[string]any, key string) []map[string]any {
	switch v := m[key].(type) {
	case map[string]any:
		return []map[string]any{v}
	case []any:
		var out []map[string]any
		for _, x := range v {
			if o, ok := x.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}
	return nil
}

// stringParts lists, for the complex types string search indexes, the
// parts it looks at (https://hl7.org/fhir/R4/search.html#string).
var stringParts = map[string][]string{
	"HumanName": {"family", "given", "prefix", "suffix", "text"},
	"Address":   {"line", "city", "district", "state", "postalCode", "country", "text"},
}

func extractString(fhirType string, value any) []Row {
	var out []Row
	add := func(s string) {
		if s != "" {
			out = append(out, StringRow{Norm: Normalize(s), Exact: s})
		}
	}
	switch v := value.(type) {
	case string:
		add(v)
	case map[string]any:
		for _, k := range stringParts[fhirType] {
			for _, s := range list(v, k) {
				add(s)
			}
		}
	}
	return out
}

func extractToken(fhirType string, value any) []Row {
	switch v := value.(type) {
	case string:
		if v == "" {
			return nil
		}
		return []Row{TokenRow{Code: v}}
	case bool:
		return []Row{TokenRow{Code: strconv.FormatBool(v)}}
	case map[string]any:
		switch fhirType {
		case "Coding":
			return []Row{codingRow(v)}
		case "CodeableConcept":
			var out []Row
			for _, c := range objects(v, "coding") {
				out = append(out, codingRow(c))
			}
			if t := field(v, "text"); t != "" {
				out = append(out, TokenRow{Text: Normalize(t)})
			}
			return out
		case "Identifier":
			return identifierRows(v)
		case "ContactPoint":
			if val := field(v, "value"); val != "" {
				return []Row{TokenRow{Code: val, TypeCode: field(v, "system")}}
			}
		}
	}
	return nil
}

func codingRow(c map[string]any) TokenRow {
	return TokenRow{System: field(c, "system"), Code: field(c, "code"), Text: Normalize(field(c, "display"))}
}

// identifierRows gives one row per Identifier.type coding (for :of-type),
// or one row when the identifier has no type.
func identifierRows(id map[string]any) []Row {
	base := TokenRow{System: field(id, "system"), Code: field(id, "value")}
	typ, _ := id["type"].(map[string]any)
	if typ != nil {
		base.Text = Normalize(field(typ, "text"))
	}
	codings := objects(typ, "coding")
	if len(codings) == 0 {
		if base.Code == "" && base.System == "" {
			return nil
		}
		return []Row{base}
	}
	var out []Row
	for _, c := range codings {
		r := base
		r.TypeSystem, r.TypeCode = field(c, "system"), field(c, "code")
		if r.Text == "" {
			r.Text = Normalize(field(c, "display"))
		}
		out = append(out, r)
	}
	return out
}

func (x Extractor) extractDate(fhirType string, value any) []Row {
	switch v := value.(type) {
	case string:
		if r, err := ParseDate(v, x.Loc); err == nil {
			return []Row{DateRow{r}}
		}
	case map[string]any:
		switch fhirType {
		case "Period":
			if r, ok := x.period(v); ok {
				return []Row{DateRow{r}}
			}
		case "Timing":
			var out []Row
			for _, e := range list(v, "event") {
				if r, err := ParseDate(e, x.Loc); err == nil {
					out = append(out, DateRow{r})
				}
			}
			if rep, _ := v["repeat"].(map[string]any); rep != nil {
				if b, _ := rep["boundsPeriod"].(map[string]any); b != nil {
					if r, ok := x.period(b); ok {
						out = append(out, DateRow{r})
					}
				}
			}
			return out
		}
	}
	return nil
}

// period reads a Period: from the start of its start to the end of its
// end; a missing start is open (−∞), a missing end is ongoing (+∞).
func (x Extractor) period(p map[string]any) (DateRange, bool) {
	r := DateRange{OpenLow, OpenHigh}
	start, end := field(p, "start"), field(p, "end")
	if start == "" && end == "" {
		return r, false
	}
	if start != "" {
		s, err := ParseDate(start, x.Loc)
		if err != nil {
			return r, false
		}
		r.Lo = s.Lo
	}
	if end != "" {
		e, err := ParseDate(end, x.Loc)
		if err != nil {
			return r, false
		}
		r.Hi = e.Hi
	}
	return r, true
}

// decimal reads a JSON number (json.Number, float64, int) or a decimal string.
func decimal(v any) (*big.Rat, bool) {
	switch v := v.(type) {
	case json.Number:
		return parseDecimal(string(v))
	case string:
		return parseDecimal(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
		return parseDecimal(strconv.FormatFloat(v, 'g', -1, 64)) // shortest form, not the binary value
	case int:
		return big.NewRat(int64(v), 1), true
	case int64:
		return big.NewRat(v, 1), true
	}
	return nil, false
}

func extractNumber(fhirType string, value any) []Row {
	if m, ok := value.(map[string]any); ok {
		if fhirType == "Range" {
			lo, _ := decimal(objectField(m, "low", "value"))
			hi, _ := decimal(objectField(m, "high", "value"))
			if lo != nil || hi != nil {
				return []Row{NumberRow{Lo: lo, Hi: hi}}
			}
			return nil
		}
		value = m["value"] // a Quantity used by a number parameter
	}
	if d, ok := decimal(value); ok {
		return []Row{NumberRow{Lo: d, Hi: d}}
	}
	return nil
}

func objectField(m map[string]any, obj, key string) any {
	o, _ := m[obj].(map[string]any)
	return o[key]
}

// UCUMSystem is the code system of UCUM units.
const UCUMSystem = "http://unitsofmeasure.org"

func extractQuantity(fhirType string, value any) []Row {
	m, ok := value.(map[string]any)
	if !ok {
		return nil
	}
	if fhirType == "Range" {
		low, _ := m["low"].(map[string]any)
		high, _ := m["high"].(map[string]any)
		lr, lok := quantityRow(low)
		hr, hok := quantityRow(high)
		switch {
		case lok && hok:
			lr.Hi, lr.CanonHi = hr.Hi, hr.CanonHi
			if lr.CanonUnit != hr.CanonUnit {
				lr.CanonLo, lr.CanonHi, lr.CanonUnit = nil, nil, ""
			}
			return []Row{lr}
		case lok:
			lr.Hi, lr.CanonHi = nil, nil
			return []Row{lr}
		case hok:
			hr.Lo, hr.CanonLo = nil, nil
			return []Row{hr}
		}
		return nil
	}
	if fhirType == "Money" {
		v, ok := decimal(m["value"])
		if !ok {
			return nil
		}
		return []Row{QuantityRow{Lo: v, Hi: v, System: "urn:iso:std:iso:4217", Code: field(m, "currency")}}
	}
	if r, ok := quantityRow(m); ok {
		return []Row{r}
	}
	return nil
}

// quantityRow reads a Quantity (or Age, Duration, ...) with a value.
func quantityRow(m map[string]any) (QuantityRow, bool) {
	v, ok := decimal(m["value"])
	if !ok {
		return QuantityRow{}, false
	}
	r := QuantityRow{Lo: v, Hi: v, System: field(m, "system"), Code: field(m, "code"), Unit: field(m, "unit")}
	if r.System == UCUMSystem || r.System == "" && r.Code != "" {
		if f, unit, ok := CanonicalUnit(r.Code); ok {
			c := new(big.Rat).Mul(v, f)
			r.CanonLo, r.CanonHi, r.CanonUnit = c, c, unit
		}
	}
	return r, true
}

func (x Extractor) extractReference(fhirType string, value any) []Row {
	switch v := value.(type) {
	case string: // canonical or uri
		if v == "" {
			return nil
		}
		if fhirType == "canonical" {
			return []Row{canonicalRow(v)}
		}
		return []Row{x.local(referenceOf(v))}
	case map[string]any:
		ref := field(v, "reference")
		var r ReferenceRow
		if ref != "" {
			r = x.local(referenceOf(ref))
		}
		if id, _ := v["identifier"].(map[string]any); id != nil {
			r.IdentifierSystem, r.IdentifierValue = field(id, "system"), field(id, "value")
		}
		if r == (ReferenceRow{}) {
			return nil
		}
		return []Row{r}
	}
	return nil
}

// local drops the base of an absolute reference to this server.
func (x Extractor) local(r ReferenceRow) ReferenceRow {
	if r.Base != "" && x.BaseURL != "" && strings.TrimRight(r.Base, "/") == strings.TrimRight(x.BaseURL, "/") {
		r.Base, r.URL = "", ""
	}
	return r
}
