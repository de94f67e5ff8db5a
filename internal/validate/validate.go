package validate

import (
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// ruleSet is one stage of validation: it returns the issues it finds in a
// resource. Structure and bindings come from fhir.Validate, the FHIRPath
// invariants from invariants.check; profiles will be a further rule set.
type ruleSet func(res map[string]any) []outcome.Issue

// Validator validates resources on write. It is safe for concurrent use.
type Validator struct {
	rules []ruleSet
}

// New returns a Validator that checks required bindings against codes (a
// *terminology.Tables); with nil codes bindings are not checked.
//
// New compiles every FHIRPath invariant of the R4 definitions once; it
// panics if one does not compile, which the package's tests rule out.
func New(codes fhir.CodeChecker) *Validator {
	opts := fhir.ValidateOptions{Codes: codes}
	iv, err := newInvariants(invariantTable)
	if err != nil {
		panic(err)
	}
	return &Validator{rules: []ruleSet{
		func(res map[string]any) []outcome.Issue { return fromFHIR(fhir.Validate(res, opts)) },
		iv.check,
	}}
}

// Check returns every issue found in res, errors and warnings alike, in the
// order the rule sets report them.
func (v *Validator) Check(res map[string]any) []outcome.Issue {
	var issues []outcome.Issue
	for _, rule := range v.rules {
		issues = append(issues, rule(res)...)
	}
	return issues
}

// Validate returns nil when res has no error issues, and otherwise an
// *outcome.Error holding every issue found (warnings too). Its kind is:
//
//   - outcome.Invalid (400) when any error is structural: the resource is
//     not well-formed FHIR (unknown element, wrong JSON type, cardinality,
//     bad primitive format, empty value, bad narrative or reference);
//   - outcome.Unprocessable (422) when the resource is well-formed and only
//     business rules fail: a code outside a required value set, a broken
//     invariant, a profile rule.
//
// The split follows the issue code; see Unprocessable.
func (v *Validator) Validate(res map[string]any) error {
	issues := v.Check(res)
	if !outcome.HasErrors(issues) {
		return nil
	}
	return &outcome.Error{Kind: kindOf(issues), Op: op(res), Issues: issues}
}

// kindOf is Invalid if any error issue is structural, else Unprocessable.
func kindOf(issues []outcome.Issue) outcome.Kind {
	for _, is := range issues {
		if isError(is) && !Unprocessable(is.Code) {
			return outcome.Invalid
		}
	}
	return outcome.Unprocessable
}

func isError(is outcome.Issue) bool {
	return is.Severity == outcome.SeverityError || is.Severity == outcome.SeverityFatal
}

// Unprocessable reports whether an error issue with this FHIR issue-type
// code (http://hl7.org/fhir/R4/valueset-issue-type.html) breaks a business
// rule rather than the structure: code-invalid (binding), invariant,
// business-rule. Every other code (structure, required, value, invalid,
// too-long, ...) means the resource is malformed.
func Unprocessable(code string) bool {
	switch code {
	case "code-invalid", "invariant", "business-rule":
		return true
	}
	return false
}

func fromFHIR(in []fhir.Issue) []outcome.Issue {
	out := make([]outcome.Issue, len(in))
	for i, is := range in {
		out[i] = outcome.Issue{Severity: is.Severity, Code: is.Code, Message: is.Message, Expression: is.Path}
	}
	return out
}

// op names the operation for logs: "validate Patient/123".
func op(res map[string]any) string {
	s := "validate"
	if rt, ok := res["resourceType"].(string); ok {
		s += " " + rt
		if id, ok := res["id"].(string); ok {
			s += "/" + id
		}
	}
	return s
}
