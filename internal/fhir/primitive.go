package fhir

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// primitiveCheck validates the value of one primitive type
// (https://hl7.org/fhir/R4/datatypes.html#primitive). The common types have
// hand-written matchers equivalent to the spec's regex (a test checks them
// against it); the rest use the regex itself, compiled on first use.
type primitiveCheck struct {
	def     PrimitiveDef
	json    jsonKind
	match   func(string) bool
	once    sync.Once
	re      *regexp.Regexp
	intBits bool // integer family: range-checked as a 32-bit signed integer
}

type jsonKind uint8

const (
	jsonString jsonKind = iota
	jsonNumber
	jsonBool
)

func newPrimitiveCheck(def PrimitiveDef) *primitiveCheck {
	p := &primitiveCheck{def: def}
	switch def.Name {
	case "boolean":
		p.json = jsonBool
	case "integer", "positiveInt", "unsignedInt":
		p.json, p.intBits = jsonNumber, true
	case "decimal":
		p.json, p.match = jsonNumber, isJSONNumber
	case "string", "markdown":
		p.match = isFHIRString
	case "uri", "url", "canonical":
		p.match = hasNoSpace
	case "code":
		p.match = isCode
	case "id":
		p.match = isID
	case "date", "dateTime", "instant":
		p.match = func(s string) bool { return p.regex(s) && validDay(s) }
	}
	return p
}

// regex matches s against the spec's regex, anchored at both ends.
func (p *primitiveCheck) regex(s string) bool {
	p.once.Do(func() { p.re = regexp.MustCompile(`^(?:` + p.def.Regex + `)$`) })
	return p.re.MatchString(s)
}

// valid reports whether the text of a value matches the type.
func (p *primitiveCheck) valid(s string) bool {
	switch {
	case p.intBits:
		if !p.regex(s) {
			return false
		}
		n, err := strconv.ParseInt(s, 10, 32)
		return err == nil && (p.def.Name == "integer" || n >= 0)
	case p.match != nil:
		return p.match(s)
	case p.def.Regex == "":
		return true
	default:
		return p.regex(s)
	}
}

// numberText returns the text of a JSON number value in generic or Go form.
func numberText(v any) (string, bool) {
	switch n := v.(type) {
	case json.Number:
		return string(n), true
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64), true
	case int:
		return strconv.Itoa(n), true
	case int64:
		return strconv.FormatInt(n, 10), true
	}
	return "", false
}

// isFHIRString implements the string regex [ \r\n\t\S]+ together with the
// datatypes.html rule that strings hold no control characters other than
// tab, CR and LF.
func isFHIRString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// hasNoSpace implements \S* (uri, url, canonical).
func hasNoSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return false
		}
	}
	return true
}

// isCode implements [^\s]+(\s[^\s]+)*: no leading, trailing or doubled whitespace.
func isCode(s string) bool {
	if s == "" || isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if isSpace(s[i]) && isSpace(s[i-1]) {
			return false
		}
	}
	return true
}

// isID implements [A-Za-z0-9\-\.]{1,64}.
func isID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validDay rejects calendar dates the regex lets through, such as 2023-02-30.
func validDay(s string) bool {
	if len(s) < 10 {
		return true
	}
	y, _ := strconv.Atoi(s[:4])
	m, _ := strconv.Atoi(s[5:7])
	d, _ := strconv.Atoi(s[8:10])
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// isReference checks the format of Reference.reference
// (https://hl7.org/fhir/R4/references.html#literal): a local "#id", a
// urn:uuid: or urn:oid:, an absolute URL, a relative "Type/id" optionally
// with "/_history/vid", or a conditional "Type?query" (transactions).
func isReference(ix *modelIndex, ref string) bool {
	switch {
	case strings.HasPrefix(ref, "#"):
		return ref == "#" || isID(ref[1:])
	case strings.HasPrefix(ref, "urn:uuid:"):
		return ix.primitives["uuid"].valid(ref)
	case strings.HasPrefix(ref, "urn:oid:"):
		return ix.primitives["oid"].valid(ref)
	case !hasNoSpace(ref):
		return false
	}
	if i := strings.Index(ref, "://"); i > 0 {
		return true
	}
	if typ, _, ok := strings.Cut(ref, "?"); ok {
		return IsResourceType(typ)
	}
	parts := strings.Split(ref, "/")
	switch len(parts) {
	case 2:
		return IsResourceType(parts[0]) && isID(parts[1])
	case 4:
		return IsResourceType(parts[0]) && isID(parts[1]) && parts[2] == "_history" && isID(parts[3])
	}
	return false
}
