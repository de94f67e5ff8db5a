package hl7v2

import (
	"errors"
	"strings"
	"testing"
)

func mustParse(t *testing.T, s string) *Message {
	t.Helper()
	m, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

func TestParseFieldsComponentsRepetitions(t *testing.T) {
	m := mustParse(t, "\xef\xbb\xbfMSH|^~\\&|LIS|QMH^2.16.1^ISO|||20261129||ORU^R01|C1|P|2.5.1\r\n"+
		"PID|1||A1^^^AUTH&1.2.3&ISO^MR~B2^^^X||CHAN^TAI MAN\n\nOBX|1|ST|X^Y^LN||a&b^c\r")
	if got := len(m.Segments); got != 3 {
		t.Fatalf("segments = %d, want 3 (CR, LF and CRLF all end segments; blank lines skipped)", got)
	}
	msh, pid, obx := m.Segments[0], m.Segments[1], m.Segments[2]
	tests := []struct{ name, got, want string }{
		{"MSH-1", msh.Get(1, 1), "|"},
		{"MSH-2 is literal", msh.Get(2, 1), "^~\\&"},
		{"MSH-3", msh.Get(3, 1), "LIS"},
		{"MSH-4.2", msh.Get(4, 2), "2.16.1"},
		{"MSH-9.2", msh.Get(9, 2), "R01"},
		{"MSH-10", msh.Get(10, 1), "C1"},
		{"PID-3 first repetition", pid.Get(3, 1), "A1"},
		{"PID-3.4.2 subcomponent", pid.Field(3).Sub(4, 2), "1.2.3"},
		{"PID-3 second repetition", pid.Values(3)[1].Component(1), "B2"},
		{"PID-5.2", pid.Get(5, 2), "TAI MAN"},
		{"absent field", pid.Get(30, 1), ""},
		{"absent component", pid.Get(5, 7), ""},
		{"OBX-5.1 keeps subcomponents", obx.Get(5, 1), "a&b"},
		{"OBX-5.1.2", obx.Field(5).Sub(1, 2), "b"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if obx.Loc.Line != 3 || pid.Loc.Occurrence != 1 {
		t.Errorf("locations: OBX line %d, PID occurrence %d", obx.Loc.Line, pid.Loc.Occurrence)
	}
}

func TestParseOtherDelimiters(t *testing.T) {
	m := mustParse(t, "MSH#*@!$#A#B\rOBX#1#ST#C*D#$T$x!F!y!E!#p@q")
	obx := m.Segments[1]
	if got := obx.Get(3, 2); got != "D" {
		t.Errorf("component with * = %q", got)
	}
	if got := obx.Get(4, 1); got != "$T$x#y!" {
		t.Errorf("escapes with ! as escape = %q, want %q", got, "$T$x#y!")
	}
	if got := obx.Values(5)[1].String(); got != "q" {
		t.Errorf("repetition with @ = %q", got)
	}
}

func TestEscapes(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`a\F\b`, "a|b"},
		{`a\S\b`, "a^b"},
		{`a\T\b`, "a&b"},
		{`a\R\b`, "a~b"},
		{`a\E\b`, `a\b`},
		{`\X41424344\`, "ABCD"},
		{`\XE9A699\`, "香"},
		{`line 1\.br\line 2`, "line 1\nline 2"},
		{`\H\bold\N\`, "bold"},
		{`E. coli O157:H7 \T\ other`, "E. coli O157:H7 & other"},
	}
	for _, tt := range tests {
		m := mustParse(t, "MSH|^~\\&|||||||ORU^R01|1|P|2.5\rNTE|1||"+tt.raw)
		if got := m.Segments[1].Get(3, 1); got != tt.want {
			t.Errorf("unescape %q = %q, want %q", tt.raw, got, tt.want)
		}
		if back := Escape(tt.want, DefaultDelimiters); !strings.Contains(tt.raw, `\X`) && !strings.Contains(tt.raw, `\H`) {
			if m2 := mustParse(t, "MSH|^~\\&|||||||ORU^R01|1|P|2.5\rNTE|1||"+back); m2.Segments[1].Get(3, 1) != tt.want {
				t.Errorf("Escape(%q) = %q does not round-trip", tt.want, back)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, msg string
		code      Code
		where     string // the start of Error()
	}{
		{"empty", "", CodeSegmentSequence, "message"},
		{"no MSH", "PID|1||123\r", CodeSegmentSequence, "segment 1"},
		{"MSH too short", "MSH|^~", CodeRequiredMissing, "MSH-2"},
		{"letter as separator", "MSH|^~A&|x", CodeDataType, "MSH-2"},
		{"repeated separator", "MSH|^^\\&|x", CodeDataType, "MSH-2"},
		{"bad segment id", "MSH|^~\\&|a\rpid|1\r", CodeSegmentSequence, "segment 2"},
		{"second MSH", "MSH|^~\\&|a\rMSH|^~\\&|b\r", CodeSegmentSequence, "MSH (segment 2)"},
		{"unterminated escape", "MSH|^~\\&|a\rPID|1\rOBX|1|ST|X||abc\\F", CodeDataType, "OBX-5 (segment 3)"},
		{"bad hex escape", "MSH|^~\\&|a\rOBX|1|ST|X||\\XZZ\\", CodeDataType, "OBX-5 (segment 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.msg))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Code != tt.code || !strings.HasPrefix(e.Error(), tt.where) || e.AckCode() == "AA" {
				t.Errorf("err = %q (code %d, %s), want code %d at %q", e, e.Code, e.AckCode(), tt.code, tt.where)
			}
		})
	}
}
