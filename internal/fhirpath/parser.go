package fhirpath

import (
	"fmt"
	"strings"
)

// maxDepth bounds the nesting of an expression (parser recursion) and of
// evaluation, so that hostile input cannot exhaust the stack.
const maxDepth = 200

// nodeKind is the kind of an AST node.
type nodeKind uint8

const (
	nLiteral nodeKind = iota // lit
	nVar                     // %name
	nThis                    // $this
	nIndex                   // $index
	nTotal                   // $total
	nMember                  // target.name, or name on $this when target is nil
	nFunc                    // target.name(args), or name(args) on $this
	nIndexer                 // target[args[0]]
	nUnary                   // op args[0]
	nBinary                  // args[0] op args[1]
	nTypeOp                  // args[0] is/as typ
)

// node is one node of a compiled expression; immutable after Compile.
type node struct {
	kind   nodeKind
	op     string
	name   string
	pos    Pos
	target *node
	args   []*node
	lit    Collection
	fn     *function
	typ    *Type // is/as operators and is/as/ofType functions
	binop  binaryFunc
}

// parser is a recursive-descent parser with precedence climbing.
type parser struct {
	lex   *lexer
	tok   token
	ahead []token
	depth int
}

// binary operator precedences, lowest first
// (https://hl7.org/fhirpath/N1/#operator-precedence).
var precedence = map[string]int{
	"implies": 1,
	"or":      2, "xor": 2,
	"and": 3,
	"in":  4, "contains": 4,
	"=": 5, "~": 5, "!=": 5, "!~": 5,
	"<": 6, ">": 6, "<=": 6, ">=": 6,
	"|":  7,
	"is": 8, "as": 8,
	"+": 9, "-": 9, "&": 9,
	"*": 10, "/": 10, "div": 10, "mod": 10,
}

// keywords cannot be used as plain identifiers.
var keywords = map[string]bool{
	"and": true, "or": true, "xor": true, "implies": true, "div": true, "mod": true,
	"true": true, "false": true,
}

func parse(src string) (*node, error) {
	p := &parser{lex: newLexer(src)}
	if err := p.advance(); err != nil {
		return nil, err
	}
	n, err := p.expr(1)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errorf("unexpected %s", describe(p.tok))
	}
	return n, nil
}

func (p *parser) errorf(format string, args ...any) error {
	return p.lex.errorf(p.tok.pos, format, args...)
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return "string '" + t.text + "'"
	}
	return "'" + t.text + "'"
}

func (p *parser) advance() error {
	if len(p.ahead) > 0 {
		p.tok, p.ahead = p.ahead[0], p.ahead[1:]
		return nil
	}
	t, err := p.lex.next()
	p.tok = t
	return err
}

// peek returns the token after the current one.
func (p *parser) peek() (token, error) {
	if len(p.ahead) == 0 {
		t, err := p.lex.next()
		if err != nil {
			return token{}, err
		}
		p.ahead = append(p.ahead, t)
	}
	return p.ahead[0], nil
}

func (p *parser) isOp(s string) bool { return p.tok.kind == tOp && p.tok.text == s }

func (p *parser) expect(s string) error {
	if !p.isOp(s) {
		return p.errorf("expected '%s' but found %s", s, describe(p.tok))
	}
	return p.advance()
}

// binaryOp returns the operator at the current token, if it is one.
func (p *parser) binaryOp() (string, int) {
	switch p.tok.kind {
	case tOp:
		prec, ok := precedence[p.tok.text]
		if ok {
			return p.tok.text, prec
		}
	case tIdent:
		if !p.tok.delimited {
			if prec, ok := precedence[p.tok.text]; ok {
				return p.tok.text, prec
			}
		}
	}
	return "", 0
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("expression nested too deeply")
	}
	return nil
}

// expr parses a binary expression whose operators bind at least as tightly as minPrec.
func (p *parser) expr(minPrec int) (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		op, prec := p.binaryOp()
		if op == "" || prec < minPrec {
			return left, nil
		}
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		if op == "is" || op == "as" {
			name, err := p.qualifiedName()
			if err != nil {
				return nil, err
			}
			t, err := lookupTypeSpec(name)
			if err != nil {
				return nil, &SyntaxError{Pos: pos, Msg: err.Error()}
			}
			left = &node{kind: nTypeOp, op: op, pos: pos, args: []*node{left}, typ: t}
			continue
		}
		right, err := p.expr(prec + 1)
		if err != nil {
			return nil, err
		}
		left, err = newBinary(op, pos, left, right)
		if err != nil {
			return nil, err
		}
	}
}

// qualifiedName parses a type specifier such as Quantity or FHIR.`Patient`.
func (p *parser) qualifiedName() (string, error) {
	var parts []string
	for {
		if p.tok.kind != tIdent {
			return "", p.errorf("expected a type name but found %s", describe(p.tok))
		}
		parts = append(parts, p.tok.text)
		if err := p.advance(); err != nil {
			return "", err
		}
		if !p.isOp(".") {
			return strings.Join(parts, "."), nil
		}
		next, err := p.peek()
		if err != nil {
			return "", err
		}
		if next.kind != tIdent {
			return strings.Join(parts, "."), nil
		}
		if err := p.advance(); err != nil {
			return "", err
		}
	}
}

func (p *parser) unary() (*node, error) {
	if p.isOp("+") || p.isOp("-") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		op, pos := p.tok.text, p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		operand, err := p.unary()
		if err != nil {
			return nil, err
		}
		return foldUnary(&node{kind: nUnary, op: op, pos: pos, args: []*node{operand}}), nil
	}
	return p.postfix()
}

