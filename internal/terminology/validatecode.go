package terminology

import (
	"context"
	"fmt"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// ValidateRequest asks whether a code is valid in a value set
// (http://hl7.org/fhir/R4/valueset-operation-validate-code.html) or in a
// code system (http://hl7.org/fhir/R4/codesystem-operation-validate-code.html).
type ValidateRequest struct {
	ValueSet   string              // url or url|version of the value set
	Definition *ValueSetDefinition // a value set given inline, instead of ValueSet
	CodeSystem string              // for CodeSystem/$validate-code: url or url|version, instead of a value set
	System     *CodeSystem         // a code system given inline, instead of CodeSystem
	// Codings holds the code to check, or the codings of a
	// CodeableConcept: then the answer is valid when any coding is.
	Codings         []Coding
	DisplayLanguage string
}

// Validation is the answer to $validate-code. Issues say what is wrong
// (error), doubtful (warning: a wrong display) or unchecked (information:
// a code of a system we cannot check, such as SNOMED CT); Message joins
// them. Validation of an extensible or preferred binding should turn the
// errors into warnings.
type Validation struct {
	Result  bool   // the code is valid (or could not be checked, see Known)
	Known   bool   // false when the answer could not be decided here and the code was accepted
	Display string // the code's display, in DisplayLanguage when a designation exists
	Message string
	Issues  []outcome.Issue
}

// ValidateCoding answers $validate-code. The error is an *outcome.Error:
// NotFound for an unknown value set or code system, Invalid for a request
// without a code.
func (t *Tables) ValidateCoding(req ValidateRequest) (*Validation, error) {
	if len(req.Codings) == 0 {
		return nil, outcome.New(outcome.Invalid, "$validate-code needs a code, a coding or a codeableConcept")
	}
	check, err := t.checker(req)
	if err != nil {
		return nil, err
	}
	var v Validation
	var others []outcome.Issue
	for _, c := range req.Codings {
		r := check(c)
		if r.Result && !v.Result {
			v.Result, v.Known, v.Display = true, r.Known, r.Display
			v.Issues = append(v.Issues, r.Issues...)
			continue
		}
		others = append(others, r.Issues...)
	}
	if !v.Result {
		v.Known = true // a code is only found invalid when it could be checked
	}
	if v.Result && len(req.Codings) > 1 {
		// One valid coding satisfies a CodeableConcept; the rest are notes.
		for i := range others {
			if others[i].Severity == outcome.SeverityError {
				others[i].Severity = outcome.SeverityInformation
			}
		}
	}
	v.Issues = append(v.Issues, others...)
	var msgs []string
	for _, is := range v.Issues {
		msgs = append(msgs, is.Message)
	}
	v.Message = strings.Join(msgs, "; ")
	return &v, nil
}

// checker returns the check of one coding against what req names.
func (t *Tables) checker(req ValidateRequest) (func(Coding) Validation, error) {
	switch {
	case req.Definition != nil:
		vs := t.expandDefinition(req.Definition)
		return func(c Coding) Validation { return t.inValueSet(vs, c, req.DisplayLanguage) }, nil
	case req.ValueSet != "":
		vs := t.expansion(req.ValueSet)
		if vs == nil {
			return nil, outcome.New(outcome.NotFound, "value set %s is not known here", req.ValueSet)
		}
		return func(c Coding) Validation { return t.inValueSet(vs, c, req.DisplayLanguage) }, nil
	case req.System != nil:
		return func(c Coding) Validation { return t.inCodeSystem(req.System, req.System.URL, c, req.DisplayLanguage) }, nil
	case req.CodeSystem != "":
		cs, ok := t.systems.get(req.CodeSystem, "")
		if !ok {
			if _, ext := externalSystem(req.CodeSystem); !ext {
				return nil, outcome.New(outcome.NotFound, "code system %s is not known here", req.CodeSystem)
			}
			cs = nil
		}
		return func(c Coding) Validation {
			return t.inCodeSystem(cs, stripVersion(req.CodeSystem), c, req.DisplayLanguage)
		}, nil
	}
	return nil, outcome.New(outcome.Invalid, "$validate-code needs a value set (url or valueSet) or a code system")
}

func issue(severity, code, format string, args ...any) outcome.Issue {
	return outcome.Issue{Severity: severity, Code: code, Message: fmt.Sprintf(format, args...)}
}

// inValueSet checks one coding against an expansion.
func (t *Tables) inValueSet(vs *ValueSet, c Coding, lang string) Validation {
	if c.Code == "" {
		return Validation{Known: true, Issues: []outcome.Issue{issue(outcome.SeverityError, "required", "a coding has no code")}}
	}
	member, known := vs.check(c.System, c.Code)
	switch {
	case member:
		v := Validation{Result: true, Known: true, Display: c.Display}
		if cs, i, ok := vs.find(c.System, c.Code); ok {
			v.Display, v.Issues = t.checkDisplay(vs, cs, &cs.Concepts[i], c.Display, lang)
		}
		return v
	case !known:
		return Validation{Result: true, Display: c.Display, Issues: []outcome.Issue{issue(outcome.SeverityInformation, "not-supported",
			"code %s could not be checked against value set %s: %s; it was accepted", c.label(), vs.URL, first(vs.NotEnumerable, "content unknown"))}}
	}
	return Validation{Known: true, Issues: []outcome.Issue{issue(outcome.SeverityError, "code-invalid", "%s", t.whyNot(vs, c))}}
}

// whyNot says why a coding is not in a value set: an unknown code, a
// wrong system, a malformed code of a system with a grammar, or simply not
// a member.
func (t *Tables) whyNot(vs *ValueSet, c Coding) string {
	if c.System != "" {
		if cs, ok := t.systems.get(c.System, ""); ok && cs.Content == "complete" {
			if _, found := cs.find(c.Code); !found {
				return fmt.Sprintf("unknown code %q in code system %s (so not in value set %s)", c.Code, c.System, vs.URL)
			}
		}
		if other, _, ok := vs.find("", c.Code); ok {
			return fmt.Sprintf("code %q is in value set %s with system %s, not %s", c.Code, vs.URL, other.URL, c.System)
		}
		if ext, ok := externalSystem(c.System); ok {
			if checked, err := ext.Check(c.Code); checked && err != nil {
				return fmt.Sprintf("%q is not a valid %s code: %v", c.Code, ext.Name, err)
			}
		}
	}
	return fmt.Sprintf("code %s is not in value set %s", c.label(), vs.URL)
}

// inCodeSystem checks one coding against a code system (nil: an external
// one named by url).
func (t *Tables) inCodeSystem(cs *CodeSystem, url string, c Coding, lang string) Validation {
	switch {
	case c.Code == "":
		return Validation{Known: true, Issues: []outcome.Issue{issue(outcome.SeverityError, "required", "a coding has no code")}}
	case c.System != "" && c.System != url:
		return Validation{Known: true, Issues: []outcome.Issue{issue(outcome.SeverityError, "code-invalid",
			"the coding has system %s, not %s", c.System, url)}}
	case cs == nil:
		ext, _ := externalSystem(url)
		checked, err := ext.Check(c.Code)
		switch {
		case !checked:
			return Validation{Result: true, Display: c.Display, Issues: []outcome.Issue{issue(outcome.SeverityInformation, "not-supported",
				"code system %s (%s) is not available here; code %q was accepted unchecked", url, ext.Name, c.Code)}}
		case err != nil:
			return Validation{Known: true, Issues: []outcome.Issue{issue(outcome.SeverityError, "code-invalid", "%q is not a valid %s code: %v", c.Code, ext.Name, err)}}
		}
		return Validation{Result: true, Known: true, Display: c.Display}
	}
	i, ok := cs.find(c.Code)
	if !ok {
		return Validation{Known: true, Issues: []outcome.Issue{issue(outcome.SeverityError, "code-invalid", "unknown code %q in code system %s", c.Code, url)}}
	}
	v := Validation{Result: true, Known: true}
	v.Display, v.Issues = t.checkDisplay(nil, cs, &cs.Concepts[i], c.Display, lang)
	return v
}

// checkDisplay returns the display to report and a warning when the given
// display is none of the concept's displays and designations.
func (t *Tables) checkDisplay(vs *ValueSet, cs *CodeSystem, c *CodeConcept, given, lang string) (string, []outcome.Issue) {
	preferred := c.Display
	valid := []string{c.Display}
	if vs != nil {
		preferred = vs.display(cs, c)
		valid = append(valid, preferred)
		if x, ok := vs.extra[conceptKey(cs.URL, c.Code)]; ok {
			for _, d := range x.designations {
				valid = append(valid, d.Value)
			}
			if d, ok := designationIn(x.designations, lang); ok {
				preferred = d
			}
		}
	}
	ds := t.designations(cs, c)
	for _, d := range ds {
		valid = append(valid, d.Value)
	}
	if d, ok := designationIn(ds, lang); ok {
		preferred = d
	}
	if given == "" {
		return preferred, nil
	}
	for _, v := range valid {
		if sameDisplay(v, given) {
			return preferred, nil
		}
	}
	return preferred, []outcome.Issue{issue(outcome.SeverityWarning, "invalid",
		"the display %q is not a display of code %s#%s; the display is %q", given, cs.URL, c.Code, preferred)}
}

// sameDisplay compares displays ignoring case and runs of white space.
func sameDisplay(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// ValidateCode is ValueSet/$validate-code: a Parameters resource in (url,
// valueSet, valueSetVersion, code, system, systemVersion, display, coding,
// codeableConcept, displayLanguage) and out (result, message, display). For
// ValueSet/[id]/$validate-code pass the stored resource's url.
func (s *Service) ValidateCode(_ context.Context, in map[string]any) (map[string]any, error) {
	p, err := readParams("$validate-code", in)
	if err != nil {
		return nil, err
	}
	req := ValidateRequest{ValueSet: p.str("url"), DisplayLanguage: p.str("displayLanguage")}
	if v := p.str("valueSetVersion"); v != "" && req.ValueSet != "" {
		req.ValueSet = stripVersion(req.ValueSet) + "|" + v
	}
	if r := p.resource("valueSet"); r != nil {
		parsed, err := parseResource(r)
		if err != nil || parsed.vs == nil {
			return nil, outcome.New(outcome.Invalid, "$validate-code: parameter valueSet must be a ValueSet with a url")
		}
		req.Definition = parsed.vs
	}
	req.Codings = codingsOf(p, "system", "systemVersion")
	return s.validate(req)
}

// ValidateCodeInCodeSystem is CodeSystem/$validate-code: a Parameters
// resource in (url, codeSystem, code, version, display, coding,
// codeableConcept, displayLanguage) and out (result, message, display).
func (s *Service) ValidateCodeInCodeSystem(_ context.Context, in map[string]any) (map[string]any, error) {
	p, err := readParams("$validate-code", in)
	if err != nil {
		return nil, err
	}
	req := ValidateRequest{CodeSystem: p.str("url"), DisplayLanguage: p.str("displayLanguage")}
	if r := p.resource("codeSystem"); r != nil {
		parsed, err := parseResource(r)
		if err != nil || parsed.cs == nil {
			return nil, outcome.New(outcome.Invalid, "$validate-code: parameter codeSystem must be a CodeSystem with a url")
		}
		req.System = parsed.cs
	}
	req.Codings = codingsOf(p, "", "version")
	if req.CodeSystem == "" && req.System == nil && len(req.Codings) > 0 {
		req.CodeSystem = first(p.str("system"), req.Codings[0].System)
	}
	return s.validate(req)
}

func (s *Service) validate(req ValidateRequest) (map[string]any, error) {
	v, err := s.Tables().ValidateCoding(req)
	if err != nil {
		return nil, err
	}
	var o out
	o.add("result", "Boolean", v.Result)
	if v.Message != "" {
		o.add("message", "String", v.Message)
	}
	if v.Display != "" {
		o.add("display", "String", v.Display)
	}
	return o.parameters(), nil
}

// codingsOf reads the code to check: code with system and display, a
// coding, or the codings of a codeableConcept.
func codingsOf(p params, systemParam, versionParam string) []Coding {
	if c, ok := p.coding("coding"); ok {
		return []Coding{c}
	}
	if cc, ok := p.codeableConcept("codeableConcept"); ok {
		return cc
	}
	if code := p.str("code"); code != "" {
		c := Coding{Code: code, Display: p.str("display"), Version: p.str(versionParam)}
		if systemParam != "" {
			c.System = p.str(systemParam)
		}
		return []Coding{c}
	}
	return nil
}
