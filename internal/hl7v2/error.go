package hl7v2

import (
	"fmt"
	"strings"
)

// Code is an HL7 v2 error condition code (HL7 table 0357), carried in ERR-3.
type Code int

// The error conditions of HL7 table 0357 this package reports.
const (
	CodeAccepted           Code = 0   // message accepted
	CodeSegmentSequence    Code = 100 // segment sequence error: a segment missing or out of place
	CodeRequiredMissing    Code = 101 // required field missing
	CodeDataType           Code = 102 // data type error: a value that does not parse as its type
	CodeTableValue         Code = 103 // table value not found
	CodeUnsupportedType    Code = 200 // unsupported message type
	CodeUnsupportedEvent   Code = 201 // unsupported event code
	CodeUnsupportedVersion Code = 203 // unsupported version id
	CodeInternal           Code = 207 // application internal error
)

var codeText = map[Code]string{
	CodeAccepted:           "Message accepted",
	CodeSegmentSequence:    "Segment sequence error",
	CodeRequiredMissing:    "Required field missing",
	CodeDataType:           "Data type error",
	CodeTableValue:         "Table value not found",
	CodeUnsupportedType:    "Unsupported message type",
	CodeUnsupportedEvent:   "Unsupported event code",
	CodeUnsupportedVersion: "Unsupported version id",
	CodeInternal:           "Application internal error",
}

// Text is the description of the code in table 0357.
func (c Code) Text() string { return codeText[c] }

// Location points at an element of a message, as the ERL data type of
// ERR-2 does. Zero fields are unknown or not applicable.
type Location struct {
	Segment    string // segment ID, e.g. "OBX"
	Line       int    // 1-based position of the segment in the message
	Occurrence int    // 1-based occurrence of this segment ID in the message (ERL.2)
	Field      int    // field number (ERL.3)
	Repetition int    // 1-based repetition (ERL.4)
	Component  int    // component number (ERL.5)
}

// String names the element as people write it: "OBX-5.1 (segment 4)".
func (l Location) String() string {
	if l.Segment == "" {
		if l.Line > 0 {
			return fmt.Sprintf("segment %d", l.Line)
		}
		return "message"
	}
	var b strings.Builder
	b.WriteString(l.Segment)
	if l.Field > 0 {
		fmt.Fprintf(&b, "-%d", l.Field)
		if l.Component > 0 {
			fmt.Fprintf(&b, ".%d", l.Component)
		}
	}
	if l.Line > 0 {
		fmt.Fprintf(&b, " (segment %d)", l.Line)
	}
	return b.String()
}

// Error is a problem with a message: where it is, its table 0357 code and
// a message for people. Reject marks errors that refuse the message as a
// whole (it cannot be parsed or is of a kind not handled here): they are
// acknowledged with AR, every other error with AE.
type Error struct {
	Loc    Location
	Code   Code
	Msg    string
	Reject bool
}

func (e *Error) Error() string {
	return e.Loc.String() + ": " + e.Msg
}

// AckCode is the MSA-1 acknowledgment code the error calls for: AR or AE.
func (e *Error) AckCode() string {
	if e.Reject {
		return "AR"
	}
	return "AE"
}

func errAt(loc Location, code Code, format string, args ...any) *Error {
	return &Error{Loc: loc, Code: code, Msg: fmt.Sprintf(format, args...)}
}

func rejectAt(loc Location, code Code, format string, args ...any) *Error {
	e := errAt(loc, code, format, args...)
	e.Reject = true
	return e
}
