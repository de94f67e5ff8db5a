package fhirpath

import (
	"fmt"
	"math"
	"math/big"
)

// binaryFunc evaluates a binary operator node.
type binaryFunc func(e *evaluator, n *node, f frame) (Collection, error)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// newBinary builds a binary operator node
// (https://hl7.org/fhirpath/N1/#operations).
func newBinary(op string, pos Pos, l, r *node) (*node, error) {
	n := &node{kind: nBinary, op: op, pos: pos, args: []*node{l, r}}
	switch op {
	case "and", "or", "xor", "implies":
		n.binop = logicOp
	case "|":
		n.binop = unionOp
	case "=", "!=", "~", "!~":
		n.binop = equalityOp
	default:
		n.binop = valueOp
	}
	return n, nil
}

// operands evaluates both sides.
func (e *evaluator) operands(n *node, f frame) (Collection, Collection, error) {
	l, err := e.eval(n.args[0], f)
	if err != nil {
		return nil, nil, err
	}
	r, err := e.eval(n.args[1], f)
	return l, r, err
}

// logicOp implements three-valued and, or, xor, implies
// (https://hl7.org/fhirpath/N1/#boolean-logic); the right side is skipped
// when the left side decides.
func logicOp(e *evaluator, n *node, f frame) (Collection, error) {
	lc, err := e.eval(n.args[0], f)
	if err != nil {
		return nil, err
	}
	l, lok, err := singletonBool(lc)
	if err != nil {
		return nil, errorAt(n, "%s: %v", n.op, err)
	}
	switch {
	case n.op == "and" && lok && !l:
		return falseCollection, nil
	case n.op == "or" && lok && l:
		return trueCollection, nil
	case n.op == "implies" && lok && !l:
		return trueCollection, nil
	}
	rc, err := e.eval(n.args[1], f)
	if err != nil {
		return nil, err
	}
	r, rok, err := singletonBool(rc)
	if err != nil {
		return nil, errorAt(n, "%s: %v", n.op, err)
	}
	switch n.op {
	case "and":
		if rok && !r {
			return falseCollection, nil
		}
		if lok && rok {
			return trueCollection, nil
		}
	case "or":
		if rok && r {
			return trueCollection, nil
		}
		if lok && rok {
			return falseCollection, nil
		}
	case "xor":
		if lok && rok {
			return boolCollection(l != r), nil
		}
	case "implies":
		if rok && r {
			return trueCollection, nil
		}
		if lok && rok {
			return falseCollection, nil
		}
	}
	return nil, nil
}

func unionOp(e *evaluator, n *node, f frame) (Collection, error) {
	l, r, err := e.operands(n, f)
	if err != nil {
		return nil, err
	}
	return union(l, r), nil
}

