package correction

import (
	"fmt"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// maxText bounds a comment, an answer or a reason (bytes).
const maxText = 4000

// params are an operation's input parameters by name: each name once.
type params map[string]map[string]any

// parseParams reads a Parameters body, allowing only the names given,
// each once.
func parseParams(op string, body map[string]any, allowed ...string) (params, error) {
	out := params{}
	list, ok := body["parameter"].([]any)
	if !ok && body["parameter"] != nil {
		return nil, outcome.At(outcome.Invalid, "Parameters.parameter", "parameter must be a list")
	}
	for i, item := range list {
		at := fmt.Sprintf("Parameters.parameter[%d]", i)
		m, _ := item.(map[string]any)
		name, _ := m["name"].(string)
		known := false
		for _, a := range allowed {
			known = known || a == name
		}
		if !known {
			return nil, outcome.At(outcome.Invalid, at, "%s takes %s, not %q", op, strings.Join(allowed, ", "), name)
		}
		if out[name] != nil {
			return nil, outcome.At(outcome.Invalid, at, "give %s once", name)
		}
		out[name] = m
	}
	return out, nil
}

// at is the FHIRPath of the named parameter, for issues.
func at(name string) string { return "Parameters.parameter.where(name='" + name + "')" }

// text is the trimmed string value (valueString, valueMarkdown) of
// parameter name: required, at most maxText bytes.
func (ps params) text(name, what string) (string, error) {
	m := ps[name]
	var s string
	for _, k := range []string{"valueString", "valueMarkdown"} {
		if v, ok := m[k].(string); ok {
			s = strings.TrimSpace(v)
		}
	}
	switch {
	case s == "":
		return "", outcome.At(outcome.Invalid, at(name), "give %s (valueString): %s", name, what)
	case len(s) > maxText:
		return "", outcome.At(outcome.Invalid, at(name), "%s is longer than %d bytes", name, maxText)
	}
	return s, nil
}

// code is the valueCode of parameter name ("" when absent).
func (ps params) code(name string) string {
	s, _ := ps[name]["valueCode"].(string)
	return s
}

// reference is the valueReference of parameter name ("" when absent).
func (ps params) reference(name string) string {
	r, _ := ps[name]["valueReference"].(map[string]any)
	s, _ := r["reference"].(string)
	return s
}

// Resolution is how a provider resolves a correction request.
type Resolution struct {
	Outcome string // OutcomeAmended, OutcomeAnswered or OutcomeRejected
	// Amended is the version that corrects the record
	// ("Type/id/_history/n"), for OutcomeAmended.
	Amended string
	// Text is the provider's answer (OutcomeAnswered), its reason
	// (OutcomeRejected) or a note on the amendment (optional).
	Text string
}

// The outcomes of a correction request.
const (
	OutcomeAmended  = "amended"  // the record was amended: a new version
	OutcomeAnswered = "answered" // the provider explains, the record stands
	OutcomeRejected = "rejected" // the provider declines, with a reason
)

// parseRequest reads $request-correction's Parameters: comment.
func parseRequest(body map[string]any) (string, error) {
	ps, err := parseParams(OpRequest, body, "comment")
	if err != nil {
		return "", err
	}
	return ps.text("comment", "what is wrong with the record")
}

// parseResolution reads $resolve-correction's Parameters: outcome
// (valueCode) and, by outcome, amended (valueReference to the amending
// version) with an optional text, answered's text or rejected's reason.
func parseResolution(body map[string]any) (Resolution, error) {
	ps, err := parseParams(OpResolve, body, "outcome", "amended", "text", "reason")
	if err != nil {
		return Resolution{}, err
	}
	r := Resolution{Outcome: ps.code("outcome")}
	switch r.Outcome {
	case OutcomeAmended:
		if r.Amended = ps.reference("amended"); r.Amended == "" {
			return Resolution{}, outcome.At(outcome.Invalid, at("amended"), "an amendment names the version that corrects the record: amended (valueReference Type/id/_history/n)")
		}
		if ps["text"] != nil {
			if r.Text, err = ps.text("text", "a note on the amendment"); err != nil {
				return Resolution{}, err
			}
		}
		return r, only(ps, "outcome", "amended", "text")
	case OutcomeAnswered:
		r.Text, err = ps.text("text", "the answer to the citizen")
		if err == nil {
			err = only(ps, "outcome", "text")
		}
		return r, err
	case OutcomeRejected:
		r.Text, err = ps.text("reason", "why the request is rejected")
		if err == nil {
			err = only(ps, "outcome", "reason")
		}
		return r, err
	}
	return Resolution{}, outcome.At(outcome.Invalid, at("outcome"), "outcome (valueCode) is amended, answered or rejected, not %q", r.Outcome)
}

// only refuses a parameter other than names (one that belongs to another
// outcome).
func only(ps params, names ...string) error {
	for name := range ps {
		ok := false
		for _, n := range names {
			ok = ok || n == name
		}
		if !ok {
			return outcome.At(outcome.Invalid, at(name), "%s does not go with outcome %s", name, ps.code("outcome"))
		}
	}
	return nil
}