// postfix parses a term followed by invocations and indexers.
func (p *parser) postfix() (*node, error) {
	n, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			if err := p.advance(); err != nil {
				return nil, err
			}
			n, err = p.invocation(n)
			if err != nil {
				return nil, err
			}
		case p.isOp("["):
			pos := p.tok.pos
			if err := p.advance(); err != nil {
				return nil, err
			}
			idx, err := p.expr(1)
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			n = &node{kind: nIndexer, pos: pos, target: n, args: []*node{idx}}
		default:
			return n, nil
		}
	}
}

// invocation parses what follows a '.' (or starts a term): a name, a function call or $this.
func (p *parser) invocation(target *node) (*node, error) {
	t := p.tok
	switch t.kind {
	case tSpecial:
		if err := p.advance(); err != nil {
			return nil, err
		}
		return specialNode(t, target), nil
	case tIdent:
		if !t.delimited && keywords[t.text] {
			return nil, p.errorf("unexpected keyword '%s'", t.text)
		}
	default:
		return nil, p.errorf("expected a name but found %s", describe(t))
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if !p.isOp("(") || t.delimited {
		if err := checkCastMember(target, t); err != nil {
			return nil, err
		}
		return &node{kind: nMember, name: t.text, pos: t.pos, target: target}, nil
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var args []*node
	for !p.isOp(")") {
		if len(args) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		a, err := p.expr(1)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return newFunc(t, target, args)
}

func specialNode(t token, target *node) *node {
	k := map[string]nodeKind{"this": nThis, "index": nIndex, "total": nTotal}[t.text]
	n := &node{kind: k, pos: t.pos}
	if target != nil {
		// x.$this is x's items themselves: evaluate as a select.
		return &node{kind: nFunc, name: "select", pos: t.pos, target: target, args: []*node{n}, fn: functions["select"]}
	}
	return n
}

// term parses a literal, a variable, a parenthesised expression or an invocation.
func (p *parser) term() (*node, error) {
	t := p.tok
	switch t.kind {
	case tNumber:
		return p.numberOrQuantity()
	case tString:
		return p.literal(t, stringValue(t.text))
	case tDate:
		dt, err := parseDateTimeLiteral(t.text)
		if err != nil {
			return nil, &SyntaxError{Pos: t.pos, Msg: err.Error()}
		}
		return p.literal(t, dt)
	case tTime:
		tm, err := parseTime(t.text)
		if err != nil {
			return nil, &SyntaxError{Pos: t.pos, Msg: err.Error()}
		}
		return p.literal(t, tm)
	case tVar:
		if err := p.advance(); err != nil {
			return nil, err
		}
		return &node{kind: nVar, name: t.text, pos: t.pos}, nil
	case tIdent:
		if !t.delimited && (t.text == "true" || t.text == "false") {
			return p.literal(t, boolValue(t.text == "true"))
		}
		return p.invocation(nil)
	case tSpecial:
		return p.invocation(nil)
	case tOp:
		switch t.text {
		case "(":
			if err := p.advance(); err != nil {
				return nil, err
			}
			n, err := p.expr(1)
			if err != nil {
				return nil, err
			}
			return n, p.expect(")")
		case "{":
			if err := p.advance(); err != nil {
				return nil, err
			}
			if err := p.expect("}"); err != nil {
				return nil, err
			}
			return &node{kind: nLiteral, pos: t.pos}, nil
		}
	}
	return nil, p.errorf("unexpected %s", describe(t))
}

func (p *parser) literal(t token, v Value) (*node, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	return &node{kind: nLiteral, pos: t.pos, lit: Collection{v}}, nil
}

// numberOrQuantity parses 12, 1.5, 4 'mg' or 7 days.
func (p *parser) numberOrQuantity() (*node, error) {
	t := p.tok
	if err := p.advance(); err != nil {
		return nil, err
	}
	num, ok := parseNumber(t.text)
	if !ok {
		return nil, &SyntaxError{Pos: t.pos, Msg: "number out of range"}
	}
	unit := ""
	switch {
	case p.tok.kind == tString:
		unit = p.tok.text
	case p.tok.kind == tIdent && !p.tok.delimited && calendarUnits[p.tok.text] != "":
		unit = p.tok.text
	default:
		return &node{kind: nLiteral, pos: t.pos, lit: Collection{num}}, nil
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	d, _ := toDecimal(num)
	return &node{kind: nLiteral, pos: t.pos, lit: Collection{quantityValue(quantity{Value: d, Unit: unit})}}, nil
}

// foldUnary turns -literal into a negative literal at compile time.
func foldUnary(n *node) *node {
	a := n.args[0]
	if a.kind != nLiteral || len(a.lit) != 1 {
		return n
	}
	if n.op == "+" {
		if _, ok := numeric(a.lit[0]); ok {
			return a
		}
		return n
	}
	if v, err := negate(a.lit[0]); err == nil {
		return &node{kind: nLiteral, pos: n.pos, lit: Collection{v}}
	}
	return n
}

// checkCastMember rejects, at compile time, navigation from a cast to a
// complex type that has no such element: (x as Period).unit.
func checkCastMember(target *node, t token) error {
	if target == nil || target.typ == nil || target.typ.node == nil {
		return nil
	}
	if target.kind == nTypeOp && target.op == "as" || target.kind == nFunc && (target.name == "as" || target.name == "ofType") {
		if target.typ.node.fields[t.text] == nil {
			return &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("%s has no element %q", target.typ.Name, t.text)}
		}
	}
	return nil
}
