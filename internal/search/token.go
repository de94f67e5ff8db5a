package search

import "strings"

// TokenValue is a token search value
// (https://hl7.org/fhir/R4/search.html#token): "code", "system|code",
// "|code" (no system), "system|" (any code of the system). For :of-type it
// is "system|code|value" with the type in TypeSystem/TypeCode; for :text
// it is the text in Text.
type TokenValue struct {
	System, Code string
	HasSystem    bool // a '|' was written: System is meant, even empty
	// TypeSystem and TypeCode are the identifier type of :of-type.
	TypeSystem, TypeCode string
	Text                 string // for :text, as written
	// Expanded holds, for :in, :not-in, :above and :below, the codes the
	// terminology service resolved the value to. Parse leaves it empty; the
	// caller fills it before the query runs (the value is a ValueSet url
	// for :in/:not-in, a code for :above/:below).
	Expanded []Coding
}

// Coding is a system and a code.
type Coding struct {
	System, Code string
}

// parseTokenValue reads "system|code" forms; escapes are already removed
// from the parts.
func parseTokenValue(s string) TokenValue {
	parts := splitEscaped(s, '|')
	if len(parts) == 1 {
		return TokenValue{Code: unescape(parts[0])}
	}
	return TokenValue{System: unescape(parts[0]), Code: unescape(strings.Join(parts[1:], "|")), HasSystem: true}
}

// parseOfType reads the "system|code|value" of :of-type.
func parseOfType(s string) (TokenValue, bool) {
	parts := splitEscaped(s, '|')
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return TokenValue{}, false
	}
	return TokenValue{TypeSystem: unescape(parts[0]), TypeCode: unescape(parts[1]), Code: unescape(parts[2])}, true
}

// MatchToken reports whether one token row matches the value under the
// modifier; for :not and :not-in the caller negates over all rows.
func MatchToken(mod Modifier, v TokenValue, r TokenRow) bool {
	switch mod {
	case ModText:
		return r.Text != "" && strings.HasPrefix(r.Text, Normalize(v.Text))
	case ModOfType:
		return r.TypeSystem == v.TypeSystem && r.TypeCode == v.TypeCode && r.Code == v.Code
	case ModIn, ModNotIn, ModAbove, ModBelow:
		for _, c := range v.Expanded {
			if r.Code == c.Code && (c.System == "" || r.System == c.System) {
				return true
			}
		}
		return false
	}
	switch {
	case !v.HasSystem:
		return r.Code == v.Code
	case v.Code == "":
		return r.System == v.System
	default:
		return r.System == v.System && r.Code == v.Code
	}
}

// splitEscaped splits s at sep, skipping separators escaped with '\'
// (https://hl7.org/fhir/R4/search.html#escaping). The parts keep their
// escapes; unescape removes them.
func splitEscaped(s string, sep byte) []string {
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

// unescape removes the backslashes of \, \$ \| and \\.
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

// MatchURI reports whether a uri row matches: exactly by default; for
// :below the row is the value or under it (url:below=http://acme.org/fhir
// finds http://acme.org/fhir/ValueSet/1); for :above the row is the value
// or one of its ancestors.
func MatchURI(mod Modifier, v string, r URIRow) bool {
	if mod == ModAbove || mod == ModBelow {
		return uriHierarchy(mod, v, r.URI)
	}
	return r.URI == v
}

func uriHierarchy(mod Modifier, v, target string) bool {
	if target == "" || v == "" {
		return false
	}
	parent, child := v, target
	if mod == ModAbove {
		parent, child = target, v
	}
	parent = strings.TrimRight(parent, "/")
	return child == parent || strings.HasPrefix(child, parent+"/") || strings.TrimRight(child, "/") == parent
}
