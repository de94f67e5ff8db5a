package hl7v2

import (
	"bytes"
	"strings"
)

// Delimiters are the message's separators, declared by MSH-1 and MSH-2.
type Delimiters struct {
	Field, Component, Repetition, Escape, Subcomponent byte
}

// DefaultDelimiters are the ones nearly every sender uses: |^~\&.
var DefaultDelimiters = Delimiters{'|', '^', '~', '\\', '&'}

// encoding is MSH-2 for these delimiters.
func (d Delimiters) encoding() string {
	return string([]byte{d.Component, d.Repetition, d.Escape, d.Subcomponent})
}

// Message is a parsed ER7 message: its delimiters and segments in order.
// Field values stay raw (escaped) until read through Segment's accessors.
type Message struct {
	Delims   Delimiters
	Segments []*Segment
}

// Segment is one segment. fields[0] is the segment ID; for MSH, fields[1]
// is the field separator itself and fields[2] the encoding characters, so
// that fields[n] is always MSH-n.
type Segment struct {
	Name   string
	Loc    Location // Segment, Line and Occurrence
	fields []string
	delims *Delimiters
}

// Parse parses an ER7 (pipe-and-hat) message. Segments may end with CR (the
// standard), LF or CRLF; a UTF-8 byte-order mark and blank lines are
// ignored. Escape sequences are checked here so that reading a value
// later cannot fail. Errors are *Error values with the segment and field.
func Parse(data []byte) (*Message, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lines := splitSegments(string(data))
	if len(lines) == 0 {
		return nil, rejectAt(Location{}, CodeSegmentSequence, "empty message: no MSH segment")
	}
	d, err := readDelimiters(lines[0])
	if err != nil {
		return nil, err
	}
	m := &Message{Delims: d}
	seen := map[string]int{}
	for i, line := range lines {
		name, _, _ := strings.Cut(line, string(d.Field))
		seen[name]++
		seg, err := parseSegment(line, Location{Segment: name, Line: i + 1, Occurrence: seen[name]}, &m.Delims)
		if err != nil {
			return nil, err
		}
		m.Segments = append(m.Segments, seg)
	}
	return m, nil
}

func splitSegments(s string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return out
}

