package terminology

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Coding is a code of a code system, as in the FHIR Coding data type.
type Coding struct {
	System  string
	Version string
	Code    string
	Display string
}

func (c Coding) label() string {
	if c.System == "" {
		return c.Code
	}
	return c.System + "#" + c.Code
}

// QueryParameters turns the query of a GET operation request
// (GET [base]/ValueSet/$expand?url=…&filter=…) into a Parameters resource,
// every value a string; the operations accept strings for every primitive
// parameter.
func QueryParameters(q url.Values) map[string]any {
	var list []any
	for _, name := range sortedKeys(q) {
		for _, v := range q[name] {
			list = append(list, map[string]any{"name": name, "valueString": v})
		}
	}
	return map[string]any{"resourceType": "Parameters", "parameter": list}
}

// params reads the parameters of an operation from a Parameters resource
// (http://hl7.org/fhir/R4/parameters.html).
type params struct {
	op   string
	list []map[string]any
}

func readParams(op string, in map[string]any) (params, error) {
	p := params{op: op}
	if in == nil {
		return p, nil
	}
	if rt, _ := in["resourceType"].(string); rt != "Parameters" {
		return p, outcome.New(outcome.Invalid, "%s: the request body must be a Parameters resource, not %s", op, rt)
	}
	raw, _ := in["parameter"].([]any)
	for _, r := range raw {
		if m, ok := r.(map[string]any); ok {
			p.list = append(p.list, m)
		}
	}
	return p, nil
}

// value returns the value[x] of the first parameter called name.
func (p params) value(name string) (string, any, bool) {
	for _, m := range p.list {
		if n, _ := m["name"].(string); n != name {
			continue
		}
		for k, v := range m {
			if strings.HasPrefix(k, "value") {
				return k[len("value"):], v, true
			}
		}
	}
	return "", nil, false
}

// str returns a primitive parameter as a string.
func (p params) str(name string) string {
	_, v, ok := p.value(name)
	if !ok {
		return ""
	}
	return primitive(v)
}

// strs returns every value of a repeating primitive parameter.
func (p params) strs(name string) []string {
	var out []string
	for _, m := range p.list {
		if n, _ := m["name"].(string); n != name {
			continue
		}
		for k, v := range m {
			if strings.HasPrefix(k, "value") {
				out = append(out, primitive(v))
			}
		}
	}
	return out
}

func primitive(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

func (p params) boolean(name string) (bool, error) {
	s := p.str(name)
	switch s {
	case "":
		return false, nil
	case "true", "false":
		return s == "true", nil
	}
	return false, outcome.New(outcome.Invalid, "%s: parameter %s must be true or false, not %q", p.op, name, s)
}

// integer returns a non-negative integer parameter, or def when absent.
func (p params) integer(name string, def int) (int, error) {
	s := p.str(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, outcome.New(outcome.Invalid, "%s: parameter %s must be a non-negative integer, not %q", p.op, name, s)
	}
	return n, nil
}

func (p params) coding(name string) (Coding, bool) {
	typ, v, ok := p.value(name)
	m, isMap := v.(map[string]any)
	if !ok || typ != "Coding" || !isMap {
		return Coding{}, false
	}
	return codingOf(m), true
}

func (p params) codeableConcept(name string) ([]Coding, bool) {
	typ, v, ok := p.value(name)
	m, isMap := v.(map[string]any)
	if !ok || typ != "CodeableConcept" || !isMap {
		return nil, false
	}
	var out []Coding
	list, _ := m["coding"].([]any)
	for _, c := range list {
		if cm, ok := c.(map[string]any); ok {
			out = append(out, codingOf(cm))
		}
	}
	return out, true
}

func codingOf(m map[string]any) Coding {
	s := func(k string) string { v, _ := m[k].(string); return v }
	return Coding{System: s("system"), Version: s("version"), Code: s("code"), Display: s("display")}
}

// resource returns the resource parameter called name.
func (p params) resource(name string) map[string]any {
	for _, m := range p.list {
		if n, _ := m["name"].(string); n == name {
			r, _ := m["resource"].(map[string]any)
			return r
		}
	}
	return nil
}

// out builds an output Parameters resource.
type out struct{ list []any }

func (o *out) add(name, typ string, value any) {
	o.list = append(o.list, map[string]any{"name": name, "value" + typ: value})
}

func (o *out) addPart(name string, part *out) {
	o.list = append(o.list, map[string]any{"name": name, "part": part.list})
}

func (o *out) parameters() map[string]any {
	return map[string]any{"resourceType": "Parameters", "parameter": o.list}
}

func codingValue(c Coding) map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"system": c.System, "version": c.Version, "code": c.Code, "display": c.Display} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// useCoding turns a designation use "system|code" into a Coding.
func useCoding(use string) map[string]any {
	system, code, _ := strings.Cut(use, "|")
	return codingValue(Coding{System: system, Code: code})
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
