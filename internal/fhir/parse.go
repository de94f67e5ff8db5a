package fhir

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting so that hostile input cannot exhaust the stack;
// real resources stay far below it.
const maxDepth = 256

// ParseError reports malformed FHIR JSON with the byte offset where it was
// found and the JSON path of the value being read ("name[0].family").
type ParseError struct {
	Offset int    // byte offset in the input
	Path   string // JSON path of the enclosing value, "" at top level
	Msg    string
}

// Error formats the error with its offset and path.
func (e *ParseError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("fhir: invalid JSON at offset %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("fhir: invalid JSON at offset %d (%s): %s", e.Offset, e.Path, e.Msg)
}

// within prefixes the path of an error bubbling out of a nested value.
func (e *ParseError) within(seg string) *ParseError {
	switch {
	case e.Path == "":
		e.Path = seg
	case e.Path[0] == '[':
		e.Path = seg + e.Path
	default:
		e.Path = seg + "." + e.Path
	}
	return e
}

// Parse decodes FHIR JSON (https://hl7.org/fhir/R4/json.html) into its
// generic form: objects are map[string]any, arrays []any, numbers
// json.Number holding the text as written (so 1.50 stays 1.50), then string,
// bool and nil. Unlike encoding/json it rejects duplicate keys, and it
// rejects trailing data, invalid UTF-8 and a top level that is not an object.
func Parse(data []byte) (map[string]any, error) {
	p := parser{data: data}
	p.skipSpace()
	if p.pos >= len(data) || data[p.pos] != '{' {
		return nil, p.fail("top level must be a JSON object")
	}
	obj, err := p.object()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(data) {
		return nil, p.fail("unexpected data after the top-level object")
	}
	return obj, nil
}

type parser struct {
	data  []byte
	pos   int
	depth int
}

func (p *parser) fail(msg string) *ParseError { return &ParseError{Offset: p.pos, Msg: msg} }

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() (any, *ParseError) {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str(false)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	default:
		return nil, p.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

func (p *parser) literal(word string) *ParseError {
	if !strings.HasPrefix(string(p.data[p.pos:min(len(p.data), p.pos+len(word))]), word) {
		return p.fail("invalid literal, expected " + word)
	}
	p.pos += len(word)
	return nil
}

func (p *parser) object() (map[string]any, *ParseError) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.fail("nesting too deep")
	}
	defer func() { p.depth-- }()
	p.pos++ // '{'
	obj := make(map[string]any, 8)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return obj, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("expected a string key")
		}
		keyAt := p.pos
		key, err := p.str(true)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.fail("expected ':' after key")
		}
		p.pos++
		val, err := p.value()
		if err != nil {
			return nil, err.within(key)
		}
		n := len(obj)
		obj[key] = val
		if len(obj) == n {
			return nil, &ParseError{Offset: keyAt, Path: key, Msg: "duplicate key " + strconv.Quote(key)}
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return obj, nil
		default:
			return nil, p.fail("expected ',' or '}' in object")
		}
	}
}

func (p *parser) array() ([]any, *ParseError) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.fail("nesting too deep")
	}
	defer func() { p.depth-- }()
	p.pos++ // '['
	arr := make([]any, 0, 2)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return arr, nil
	}
	for {
		val, err := p.value()
		if err != nil {
			return nil, err.within("[" + strconv.Itoa(len(arr)) + "]")
		}
		arr = append(arr, val)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return arr, nil
		default:
			return nil, p.fail("expected ',' or ']' in array")
		}
	}
}

func (p *parser) number() (json.Number, *ParseError) {
	start := p.pos
	d := p.data
	i := p.pos
	if d[i] == '-' {
		i++
	}
	digits := func() bool {
		s := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > s
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		p.pos = i
		return "", p.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			p.pos = i
			return "", p.fail("invalid number: digits expected after '.'")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			p.pos = i
			return "", p.fail("invalid number: digits expected in exponent")
		}
	}
	p.pos = i
	return json.Number(d[start:i]), nil
}

// str reads a string; keys are interned against the element names of the
// model so that parsing a resource allocates no key strings.
func (p *parser) str(isKey bool) (string, *ParseError) {
	p.pos++ // opening quote
	start := p.pos
	d := p.data
	for i := start; i < len(d); {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			if isKey {
				if k, ok := internedKeys()[string(d[start:i])]; ok {
					return k, nil
				}
			}
			return string(d[start:i]), nil
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			p.pos = i
			return "", p.fail("control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				p.pos = i
				return "", p.fail("invalid UTF-8 in string")
			}
			i += size
		}
	}
	p.pos = len(d)
	return "", p.fail("unterminated string")
}

// escaped is the slow path of str for strings holding escapes.
func (p *parser) escaped(start int) (string, *ParseError) {
	d := p.data
	var b strings.Builder
	i := start
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return b.String(), nil
		case c < 0x20:
			p.pos = i
			return "", p.fail("control character in string")
		case c == '\\':
			if i+1 >= len(d) {
				p.pos = i
				return "", p.fail("unterminated escape")
			}
			if r, n := escapeRune(d[i+1:]); n > 0 {
				b.WriteRune(r)
				i += 1 + n
				continue
			}
			p.pos = i
			return "", p.fail("invalid escape in string")
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				p.pos = i
				return "", p.fail("invalid UTF-8 in string")
			}
			b.Write(d[i : i+size])
			i += size
		}
	}
	p.pos = len(d)
	return "", p.fail("unterminated string")
}

// escapeRune decodes the escape after a backslash, returning the rune and
// the number of bytes consumed (0 if invalid). Lone surrogates become U+FFFD,
// as in encoding/json.
func escapeRune(d []byte) (rune, int) {
	switch d[0] {
	case '"', '\\', '/':
		return rune(d[0]), 1
	case 'b':
		return '\b', 1
	case 'f':
		return '\f', 1
	case 'n':
		return '\n', 1
	case 'r':
		return '\r', 1
	case 't':
		return '\t', 1
	case 'u':
		r := hex4(d[1:])
		if r < 0 {
			return 0, 0
		}
		if utf16.IsSurrogate(r) {
			if len(d) >= 11 && d[5] == '\\' && d[6] == 'u' {
				if r2 := hex4(d[7:]); r2 >= 0 {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						return dec, 11
					}
				}
			}
			return utf8.RuneError, 5
		}
		return r, 5
	}
	return 0, 0
}

func hex4(d []byte) rune {
	if len(d) < 4 {
		return -1
	}
	var r rune
	for _, c := range d[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return -1
		}
	}
	return r
}

// internedKeys returns every JSON key the model knows, each once.
func internedKeys() map[string]string { return index().keys }
