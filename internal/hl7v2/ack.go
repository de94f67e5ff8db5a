package hl7v2

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Ack builds the original-mode acknowledgment (ACK) of a message: AA when
// err is nil, otherwise AE or AR (see Error.AckCode) with an ERR segment
// carrying the location (ERR-2), the table 0357 code (ERR-3), the
// severity (ERR-4) and the message for people (ERR-8). MSA-2 echoes the
// request's MSH-10. req may be nil when the message could not be parsed;
// raw is then searched for a control id to echo. An error that is not an
// *Error is acknowledged AE with code 207.
func Ack(req *Message, raw []byte, err error, controlID string, at time.Time) []byte {
	d := DefaultDelimiters
	var msh *Segment
	if req != nil && len(req.Segments) > 0 {
		d, msh = req.Delims, req.Segments[0]
	}
	field := func(n int, def string) string {
		if msh == nil || msh.Raw(n) == "" {
			return def
		}
		return msh.Raw(n)
	}
	echo := field(10, "")
	if msh == nil {
		echo = Escape(salvageControlID(raw), d)
	}
	event := "R01"
	if msh != nil && msh.Get(9, 2) != "" {
		event = Escape(msh.Get(9, 2), d)
	}
	sep := string(d.Field)
	var b strings.Builder
	b.WriteString(strings.Join([]string{"MSH", d.encoding(), field(5, ""), field(6, ""), field(3, ""), field(4, ""),
		Escape(at.Format("20060102150405-0700"), d), "", "ACK" + string(d.Component) + event + string(d.Component) + "ACK",
		Escape(controlID, d), field(11, "P"), field(12, Escape("2.5.1", d))}, sep))
	code, ackErr := "AA", asError(err)
	if ackErr != nil {
		code = ackErr.AckCode()
	}
	b.WriteString("\rMSA" + sep + code + sep + echo)
	if ackErr != nil {
		c := string(d.Component)
		b.WriteString("\rERR" + sep + sep + erl(ackErr.Loc, c) + sep +
			strconv.Itoa(int(ackErr.Code)) + c + Escape(ackErr.Code.Text(), d) + c + "HL70357" + sep +
			"E" + sep + sep + sep + sep + Escape(ackErr.Error(), d))
	}
	b.WriteString("\r")
	return []byte(b.String())
}

func asError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Msg: err.Error()}
}

// erl is the ERL data type of ERR-2: segment ^ occurrence ^ field ^
// repetition ^ component; empty when the segment is unknown.
func erl(l Location, c string) string {
	if l.Segment == "" {
		return ""
	}
	parts := []string{l.Segment, num(l.Occurrence), num(l.Field), num(l.Repetition), num(l.Component)}
	if l.Field > 0 && l.Repetition == 0 {
		parts[3] = "1"
	}
	return strings.TrimRight(strings.Join(parts, c), c)
}

func num(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// salvageControlID finds MSH-10 in a message that did not parse, so its
// rejection still names it; "" when there is none.
func salvageControlID(raw []byte) string {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if len(raw) < 8 || !bytes.HasPrefix(raw, []byte("MSH")) {
		return ""
	}
	line := raw
	if i := bytes.IndexAny(raw, "\r\n"); i >= 0 {
		line = raw[:i]
	}
	parts := bytes.Split(line, raw[3:4])
	if len(parts) < 10 {
		return ""
	}
	id := parts[9]
	if i := bytes.IndexByte(id, raw[4]); i >= 0 {
		id = id[:i]
	}
	return truncate(strings.Map(printable, string(id)), 64)
}

func printable(r rune) rune {
	if r < ' ' || r == 0x7f {
		return -1
	}
	return r
}
