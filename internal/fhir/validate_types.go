package fhir

import (
	"strconv"
)

// primitive checks the JSON type and the format of a primitive value
// (https://hl7.org/fhir/R4/json.html#primitive).
func (v *validator) primitive(val any, f *field) {
	pc := v.ix.primitives[f.typ]
	var text string
	switch pc.json {
	case jsonBool:
		if _, ok := val.(bool); !ok {
			v.report("structure", "expected a JSON boolean for "+f.typ)
		}
		return
	case jsonNumber:
		s, ok := numberText(val)
		if !ok {
			v.report("structure", "expected a JSON number for "+f.typ)
			return
		}
		text = s
	default:
		s, ok := val.(string)
		if !ok {
			v.report("structure", "expected a JSON string for "+f.typ)
			return
		}
		if s == "" {
			v.report("structure", "empty strings are not allowed; omit the element instead")
			return
		}
		text = s
	}
	switch {
	case f.typ == "xhtml":
		v.xhtml(text)
	case !pc.valid(text):
		v.report("value", "invalid "+f.typ+" value "+strconv.Quote(clip(text)))
	case f.typ == "canonical" || f.typ == "uri":
		v.localRef(text, false)
	}
	if f.typ == "code" && checkedStrength(f.elem.Binding.Strength) {
		v.checkCode(f.elem.Binding, "", text)
	}
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}

// reference checks the format of Reference.reference.
func (v *validator) reference(obj map[string]any) {
	ref, ok := obj["reference"].(string)
	if !ok || ref == "" {
		return // type errors already reported
	}
	p := v.push("reference")
	defer v.pop(p)
	if !isReference(v.ix, ref) {
		v.report("value", "invalid reference "+strconv.Quote(clip(ref))+": expected Type/id, an absolute URL, #id, urn:uuid: or urn:oid:")
		return
	}
	v.localRef(ref, true)
}

// extension applies ext-1: an extension has either a value[x] or nested
// extensions, and one of them.
func (v *validator) extension(obj map[string]any) {
	node := v.ix.nodes["Extension"]
	hasValue := false
	for key := range obj {
		if f := node.fields[key]; f != nil && f.elem.IsChoice() {
			hasValue = true
			break
		}
	}
	_, hasExt := obj["extension"]
	switch {
	case hasValue && hasExt:
		v.report("invariant", "ext-1: an extension must have either extensions or a value[x], not both")
	case !hasValue && !hasExt:
		v.report("invariant", "an extension must have a value[x] or nested extensions")
	}
}

// checkedStrength reports whether codes under a binding of this strength
// are checked: required ones are errors, extensible and preferred ones
// warnings (https://hl7.org/fhir/R4/terminologies.html#strength).
func checkedStrength(strength string) bool {
	return strength == "required" || strength == "extensible" || strength == "preferred"
}

// bindingIssue reports a code outside the bound value set: an error for a
// required binding, a warning otherwise.
func (v *validator) bindingIssue(b Binding, msg string) {
	if b.Strength == "required" {
		v.report("code-invalid", msg)
		return
	}
	v.issues = append(v.issues, Issue{Severity: "warning", Code: "code-invalid", Message: msg, Path: string(v.path)})
}

// checkCode asks the CodeChecker about one code of a binding.
func (v *validator) checkCode(b Binding, system, code string) {
	if v.codes == nil || b.ValueSet == "" {
		return
	}
	member, known := v.codes.CheckCode(b.ValueSet, system, code)
	if known && !member {
		v.bindingIssue(b, "code "+strconv.Quote(codeLabel(system, code))+" is not in the "+b.Strength+" value set "+b.ValueSet)
	}
}

func codeLabel(system, code string) string {
	if system == "" {
		return code
	}
	return system + "#" + code
}

// codedBinding checks a Coding or CodeableConcept bound to a value set: a
// Coding needs a system and a member code; a CodeableConcept needs at least
// one member coding. A CodeableConcept with only text, and codings without
// a code, are not checked. Required bindings give errors, extensible and
// preferred ones warnings.
func (v *validator) codedBinding(obj map[string]any, f *field) {
	b := f.elem.Binding
	if v.codes == nil || !checkedStrength(b.Strength) || b.ValueSet == "" {
		return
	}
	if f.typ == "Coding" {
		code, _ := obj["code"].(string)
		system, _ := obj["system"].(string)
		switch {
		case code == "":
		case system == "":
			v.bindingIssue(b, "a Coding bound to the "+b.Strength+" value set "+b.ValueSet+" must have a system")
		default:
			v.checkCode(b, system, code)
		}
		return
	}
	codings, _ := obj["coding"].([]any)
	checked := false
	for _, c := range codings {
		coding, _ := c.(map[string]any)
		code, _ := coding["code"].(string)
		system, _ := coding["system"].(string)
		if code == "" || system == "" {
			continue
		}
		member, known := v.codes.CheckCode(b.ValueSet, system, code)
		if member || !known {
			return
		}
		checked = true
	}
	if checked || len(codings) > 0 {
		v.bindingIssue(b, "none of the codings is in the "+b.Strength+" value set "+b.ValueSet)
	}
}