// readDelimiters reads MSH-1 and MSH-2 from the first segment.
func readDelimiters(first string) (Delimiters, error) {
	loc := Location{Segment: "MSH", Line: 1, Occurrence: 1}
	if !strings.HasPrefix(first, "MSH") {
		return Delimiters{}, rejectAt(Location{Line: 1}, CodeSegmentSequence, "message does not start with MSH")
	}
	if len(first) < 8 {
		loc.Field = 2
		return Delimiters{}, rejectAt(loc, CodeRequiredMissing, "MSH too short to declare the separators")
	}
	d := Delimiters{Field: first[3], Component: first[4], Repetition: first[5], Escape: first[6], Subcomponent: first[7]}
	chars := []byte{d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent}
	for i, c := range chars {
		if c <= ' ' || c >= 0x7f || isAlnum(c) || bytes.IndexByte(chars[:i], c) >= 0 {
			loc.Field = 1
			if i > 0 {
				loc.Field = 2
			}
			return Delimiters{}, rejectAt(loc, CodeDataType, "separator %q is not a distinct punctuation character", c)
		}
	}
	return d, nil
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func parseSegment(line string, loc Location, d *Delimiters) (*Segment, error) {
	fields := strings.Split(line, string(d.Field))
	name, n := fields[0], loc.Line
	if len(name) != 3 || !isUpperAlnum(name) {
		return nil, rejectAt(Location{Line: n}, CodeSegmentSequence, "segment ID %q is not three upper-case letters or digits", truncate(name, 20))
	}
	if name == "MSH" {
		if n != 1 {
			return nil, rejectAt(loc, CodeSegmentSequence, "a second MSH: batches are not accepted, send one message at a time")
		}
		// MSH-1 is the separator itself, so field n of MSH is fields[n-1]
		// of the split; shift by one to index fields by number.
		fields = append([]string{name, string(d.Field)}, fields[1:]...)
		if enc := fields[2]; len(enc) < 4 || enc[:4] != d.encoding() || len(enc) > 5 {
			loc.Field = 2
			return nil, rejectAt(loc, CodeDataType, "MSH-2 %q is not the four encoding characters (a fifth, truncation, is allowed)", truncate(enc, 20))
		}
	}
	seg := &Segment{Name: name, Loc: loc, fields: fields, delims: d}
	first := 1
	if name == "MSH" {
		first = 3
	}
	for i := first; i < len(fields); i++ {
		if err := checkEscapes(fields[i], d); err != nil {
			l := loc
			l.Field = i
			return nil, errAt(l, CodeDataType, "%s", err)
		}
	}
	return seg, nil
}

func isUpperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Len is the number of fields after the segment ID.
func (s *Segment) Len() int { return len(s.fields) - 1 }

// Raw returns field n as it was sent, escapes and separators included;
// "" when absent.
func (s *Segment) Raw(n int) string {
	if n <= 0 || n >= len(s.fields) {
		return ""
	}
	return s.fields[n]
}

// Repetitions returns the raw repetitions of field n (none when empty).
func (s *Segment) Repetitions(n int) []string {
	raw := s.Raw(n)
	if raw == "" {
		return nil
	}
	if s.Name == "MSH" && n <= 2 {
		return []string{raw}
	}
	return strings.Split(raw, string(s.delims.Repetition))
}

// Field returns the first repetition of field n, component by component.
func (s *Segment) Field(n int) Value {
	reps := s.Repetitions(n)
	if len(reps) == 0 {
		return Value{d: s.delims}
	}
	return Value{raw: reps[0], d: s.delims, literal: s.Name == "MSH" && n <= 2}
}

// Values returns every repetition of field n.
func (s *Segment) Values(n int) []Value {
	var out []Value
	for _, r := range s.Repetitions(n) {
		out = append(out, Value{raw: r, d: s.delims, literal: s.Name == "MSH" && n <= 2})
	}
	return out
}

// Get returns the text of component c (1-based) of field n's first
// repetition, unescaped.
func (s *Segment) Get(n, c int) string { return s.Field(n).Component(c) }

// At locates field n of the segment, for errors.
func (s *Segment) At(n int) Location {
	l := s.Loc
	l.Field = n
	return l
}

// Value is one repetition of a field, read through its components.
type Value struct {
	raw     string
	d       *Delimiters
	literal bool // MSH-1 and MSH-2 are never split or unescaped
}

// IsEmpty reports whether the value holds nothing.
func (v Value) IsEmpty() bool { return v.raw == "" }

// String is the whole value unescaped (components keep their separators).
func (v Value) String() string {
	if v.literal {
		return v.raw
	}
	return unescape(v.raw, v.d)
}

// Component returns component c (1-based), its subcomponents joined by the
// subcomponent separator, unescaped. Component 1 of a value without
// components is the value.
func (v Value) Component(c int) string {
	return v.Sub(c, 0)
}

// Sub returns subcomponent sc (1-based) of component c, unescaped; sc 0 is
// the whole component.
func (v Value) Sub(c, sc int) string {
	if v.literal {
		if c == 1 && sc <= 1 {
			return v.raw
		}
		return ""
	}
	comp := nth(v.raw, v.d.Component, c)
	if sc > 0 {
		comp = nth(comp, v.d.Subcomponent, sc)
	}
	return unescape(comp, v.d)
}

// nth returns the n-th (1-based) part of s split at sep, "" when absent.
func nth(s string, sep byte, n int) string {
	for i := 1; i < n; i++ {
		j := strings.IndexByte(s, sep)
		if j < 0 {
			return ""
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, sep); j >= 0 {
		return s[:j]
	}
	return s
}
