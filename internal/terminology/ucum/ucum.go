// Package ucum checks unit expressions against the grammar of the Unified
// Code for Units of Measure, case-sensitive form
// (https://ucum.org/ucum, §2 and the BNF of §6.1):
//
//	main-term   = "/" term | term
//	term        = term "." component | term "/" component | component
//	component   = annotatable [annotation] | annotation | factor [annotation] | "(" term ")" [annotation]
//	annotatable = simple-unit exponent | simple-unit
//	simple-unit = ATOM | PREFIX METRIC-ATOM
//	exponent    = ["+" | "-"] digits
//	factor      = digits
//	annotation  = "{" printable ASCII (space included) but "{" and "}" "}"
//
// FHIR uses UCUM (http://unitsofmeasure.org) for Quantity.code; the
// terminology service uses Validate to decide membership of UCUM codes
// without enumerating them.
package ucum

import (
	"fmt"
	"strings"
)

// maxDepth bounds the nesting of parentheses, so hostile input cannot
// exhaust the stack.
const maxDepth = 32

// SyntaxError is a unit expression that is not valid UCUM.
type SyntaxError struct {
	Unit string
	Pos  int // byte offset of the problem
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("ucum: %q at %d: %s", e.Unit, e.Pos, e.Msg)
}

// Validate returns nil when unit is a valid UCUM expression, and a
// *SyntaxError saying where and why it is not otherwise.
func Validate(unit string) error {
	p := &parser{s: unit}
	if unit == "" {
		return p.fail("empty unit")
	}
	if p.peek() == '/' {
		p.pos++
	}
	if err := p.term(0); err != nil {
		return err
	}
	if p.pos < len(p.s) {
		return p.fail(fmt.Sprintf("unexpected %q", p.s[p.pos]))
	}
	return nil
}

type parser struct {
	s   string
	pos int
}

func (p *parser) fail(msg string) error { return &SyntaxError{Unit: p.s, Pos: p.pos, Msg: msg} }

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) term(depth int) error {
	for {
		if err := p.component(depth); err != nil {
			return err
		}
		if c := p.peek(); c != '.' && c != '/' {
			return nil
		}
		p.pos++
	}
}

func (p *parser) component(depth int) error {
	switch p.peek() {
	case '(':
		if depth >= maxDepth {
			return p.fail("parentheses nested too deeply")
		}
		p.pos++
		if err := p.term(depth + 1); err != nil {
			return err
		}
		if p.peek() != ')' {
			return p.fail("missing ')'")
		}
		p.pos++
		return p.optionalAnnotation()
	case '{':
		return p.annotation()
	case 0, '.', '/', ')':
		return p.fail("expected a unit")
	}
	start := p.pos
	run, err := p.symbolRun()
	if err != nil {
		return err
	}
	if isDigits(run) {
		return p.optionalAnnotation() // a factor
	}
	symbol, _ := splitExponent(run)
	if symbol == "" {
		return &SyntaxError{Unit: p.s, Pos: start, Msg: "exponent without a unit"}
	}
	if msg := checkSimpleUnit(symbol); msg != "" {
		return &SyntaxError{Unit: p.s, Pos: start, Msg: msg}
	}
	return p.optionalAnnotation()
}

// optionalAnnotation reads an annotation if one follows. The grammar
// allows one only after a simple unit, but the reference implementations
// and the FHIR ucum-common value set ("/100{cells}", "g/(8.h){shift}")
// also put one after a factor or a parenthesised term.
func (p *parser) optionalAnnotation() error {
	if p.peek() == '{' {
		return p.annotation()
	}
	return nil
}

// symbolRun reads a simple unit and its exponent: up to the next operator,
// parenthesis or annotation, taking square brackets whole (atoms such as
// "B[10.nV]" contain '.').
func (p *parser) symbolRun() (string, error) {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '[':
			end := strings.IndexByte(p.s[p.pos:], ']')
			if end < 0 {
				return "", p.fail("missing ']'")
			}
			for _, b := range []byte(p.s[p.pos : p.pos+end]) {
				if b < 33 || b > 126 || b == '{' || b == '}' {
					return "", p.fail("bad character in square brackets")
				}
			}
			p.pos += end + 1
			continue
		case c == '.' || c == '/' || c == '(' || c == ')' || c == '{':
			return p.s[start:p.pos], nil
		case c == '}' || c == ']':
			return "", p.fail(fmt.Sprintf("unexpected %q", c))
		case c < 33 || c > 126:
			return "", p.fail(fmt.Sprintf("character %q is not allowed", c))
		}
		p.pos++
	}
	return p.s[start:p.pos], nil
}

func (p *parser) annotation() error {
	p.pos++ // '{'
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '}':
			p.pos++
			return nil
		case c == '{' || c < 32 || c > 126:
			return p.fail(fmt.Sprintf("character %q is not allowed in an annotation", c))
		}
		p.pos++
	}
	return p.fail("missing '}'")
}

// splitExponent splits "mg2" into "mg" and "2", "s-1" into "s" and "-1";
// digits inside square brackets belong to the symbol.
func splitExponent(run string) (symbol, exponent string) {
	i := len(run)
	for i > 0 && run[i-1] >= '0' && run[i-1] <= '9' {
		i--
	}
	if i == len(run) {
		return run, ""
	}
	if i > 0 && (run[i-1] == '+' || run[i-1] == '-') {
		i--
	}
	return run[:i], run[i:]
}

// checkSimpleUnit returns "" when symbol is an atom or a prefix and a
// metric atom, else what is wrong.
func checkSimpleUnit(symbol string) string {
	if _, ok := atoms[symbol]; ok {
		return ""
	}
	if strings.ContainsAny(symbol, "+-") {
		return fmt.Sprintf("%q: a sign belongs before the exponent digits", symbol)
	}
	for _, pfx := range prefixes {
		if rest, ok := strings.CutPrefix(symbol, pfx); ok {
			metric, known := atoms[rest]
			switch {
			case known && metric:
				return ""
			case known:
				return fmt.Sprintf("unit %q takes no prefix", rest)
			}
		}
	}
	return fmt.Sprintf("unknown unit %q", symbol)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
