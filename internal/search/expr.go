package search

import (
	"slices"
	"strings"
)

// SplitExpression splits a FHIRPath expression at its top-level union
// operators: "A.x | (B.y as Quantity) | C.z.where(a | b)" gives three
// alternatives. Bars inside parentheses, brackets and string literals are
// not split on.
func SplitExpression(expr string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '`' || c == '"':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == '|' && depth == 0:
			out = append(out, strings.TrimSpace(expr[start:i]))
			start = i + 1
		}
	}
	if last := strings.TrimSpace(expr[start:]); last != "" || len(out) > 0 {
		out = append(out, last)
	}
	return out
}

// leadingType returns the identifier an expression alternative starts with,
// skipping opening parentheses: "(Observation.value as Quantity)" gives
// "Observation".
func leadingType(alt string) string {
	s := strings.TrimLeft(alt, "( \t\n")
	end := 0
	for end < len(s) && isIdentChar(s[end]) {
		end++
	}
	if end == 0 || (end < len(s) && s[end] != '.' && s[end] != ' ' && s[end] != ')') {
		return ""
	}
	return s[:end]
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ExpressionFor returns the part of a multi-type expression that applies to
// resourceType: the union alternatives that start with that type, kept
// intact (.where, .as, resolve() included). An expression that is not split
// by type, like "Resource.id" for every type, is returned whole.
func ExpressionFor(expr, resourceType string) string {
	alts := SplitExpression(expr)
	var keep []string
	for _, a := range alts {
		if leadingType(a) == resourceType {
			keep = append(keep, a)
		}
	}
	if len(keep) == 0 {
		return strings.TrimSpace(expr)
	}
	return strings.Join(keep, " | ")
}

// narrowTargets restricts a reference parameter's declared targets to the
// types its expression keeps: "Observation.subject.where(resolve() is
// Patient)" can only find Patients, though clinical-patient declares
// Patient and Group for all its bases.
func narrowTargets(expr string, targets []string) []string {
	alts := SplitExpression(expr)
	if len(alts) == 0 {
		return targets
	}
	var keep []string
	for _, a := range alts {
		_, rest, ok := strings.Cut(a, "resolve() is ")
		if !ok {
			return targets
		}
		end := 0
		for end < len(rest) && isIdentChar(rest[end]) {
			end++
		}
		t := rest[:end]
		if !slices.Contains(targets, t) {
			return targets
		}
		if !slices.Contains(keep, t) {
			keep = append(keep, t)
		}
	}
	return keep
}
