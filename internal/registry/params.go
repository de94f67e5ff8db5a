package registry

import (
	"fmt"
	"strconv"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// param is one Parameters.parameter, with its position for error paths.
type param struct {
	index int
	m     map[string]any
}

// path is the parameter's FHIRPath.
func (p param) path() string { return fmt.Sprintf("Parameters.parameter[%d]", p.index) }

// params reads the parameters of a Parameters body
// (https://hl7.org/fhir/R4/parameters.html) by name.
type params struct {
	byName map[string][]param
}

// parseParams reads body's parameters; known lists the names the operation
// takes (any other is refused, so a misspelt one is not silently ignored).
func parseParams(body map[string]any, known ...string) (params, error) {
	out := params{byName: map[string][]param{}}
	if rt, _ := body["resourceType"].(string); rt != "Parameters" {
		return out, outcome.At(outcome.Invalid, "resourceType", "the body is a Parameters resource, not %q", rt)
	}
	raw, ok := body["parameter"]
	if !ok {
		return out, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return out, outcome.At(outcome.Invalid, "Parameters.parameter", "parameter must be a list")
	}
	for i, item := range list {
		m, ok := item.(map[string]any)
		p := param{index: i, m: m}
		if !ok {
			return out, outcome.At(outcome.Invalid, p.path(), "a parameter must be an object")
		}
		name, _ := m["name"].(string)
		if !contains(known, name) {
			return out, outcome.At(outcome.Invalid, p.path()+".name", "unknown parameter %q; this operation takes %v", name, known)
		}
		out.byName[name] = append(out.byName[name], p)
	}
	return out, nil
}

// one returns the single parameter called name; ok false when absent, an
// error when repeated.
func (ps params) one(name string) (param, bool, error) {
	list := ps.byName[name]
	switch len(list) {
	case 0:
		return param{}, false, nil
	case 1:
		return list[0], true, nil
	}
	return param{}, false, outcome.At(outcome.Invalid, list[1].path(), "parameter %q is given more than once", name)
}

// resource returns the parameter's resource of type typ.
func (p param) resource(typ string) (map[string]any, error) {
	res, ok := p.m["resource"].(map[string]any)
	if !ok {
		return nil, outcome.At(outcome.Invalid, p.path()+".resource", "parameter %q holds a %s resource", p.m["name"], typ)
	}
	if rt, _ := res["resourceType"].(string); rt != typ {
		return nil, outcome.At(outcome.Invalid, p.path()+".resource", "parameter %q holds a %s, not %q", p.m["name"], typ, rt)
	}
	return res, nil
}

// boolean reads valueBoolean.
func (p param) boolean() (bool, error) {
	b, ok := p.m["valueBoolean"].(bool)
	if !ok {
		return false, outcome.At(outcome.Invalid, p.path()+".valueBoolean", "parameter %q is a boolean", p.m["name"])
	}
	return b, nil
}

// integer reads valueInteger (or valuePositiveInt) as a positive int.
func (p param) integer() (int, error) {
	for _, k := range []string{"valueInteger", "valuePositiveInt"} {
		if v, ok := p.m[k]; ok {
			if n, err := strconv.Atoi(fmt.Sprint(v)); err == nil && n > 0 {
				return n, nil
			}
		}
	}
	return 0, outcome.At(outcome.Invalid, p.path()+".valueInteger", "parameter %q is a positive integer", p.m["name"])
}

// reference reads valueReference as "Type/id" of the given type and
// returns the id.
func (p param) reference(typ string) (string, error) {
	ref, _ := p.m["valueReference"].(map[string]any)
	s, _ := ref["reference"].(string)
	id, ok := localID(s, typ)
	if !ok {
		return "", outcome.At(outcome.Invalid, p.path()+".valueReference", "parameter %q is a reference %s/id", p.m["name"], typ)
	}
	return id, nil
}

// str reads valueString (or valueCode).
func (p param) str() (string, bool) {
	for _, k := range []string{"valueString", "valueCode"} {
		if s, ok := p.m[k].(string); ok {
			return s, true
		}
	}
	return "", false
}

// parameters builds a Parameters resource from name/value pairs, where a
// value is a map holding one value[x], resource or part entry.
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

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
