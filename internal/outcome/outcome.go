package outcome

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Kind classifies an error; each kind maps to exactly one HTTP status.
type Kind int

// The kinds of error. Their HTTP statuses are in Kind.Status.
const (
	Internal           Kind = iota // 500: a bug or an unexpected failure
	Invalid                        // 400: the request cannot be parsed or is structurally wrong
	Unprocessable                  // 422: well-formed but breaks a business or profile rule
	Unauthorized                   // 401: no or bad credentials
	Forbidden                      // 403: authenticated but not allowed
	NotFound                       // 404: unknown or withheld
	NotAllowed                     // 405: the interaction is not supported here
	Conflict                       // 409: a version conflict or duplicate
	Gone                           // 410: the resource was deleted
	PreconditionFailed             // 412: If-Match or a conditional precondition failed
	TooLarge                       // 413: the request body is above the limit
	UnsupportedMedia               // 415: the content type is not FHIR JSON
	TooCostly                      // 422 with code too-costly: the query would cost too much
	Transient                      // 503: try again later
	NotAcceptable                  // 406: the requested format cannot be produced
)

var kindInfo = map[Kind]struct {
	status int
	code   string // FHIR issue-type code
	name   string
}{
	Internal:           {http.StatusInternalServerError, "exception", "internal"},
	Invalid:            {http.StatusBadRequest, "invalid", "invalid"},
	Unprocessable:      {http.StatusUnprocessableEntity, "processing", "unprocessable"},
	Unauthorized:       {http.StatusUnauthorized, "login", "unauthorized"},
	Forbidden:          {http.StatusForbidden, "forbidden", "forbidden"},
	NotFound:           {http.StatusNotFound, "not-found", "not-found"},
	NotAllowed:         {http.StatusMethodNotAllowed, "not-supported", "not-allowed"},
	Conflict:           {http.StatusConflict, "conflict", "conflict"},
	Gone:               {http.StatusGone, "deleted", "gone"},
	PreconditionFailed: {http.StatusPreconditionFailed, "conflict", "precondition-failed"},
	TooLarge:           {http.StatusRequestEntityTooLarge, "too-long", "too-large"},
	UnsupportedMedia:   {http.StatusUnsupportedMediaType, "not-supported", "unsupported-media"},
	TooCostly:          {http.StatusUnprocessableEntity, "too-costly", "too-costly"},
	Transient:          {http.StatusServiceUnavailable, "transient", "transient"},
	NotAcceptable:      {http.StatusNotAcceptable, "not-supported", "not-acceptable"},
}

// Status is the HTTP status for the kind.
func (k Kind) Status() int { return kindInfo[k].status }

// IssueCode is the FHIR issue-type code (http://hl7.org/fhir/issue-type) for the kind.
func (k Kind) IssueCode() string { return kindInfo[k].code }

// String names the kind.
func (k Kind) String() string { return kindInfo[k].name }

// Severity values of an Issue (http://hl7.org/fhir/issue-severity).
const (
	SeverityFatal       = "fatal"
	SeverityError       = "error"
	SeverityWarning     = "warning"
	SeverityInformation = "information"
)

// Issue is one problem found, in the shape of OperationOutcome.issue.
type Issue struct {
	Severity   string // fatal, error, warning, information
	Code       string // FHIR issue-type code, e.g. "structure", "value", "required", "code-invalid"
	Message    string // human-readable diagnostics
	Expression string // FHIRPath of the element at fault, e.g. "Patient.name[0].family"
}

// Error is the platform's error: what kind it is, what operation failed,
// the issues found and the underlying cause.
type Error struct {
	Kind   Kind
	Op     string  // the operation, e.g. "read Patient/123"
	Issues []Issue // what to tell the client; empty means one issue from Kind and the message
	Err    error   // the cause, for logs; never shown to the client for Internal errors
}

// Error describes the error for logs.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	for i, is := range e.Issues {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(is.Message)
		if is.Expression != "" {
			b.WriteString(" (at " + is.Expression + ")")
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with one error issue.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Issues: []Issue{{Severity: SeverityError, Code: kind.IssueCode(), Message: fmt.Sprintf(format, args...)}}}
}

// At returns an error of the given kind with one error issue about the element at expr.
func At(kind Kind, expr, format string, args ...any) *Error {
	e := New(kind, format, args...)
	e.Issues[0].Expression = expr
	return e
}

// Wrap returns an error of the given kind for op caused by err, keeping err's issues if it has any.
func Wrap(kind Kind, op string, err error) *Error {
	e := &Error{Kind: kind, Op: op, Err: err}
	var inner *Error
	if errors.As(err, &inner) {
		e.Issues = inner.Issues
	}
	return e
}

// KindOf returns the kind of err: the outermost *Error's kind, Internal otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is an *Error of the given kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}

// HasErrors reports whether any issue is an error or fatal.
func HasErrors(issues []Issue) bool {
	for _, is := range issues {
		if is.Severity == SeverityError || is.Severity == SeverityFatal {
			return true
		}
	}
	return false
}
