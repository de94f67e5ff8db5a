package web

import (
	"fmt"
	"strconv"
	"strings"
)

// Resource is a FHIR resource or data type as parsed JSON.
type Resource = map[string]any

// Get follows a path of object keys and array indexes through a parsed
// FHIR value ("code", "coding", 0, "display") and returns what is there,
// or nil.
func Get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k < 0 || k >= len(a) {
				return nil
			}
			v = a[k]
		default:
			return nil
		}
	}
	return v
}

// Str is Get as a string: strings as they are, numbers and booleans
// written out, anything else "".
func Str(v any, path ...any) string {
	switch x := Get(v, path...).(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case fmt.Stringer:
		return x.String()
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// List is Get as an array (nil if it is not one).
func List(v any, path ...any) []any {
	a, _ := Get(v, path...).([]any)
	return a
}

// languageExtension marks the language of a HumanName (how the registry
// keeps a citizen's English and Chinese names apart).
const languageExtension = "http://hl7.org/fhir/StructureDefinition/language"

// FormatName writes a person's name for l from a FHIR name array: the
// Chinese name in Chinese ("陳大文"), else the English one in the Hong Kong
// order ("CHAN Tai Man"); text wins where given.
func FormatName(l Lang, names []any) string {
	var en, zh map[string]any
	for _, n := range names {
		m, _ := n.(map[string]any)
		if m == nil || Str(m, "use") == "old" {
			continue
		}
		if isChineseName(m) {
			if zh == nil {
				zh = m
			}
		} else if en == nil {
			en = m
		}
	}
	pick, other := en, zh
	if l == Chinese {
		pick, other = zh, en
	}
	if pick == nil {
		pick = other
	}
	if pick == nil {
		return ""
	}
	if t := Str(pick, "text"); t != "" {
		return t
	}
	family := Str(pick, "family")
	var given []string
	for _, g := range List(pick, "given") {
		if s, ok := g.(string); ok {
			given = append(given, s)
		}
	}
	if isChineseName(pick) {
		return family + strings.Join(given, "")
	}
	return strings.TrimSpace(strings.ToUpper(family) + " " + strings.Join(given, " "))
}

func isChineseName(m map[string]any) bool {
	for _, e := range List(m, "extension") {
		if Str(e, "url") == languageExtension {
			code := Str(e, "valueCode")
			return code == "zh" || strings.HasPrefix(code, "zh-")
		}
	}
	for _, r := range Str(m, "family") + Str(m, "text") {
		if r >= 0x4E00 && r <= 0x9FFF {
			return true
		}
	}
	return false
}

// Display is the best words for a CodeableConcept (text, else the first
// coding's display, else its code).
func Display(cc any) string {
	if t := Str(cc, "text"); t != "" {
		return t
	}
	for _, c := range List(cc, "coding") {
		if d := Str(c, "display"); d != "" {
			return d
		}
	}
	return Str(cc, "coding", 0, "code")
}

// ValueText is an observation's value in words ("7.1 mmol/L", "128/82
// mmHg"): a quantity, a string, a coded value, or its components'
// quantities joined by "/".
func ValueText(r Resource) string {
	if q := Get(r, "valueQuantity"); q != nil {
		return strings.TrimSpace(Str(q, "value") + " " + Str(q, "unit"))
	}
	if s := Str(r, "valueString"); s != "" {
		return s
	}
	if cc := Get(r, "valueCodeableConcept"); cc != nil {
		return Display(cc)
	}
	var parts []string
	unit := ""
	for _, comp := range List(r, "component") {
		if v := Str(comp, "valueQuantity", "value"); v != "" {
			parts = append(parts, v)
			unit = Str(comp, "valueQuantity", "unit")
		}
	}
	if len(parts) > 0 {
		return strings.TrimSpace(strings.Join(parts, "/") + " " + unit)
	}
	return ""
}