// union merges two collections without duplicates.
func union(l, r Collection) Collection {
	out := make(Collection, 0, len(l)+len(r))
	var seen itemSet
	for _, c := range []Collection{l, r} {
		for _, v := range c {
			if !seen.has(v) {
				seen.add(v)
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func equalityOp(e *evaluator, n *node, f frame) (Collection, error) {
	l, r, err := e.operands(n, f)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "~":
		return boolCollection(collectionEquivalent(l, r)), nil
	case "!~":
		return boolCollection(!collectionEquivalent(l, r)), nil
	}
	eq, known := collectionEqual(l, r)
	if !known {
		return nil, nil
	}
	return boolCollection(eq == (n.op == "=")), nil
}

// valueOp implements the operators on single values: comparison,
// arithmetic, string concatenation and membership.
func valueOp(e *evaluator, n *node, f frame) (Collection, error) {
	l, r, err := e.operands(n, f)
	if err != nil {
		return nil, err
	}
	var out Collection
	switch n.op {
	case "in":
		out, err = membership(l, r)
	case "contains":
		out, err = membership(r, l)
	case "&":
		out, err = concatenate(l, r)
	default:
		if len(l) == 0 || len(r) == 0 {
			return nil, nil
		}
		if len(l) > 1 || len(r) > 1 {
			return nil, errorAt(n, "operator %s needs single values", n.op)
		}
		out, err = scalarOp(n.op, l[0], r[0])
	}
	if err != nil {
		return nil, errorAt(n, "%v", err)
	}
	return out, nil
}

func membership(item, coll Collection) (Collection, error) {
	if len(item) == 0 {
		return nil, nil
	}
	if len(item) > 1 {
		return nil, errNotSingleton
	}
	return boolCollection(contains(coll, item[0])), nil
}

func concatenate(l, r Collection) (Collection, error) {
	if len(l) > 1 || len(r) > 1 {
		return nil, errNotSingleton
	}
	var a, b string
	var err error
	if len(l) == 1 {
		if a, _, err = singletonString(l); err != nil {
			return nil, err
		}
	}
	if len(r) == 1 {
		if b, _, err = singletonString(r); err != nil {
			return nil, err
		}
	}
	if len(a)+len(b) > maxString {
		return nil, errorf("string too long")
	}
	return Collection{stringValue(a + b)}, nil
}

// maxString bounds strings built by + and &.
const maxString = 1 << 24

func scalarOp(op string, x, y Value) (Collection, error) {
	switch op {
	case "<", ">", "<=", ">=":
		c, ok, err := compareValues(x, y)
		if err != nil || !ok {
			return nil, err
		}
		switch op {
		case "<":
			return boolCollection(c < 0), nil
		case ">":
			return boolCollection(c > 0), nil
		case "<=":
			return boolCollection(c <= 0), nil
		}
		return boolCollection(c >= 0), nil
	}
	sx, okx := system(x)
	sy, oky := system(y)
	if !okx || !oky {
		if x.typ.sys != kNone && y.typ.sys != kNone {
			return nil, nil // primitives without a value
		}
		return nil, errorf("operator %s is not defined for %s and %s", op, x.typ, y.typ)
	}
	v, ok, err := arithmetic(op, sx, sy)
	if err != nil || !ok {
		return nil, err
	}
	return Collection{v}, nil
}

// arithmetic evaluates + - * / div mod on System values
// (https://hl7.org/fhirpath/N1/#math-1); ok is false for an empty result
// (division by zero, overflow).
func arithmetic(op string, x, y Value) (Value, bool, error) {
	switch a := x.data.(type) {
	case int64:
		if b, ok := y.data.(int64); ok && op != "/" {
			return intArithmetic(op, a, b)
		}
	case string:
		if b, ok := y.data.(string); ok && op == "+" {
			if len(a)+len(b) > maxString {
				return Value{}, false, errorf("string too long")
			}
			return stringValue(a + b), true, nil
		}
	case dateTime:
		if q, ok := y.data.(quantity); ok && (op == "+" || op == "-") {
			sign := 1
			if op == "-" {
				sign = -1
			}
			d, err := a.addDuration(q, sign)
			return Value{typ: x.typ, data: d}, err == nil, err
		}
	case quantity:
		return quantityArithmetic(op, a, y)
	}
	if y.typ.sys == kQuantity && (op == "*") {
		if _, isNum := toDecimal(x); isNum {
			return quantityArithmetic(op, y.data.(quantity), x)
		}
	}
	a, oka := toDecimal(x)
	b, okb := toDecimal(y)
	if !oka || !okb {
		return Value{}, false, errorf("operator %s is not defined for %s and %s", op, x.typ, y.typ)
	}
	return decimalArithmetic(op, a, b)
}

func intArithmetic(op string, a, b int64) (Value, bool, error) {
	var r int64
	switch op {
	case "+":
		r = a + b
		if (r > a) != (b > 0) {
			return Value{}, false, nil
		}
	case "-":
		r = a - b
		if (r < a) != (b > 0) {
			return Value{}, false, nil
		}
	case "*":
		if a != 0 && b != 0 {
			r = a * b
			if r/b != a || (a == -1 && b == math.MinInt64) {
				return Value{}, false, nil
			}
		}
	case "div":
		if b == 0 {
			return Value{}, false, nil
		}
		r = a / b
	case "mod":
		if b == 0 {
			return Value{}, false, nil
		}
		r = a % b
	default:
		return Value{}, false, errorf("unknown operator %s", op)
	}
	return intValue(r), true, nil
}

func decimalArithmetic(op string, a, b decimal) (Value, bool, error) {
	if !a.inRange() || !b.inRange() {
		return Value{}, false, nil
	}
	switch op {
	case "+":
		return decimalValue(a.add(b)), true, nil
	case "-":
		return decimalValue(a.sub(b)), true, nil
	case "*":
		return decimalValue(a.mul(b)), true, nil
	case "/":
		q, ok := a.div(b)
		return decimalValue(q), ok, nil
	case "div":
		q, ok := a.intDiv(b)
		if !ok || !q.IsInt64() {
			return Value{}, false, nil
		}
		return intValue(q.Int64()), true, nil
	case "mod":
		m, ok := a.mod(b)
		return decimalValue(m), ok, nil
	}
	return Value{}, false, errorf("unknown operator %s", op)
}

// quantityArithmetic evaluates q op y where y is a quantity or a number.
func quantityArithmetic(op string, q quantity, y Value) (Value, bool, error) {
	if !q.Value.inRange() {
		return Value{}, false, nil
	}
	if d, isNum := toDecimal(y); isNum {
		switch op {
		case "*":
			return quantityValue(quantity{Value: q.Value.mul(d), Unit: q.Unit}), true, nil
		case "/":
			v, ok := q.Value.div(d)
			return quantityValue(quantity{Value: v, Unit: q.Unit}), ok, nil
		}
		return Value{}, false, errorf("operator %s is not defined for quantity and %s", op, y.typ)
	}
	b, ok := y.data.(quantity)
	if !ok {
		return Value{}, false, errorf("operator %s is not defined for quantity and %s", op, y.typ)
	}
	switch op {
	case "+", "-":
		bc, ok := convertTo(b, q.Unit)
		if !ok {
			return Value{}, false, nil
		}
		v := q.Value.add(bc.Value)
		if op == "-" {
			v = q.Value.sub(bc.Value)
		}
		return quantityValue(quantity{Value: v, Unit: q.Unit}), true, nil
	case "*":
		return quantityValue(quantity{Value: q.Value.mul(b.Value), Unit: mulUnits(q.Unit, b.Unit)}), true, nil
	case "/":
		v, ok := q.Value.div(b.Value)
		if bc, same := convertTo(b, q.Unit); same {
			v, ok = q.Value.div(bc.Value)
			return quantityValue(quantity{Value: v, Unit: "1"}), ok, nil
		}
		return quantityValue(quantity{Value: v, Unit: divUnits(q.Unit, b.Unit)}), ok, nil
	}
	return Value{}, false, errorf("operator %s is not defined for quantities", op)
}

// bigOne is 1 as a rational, shared read-only.
var bigOne = big.NewRat(1, 1)
