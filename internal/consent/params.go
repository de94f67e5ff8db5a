package consent

import (
	"fmt"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// params are an operation's input parameters by name, in order.
type params map[string][]map[string]any

// parseParams reads a Parameters body.
func parseParams(body map[string]any) (params, error) {
	out := params{}
	list, ok := body["parameter"].([]any)
	if !ok && body["parameter"] != nil {
		return nil, outcome.At(outcome.Invalid, "Parameters.parameter", "parameter must be a list")
	}
	for i, item := range list {
		m, ok := item.(map[string]any)
		name, _ := m["name"].(string)
		if !ok || name == "" {
			return nil, outcome.At(outcome.Invalid, fmt.Sprintf("Parameters.parameter[%d]", i), "a parameter is an object with a name")
		}
		out[name] = append(out[name], m)
	}
	return out, nil
}

// at is the FHIRPath of the named parameter, for issues.
func at(name string) string { return "Parameters.parameter.where(name='" + name + "')" }

// str is the string value of the single parameter name (valueString,
// valueCode, valueDate …); "" when absent.
func (ps params) str(name string) (string, error) {
	list := ps[name]
	if len(list) == 0 {
		return "", nil
	}
	if len(list) > 1 {
		return "", outcome.At(outcome.Invalid, at(name), "give %q once", name)
	}
	for k, v := range list[0] {
		if s, ok := v.(string); ok && strings.HasPrefix(k, "value") {
			return strings.TrimSpace(s), nil
		}
	}
	return "", outcome.At(outcome.Invalid, at(name), "%q takes a string, code or date value", name)
}

// required is str, refusing an absent or empty value.
func (ps params) required(name, what string) (string, error) {
	s, err := ps.str(name)
	if err == nil && s == "" {
		err = outcome.At(outcome.Invalid, at(name), "give %q: %s", name, what)
	}
	return s, err
}

// reference is the single valueReference parameter name ("" when absent).
func (ps params) reference(name string) (string, error) {
	list := ps[name]
	if len(list) == 0 {
		return "", nil
	}
	if len(list) > 1 {
		return "", outcome.At(outcome.Invalid, at(name), "give %q once", name)
	}
	r, _ := list[0]["valueReference"].(map[string]any)
	s, _ := r["reference"].(string)
	if s == "" {
		return "", outcome.At(outcome.Invalid, at(name), "%q takes a valueReference", name)
	}
	return s, nil
}

// all is every string value of the parameters called name (valueCode,
// valueString; a valueCoding as "system|code").
func (ps params) all(name string) ([]string, error) {
	var out []string
	for _, m := range ps[name] {
		switch {
		case m["valueCoding"] != nil:
			cd, _ := m["valueCoding"].(map[string]any)
			sys, _ := cd["system"].(string)
			code, _ := cd["code"].(string)
			out = append(out, sys+"|"+code)
		default:
			s, _ := m["valueCode"].(string)
			if s == "" {
				s, _ = m["valueString"].(string)
			}
			if s == "" {
				return nil, outcome.At(outcome.Invalid, at(name), "%q takes a valueCode, valueString or valueCoding", name)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// parameters builds an output Parameters from name/value pairs; a value
// is the parameter's body ({"valueString": …}).
func parameters(pairs ...any) map[string]any {
	var list []any
	for i := 0; i+1 < len(pairs); i += 2 {
		m := map[string]any{"name": pairs[i]}
		for k, v := range pairs[i+1].(map[string]any) {
			m[k] = v
		}
		list = append(list, m)
	}
	return map[string]any{"resourceType": "Parameters", "parameter": list}
}

// informational is an OperationOutcome parameter saying what happened.
func informational(msg string) map[string]any {
	return map[string]any{"resource": outcome.Resource([]outcome.Issue{{
		Severity: outcome.SeverityInformation, Code: "informational", Message: msg,
	}})}
}

// ref is a Reference.
func ref(s string) map[string]any { return map[string]any{"reference": s} }
