package hl7v2

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// escapeRE matches the escape sequences HL7 v2.5 §2.7 defines (between
// the escape characters): separators, highlighting, formatting
// (.br .sp .fi .nf .in .ti .sk .ce), hexadecimal data, character-set
// switches (C, M) and locally defined ones (Z…).
var escapeRE = regexp.MustCompile(`^(?:[FSTREHN]|X(?:[0-9A-Fa-f]{2})+|Z.*|C[0-9A-Fa-f]{4}|M[0-9A-Fa-f]{4}(?:[0-9A-Fa-f]{2})?|\.(?:br|fi|nf|ce|(?:sp|sk) ?[0-9]*|(?:in|ti) ?[+-]?[0-9]*))$`)

// checkEscapes reports a malformed escape sequence in a raw field: one not
// closed, or one HL7 does not define — most often a message whose MSH-2
// does not declare the characters it really uses, whose text would
// otherwise be silently cut.
func checkEscapes(raw string, d *Delimiters) error {
	for i := 0; i < len(raw); i++ {
		if raw[i] != d.Escape {
			continue
		}
		end := strings.IndexByte(raw[i+1:], d.Escape)
		if end < 0 {
			return fmt.Errorf("escape sequence at offset %d is not closed", i)
		}
		seq := raw[i+1 : i+1+end]
		if seq == "" {
			return fmt.Errorf("empty escape sequence at offset %d", i)
		}
		if seq[0] == 'X' {
			if _, err := hex.DecodeString(seq[1:]); err != nil || len(seq) == 1 {
				return fmt.Errorf("escape \\%s\\ at offset %d is not hexadecimal", truncate(seq, 20), i)
			}
		}
		if !escapeRE.MatchString(seq) {
			return fmt.Errorf("escape sequence %c%s%c at offset %d is not one HL7 defines (is MSH-2 right?)", d.Escape, truncate(seq, 20), d.Escape, i)
		}
		i += end + 1
	}
	return nil
}

// unescape decodes the escape sequences of HL7 v2 (v2.5 §2.7): \F\ \S\ \T\
// \R\ \E\ to the separators, \Xhh..\ to bytes, \.br\ to a line break; the
// formatting and character-set escapes (\H\ \N\ \.sp\ \C..\ \M..\ \Z..\)
// are dropped. The raw text was checked by checkEscapes.
func unescape(raw string, d *Delimiters) string {
	if strings.IndexByte(raw, d.Escape) < 0 {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		end := -1
		if c == d.Escape {
			end = strings.IndexByte(raw[i+1:], d.Escape)
		}
		if end < 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString(decodeEscape(raw[i+1:i+1+end], d))
		i += end + 1
	}
	return b.String()
}

func decodeEscape(seq string, d *Delimiters) string {
	switch {
	case seq == "F":
		return string(d.Field)
	case seq == "S":
		return string(d.Component)
	case seq == "T":
		return string(d.Subcomponent)
	case seq == "R":
		return string(d.Repetition)
	case seq == "E":
		return string(d.Escape)
	case seq == ".br":
		return "\n"
	case seq != "" && seq[0] == 'X':
		b, err := hex.DecodeString(seq[1:])
		if err != nil {
			return ""
		}
		return string(b)
	}
	return ""
}

// Escape encodes text for a field: separators and the escape character
// become their escape sequences, and line breaks become \.br\.
func Escape(text string, d Delimiters) string {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		e := d.Escape
		switch c := text[i]; c {
		case d.Field:
			b.Write([]byte{e, 'F', e})
		case d.Component:
			b.Write([]byte{e, 'S', e})
		case d.Subcomponent:
			b.Write([]byte{e, 'T', e})
		case d.Repetition:
			b.Write([]byte{e, 'R', e})
		case d.Escape:
			b.Write([]byte{e, 'E', e})
		case '\r':
		case '\n':
			b.WriteString(string(e) + ".br" + string(e))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
