package search

import (
	"slices"
	"strings"
)

// values parses the comma-separated values of the leaf clause c.
func (p *parser) values(c *Clause, key, raw string) ([]Value, error) {
	prm := c.Param
	if c.Modifier == ModMissing {
		switch raw {
		case "true", "false":
			return []Value{{Raw: raw, Missing: raw == "true"}}, nil
		}
		return nil, invalid(key, ":missing takes true or false, not %q", raw)
	}
	parts := splitEscaped(raw, ',')
	if len(parts) > 1 && !prm.MultipleOr {
		return nil, invalid(key, "%s does not take several values", prm)
	}
	var out []Value
	for _, s := range parts {
		if s == "" {
			continue
		}
		v, err := p.value(prm.Type, prm, c, key, s)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// value parses one value of type t (the parameter's, or a composite
// component's).
func (p *parser) value(t ParamType, prm *Param, c *Clause, key, s string) (Value, error) {
	v := Value{Raw: s}
	if t.takesPrefix() {
		v.Prefix, s = splitPrefix(s)
		if prm != nil && !slices.Contains(prm.Comparators, v.Prefix) && v.Prefix != Eq {
			return Value{}, invalid(key, "%s does not allow the prefix %s", prm, v.Prefix)
		}
	}
	var err error
	switch t {
	case Date:
		v.Date, err = ParseDate(unescape(s), p.opt.Location)
		v.Approx = approxDate(v.Date, p.opt.Now)
	case Number:
		v.Number, err = ParseNumber(unescape(s))
	case Quantity:
		v.Quantity, err = parseQuantity(s)
	case Special:
		if IsNear(prm) {
			v.Near, err = parseNear(s)
		} else {
			v.String = unescape(s)
		}
	case String:
		v.String = unescape(s)
	case URI:
		v.URI = unescape(s)
	case Token:
		err = p.token(&v, c.Modifier, key, s)
	case Reference:
		v.Ref = parseRef(unescape(s), c.Modifier, p.bareType(c), p.opt.BaseURL)
	case Composite:
		v.Parts, err = p.composite(prm, c, key, s)
	}
	if err != nil {
		return Value{}, invalid(key, "%s: %v", key, err)
	}
	return v, nil
}

// bareType is the type a bare id in a reference value refers to: the
// :Type modifier, or the target when the parameter has only one.
func (p *parser) bareType(c *Clause) string {
	if c.TargetType != "" {
		return c.TargetType
	}
	if len(c.Param.Target) == 1 {
		return c.Param.Target[0]
	}
	return ""
}

func (p *parser) token(v *Value, mod Modifier, key, s string) error {
	switch mod {
	case ModText:
		v.Token.Text = unescape(s)
	case ModOfType:
		t, ok := parseOfType(s)
		if !ok {
			return invalid(key, ":of-type takes system|code|value, not %q", s)
		}
		v.Token = t
	case ModIn, ModNotIn:
		v.Token.Code = unescape(s) // a ValueSet url, for the terminology service
	default:
		v.Token = parseTokenValue(s)
		if v.Token.HasSystem && v.Token.System == "" && v.Token.Code == "" {
			return invalid(key, "token %q has neither system nor code", s)
		}
	}
	return nil
}

// composite reads "part$part..." with one part per component.
func (p *parser) composite(prm *Param, c *Clause, key, s string) ([]Value, error) {
	parts := splitEscaped(s, '$')
	if len(parts) != len(prm.Components) {
		return nil, invalid(key, "%s takes %d parts separated by '$', got %d", prm, len(prm.Components), len(parts))
	}
	out := make([]Value, len(parts))
	for i, part := range parts {
		comp := prm.Components[i]
		if comp.Type == "" || comp.Type == Composite {
			return nil, invalid(key, "%s: component %s is not known", prm, comp.Definition)
		}
		sub := &Clause{Param: &Param{Code: comp.Code, Type: comp.Type, Comparators: allPrefixes, Target: nil}}
		v, err := p.value(comp.Type, sub.Param, sub, key, part)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// splitPrefix separates a comparison prefix from a value; a value without
// one has Eq.
func splitPrefix(s string) (Prefix, string) {
	if len(s) > 2 {
		pre := Prefix(s[:2])
		c := s[2]
		if slices.Contains(allPrefixes, pre) && (c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
			return pre, s[2:]
		}
	}
	return Eq, s
}

// trimLower is strings.ToLower after TrimSpace, for control values.
func trimLower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
