package outcome

import "errors"

// OperationOutcome renders err as an OperationOutcome resource (as generic
// FHIR JSON) and returns it with the HTTP status. Internal errors never show
// their cause: the client gets the request id to quote instead.
func OperationOutcome(err error, requestID string) (map[string]any, int) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Kind: Internal, Err: err}
	}
	issues := e.Issues
	if e.Kind == Internal || len(issues) == 0 {
		msg := e.Kind.String()
		if e.Kind == Internal {
			msg = "internal error; quote request id " + requestID
		}
		issues = []Issue{{Severity: SeverityError, Code: e.Kind.IssueCode(), Message: msg}}
	}
	return Resource(issues), e.Kind.Status()
}

// Resource renders issues as an OperationOutcome resource.
func Resource(issues []Issue) map[string]any {
	list := make([]any, 0, len(issues))
	for _, is := range issues {
		m := map[string]any{"severity": is.Severity, "code": is.Code}
		if is.Severity == "" {
			m["severity"] = SeverityError
		}
		if is.Code == "" {
			m["code"] = "processing"
		}
		if is.Message != "" {
			m["diagnostics"] = is.Message
		}
		if is.Expression != "" {
			m["expression"] = []any{is.Expression}
		}
		list = append(list, m)
	}
	if len(list) == 0 {
		list = append(list, map[string]any{"severity": SeverityInformation, "code": "informational", "diagnostics": "all ok"})
	}
	return map[string]any{"resourceType": "OperationOutcome", "issue": list}
}
