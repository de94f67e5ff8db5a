package fhirpath

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Expression is a compiled FHIRPath expression. It is immutable: one
// Expression may be evaluated by many goroutines at once.
type Expression struct {
	src  string
	root *node
}

// Compile parses expr. A *SyntaxError carries the line and column of the
// problem; unknown functions, wrong argument counts and unknown type names
// are reported at compile time too.
func Compile(expr string) (*Expression, error) {
	root, err := parse(expr)
	if err != nil {
		return nil, err
	}
	return &Expression{src: expr, root: root}, nil
}

// MustCompile is like Compile but panics on error; for expressions fixed in the source.
func MustCompile(expr string) *Expression {
	e, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the source text of the expression.
func (e *Expression) String() string { return e.src }

// Terminology answers value-set membership for memberOf(). known is false
// when the value set is not available; memberOf() then returns empty.
type Terminology interface {
	MemberOf(valueSet, system, code string) (member, known bool)
}

// Options carries everything an evaluation may use from outside. The zero
// value is valid; a nil *Options is the zero value.
type Options struct {
	// Resource is %resource: the resource that contains the input. When nil
	// it is the input, if the input is a resource.
	Resource map[string]any
	// RootResource is %rootResource: the container of a contained resource.
	// When nil it is Resource.
	RootResource map[string]any
	// Bundle is a Bundle the input was taken from; resolve() finds entries
	// there (by fullUrl or type/id) besides the resource's contained resources.
	Bundle map[string]any
	// Env holds the environment variables %name; values are converted with ValueOf.
	Env map[string]any
	// Resolver resolves references resolve() cannot find in the resource,
	// its contained resources or the Bundle; nil resolves nothing more.
	Resolver func(ref string) map[string]any
	// Terminology answers memberOf(); nil makes memberOf() return empty.
	Terminology Terminology
	// Now is the time now(), today() and timeOfDay() return; zero means the clock.
	Now time.Time
	// Trace receives trace() output; nil discards it.
	Trace func(name string, c Collection)
	// CheckOrderedFunctions makes functions that depend on order (first,
	// skip, [n] …) fail on the unordered output of children() and
	// descendants(), as the specification allows.
	CheckOrderedFunctions bool
}

// EvalError is an evaluation error with the position of the expression part at fault.
type EvalError struct {
	Pos Pos
	Msg string
}

// Error formats the message with the line and column of the failing part.
func (e *EvalError) Error() string {
	return fmt.Sprintf("fhirpath: evaluation error at line %d, column %d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

var errDepth = errors.New("evaluation nested too deeply")

// Evaluate runs the expression with input as %context and $this: a
// resource or element (map[string]any), a Collection or Value, any Go value
// ValueOf accepts, or nil for none. ctx cancels long evaluations.
func (e *Expression) Evaluate(ctx context.Context, input any, opts *Options) (Collection, error) {
	return e.EvaluateAppend(ctx, nil, input, opts)
}

// EvaluateAppend is Evaluate appending the result to dst, so that a caller
// evaluating many expressions (search indexing) can reuse one buffer and
// evaluate without allocating. On error it returns dst unchanged.
func (e *Expression) EvaluateAppend(ctx context.Context, dst Collection, input any, opts *Options) (Collection, error) {
	ev := newEvaluator(ctx, input, opts)
	defer ev.release()
	out, err := ev.eval(e.root, frame{this: ev.input})
	if err != nil {
		return dst, err
	}
	// the result may live in the evaluator's reused memory: hand out a copy.
	return append(dst, out...), nil
}

// EvalBool evaluates an invariant or filter: the result must be empty or a
// single Boolean (a single non-Boolean item counts as true, as in
// https://hl7.org/fhirpath/N1/#singleton-evaluation-of-collections).
// ok is false when the result is empty, which callers usually treat as
// "not violated" for invariants and "not matched" for filters.
func (e *Expression) EvalBool(ctx context.Context, input any, opts *Options) (value, ok bool, err error) {
	c, err := e.Evaluate(ctx, input, opts)
	if err != nil {
		return false, false, err
	}
	b, ok, err := singletonBool(c)
	return b, ok, err
}

// Cache memoises Compile for ad-hoc expressions; safe for concurrent use.
// The zero value is ready to use.
type Cache struct{ m sync.Map }

// Compile returns the compiled expression, compiling it on first use.
func (c *Cache) Compile(expr string) (*Expression, error) {
	if v, ok := c.m.Load(expr); ok {
		return v.(*Expression), nil
	}
	x, err := Compile(expr)
	if err != nil {
		return nil, err
	}
	v, _ := c.m.LoadOrStore(expr, x)
	return v.(*Expression), nil
}

// evaluator is the state of one evaluation; never shared between goroutines.
type evaluator struct {
	opts      *Options
	ctx       context.Context
	input     Collection
	resource  Collection
	root      Collection
	now       time.Time
	depth     int
	steps     int
	variables map[string]Collection // defineVariable()

	// Memory reused between evaluations (evaluators are pooled): the
	// %context/%resource/%rootResource items, a scratch buffer for
	// navigation and a slab that intermediate collections are cut from.
	buf     [3]Value
	scratch Collection
	slab    Collection
	args    []Collection // a stack of evaluated function arguments
}

var (
	noOptions     = &Options{}
	evaluatorPool = sync.Pool{New: func() any { return new(evaluator) }}
)

func newEvaluator(ctx context.Context, input any, opts *Options) *evaluator {
	if opts == nil {
		opts = noOptions
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ev := evaluatorPool.Get().(*evaluator)
	ev.opts, ev.ctx = opts, ctx
	ev.input = ev.collectionOf(input, 0)
	switch {
	case opts.Resource != nil:
		ev.resource = ev.collectionOf(opts.Resource, 1)
	case len(ev.input) == 1 && ev.input[0].typ.resource:
		ev.resource = ev.input
	}
	if opts.RootResource != nil {
		ev.root = ev.collectionOf(opts.RootResource, 2)
	} else {
		ev.root = ev.resource
	}
	return ev
}

// collectionOf is ValueOf without allocating for the usual map input.
func (e *evaluator) collectionOf(x any, slot int) Collection {
	if m, ok := x.(map[string]any); ok && m != nil {
		e.buf[slot] = objectValue(m)
		return e.buf[slot : slot+1 : slot+1]
	}
	return ValueOf(x)
}

// release clears the evaluator and returns it to the pool.
func (e *evaluator) release() {
	clear(e.slab)
	clear(e.scratch[:cap(e.scratch)])
	clear(e.args[:cap(e.args)])
	*e = evaluator{scratch: e.scratch[:0], slab: e.slab[:0], args: e.args[:0]}
	evaluatorPool.Put(e)
}

// take cuts a collection of n items from the slab; it is valid until release.
func (e *evaluator) take(n int) Collection {
	if n > cap(e.slab)-len(e.slab) {
		e.slab = make(Collection, 0, max(n, 256))
	}
	l := len(e.slab)
	e.slab = e.slab[:l+n]
	return e.slab[l : l+n : l+n]
}

// clock returns the evaluation's now, fixed for the whole evaluation.
func (e *evaluator) clock() time.Time {
	if e.now.IsZero() {
		e.now = e.opts.Now
		if e.now.IsZero() {
			e.now = time.Now()
		}
	}
	return e.now
}

// frame is the lexical context of a (sub)expression: $this, $index, $total.
type frame struct {
	this     Collection
	total    Collection
	index    int
	hasIndex bool
	hasTotal bool
}

func errorAt(n *node, format string, args ...any) error {
	return &EvalError{Pos: n.pos, Msg: fmt.Sprintf(format, args...)}
}

// eval evaluates n in frame f.
func (e *evaluator) eval(n *node, f frame) (Collection, error) {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxDepth*4 {
		return nil, errorAt(n, "%v", errDepth)
	}
	if e.steps++; e.steps&1023 == 0 {
		if err := e.ctx.Err(); err != nil {
			return nil, err
		}
	}
	out, err := e.evalNode(n, f)
	if len(out) > maxItems {
		return nil, errorAt(n, "collection of %d items is too large", len(out))
	}
	return out, err
}

// maxItems bounds the size of any intermediate collection.
const maxItems = 1 << 20

func (e *evaluator) evalNode(n *node, f frame) (Collection, error) {
	switch n.kind {
	case nLiteral:
		return n.lit, nil
	case nVar:
		return e.variable(n)
	case nThis:
		return f.this, nil
	case nIndex:
		if !f.hasIndex {
			return nil, errorAt(n, "$index is only defined inside an iteration")
		}
		return Collection{intValue(int64(f.index))}, nil
	case nTotal:
		if !f.hasTotal {
			return nil, errorAt(n, "$total is only defined inside aggregate()")
		}
		return f.total, nil
	case nMember:
		return e.member(n, f)
	case nFunc:
		return e.call(n, f)
	case nIndexer:
		return e.indexer(n, f)
	case nUnary:
		return e.unary(n, f)
	case nBinary:
		return n.binop(e, n, f)
	case nTypeOp:
		return e.typeOp(n, f)
	}
	return nil, errorAt(n, "unknown expression")
}

// variable resolves %name: the fixed FHIR constants, then the caller's environment.
func (e *evaluator) variable(n *node) (Collection, error) {
	switch n.name {
	case "context":
		return e.input, nil
	case "resource":
		return e.resource, nil
	case "rootResource":
		return e.root, nil
	case "ucum":
		return Collection{stringValue("http://unitsofmeasure.org")}, nil
	case "sct":
		return Collection{stringValue("http://snomed.info/sct")}, nil
	case "loinc":
		return Collection{stringValue("http://loinc.org")}, nil
	case "us-zip":
		return Collection{stringValue("[0-9]{5}(-[0-9]{4}){0,1}")}, nil
	}
	if v, ok := e.variables[n.name]; ok {
		return v, nil
	}
	if v, ok := e.opts.Env[n.name]; ok {
		return ValueOf(v), nil
	}
	if len(n.name) > 3 && n.name[:3] == "vs-" {
		return Collection{stringValue("http://hl7.org/fhir/ValueSet/" + n.name[3:])}, nil
	}
	if len(n.name) > 4 && n.name[:4] == "ext-" {
		return Collection{stringValue("http://hl7.org/fhir/StructureDefinition/" + n.name[4:])}, nil
	}
	return nil, errorAt(n, "unknown variable %%%s", n.name)
}

// call evaluates a function invocation.
func (e *evaluator) call(n *node, f frame) (Collection, error) {
	in := f.this
	if n.target != nil {
		var err error
		if in, err = e.eval(n.target, f); err != nil {
			return nil, err
		}
	}
	fn := n.fn
	if e.opts.CheckOrderedFunctions && orderedFunctions[n.name] && unordered(n.target) {
		return nil, errorAt(n, "%s() needs an ordered collection; children() and descendants() are not", n.name)
	}
	if fn.lazy != nil {
		return fn.lazy(e, n, f, in)
	}
	base := len(e.args)
	for _, a := range n.args {
		c, err := e.eval(a, f)
		if err != nil {
			e.args = e.args[:base]
			return nil, err
		}
		e.args = append(e.args, c)
	}
	out, err := fn.eager(e, n, in, e.args[base:len(e.args):len(e.args)])
	e.args = e.args[:base]
	if err != nil {
		if _, ok := err.(*EvalError); !ok && err != context.Canceled && err != context.DeadlineExceeded {
			err = errorAt(n, "%s(): %v", n.name, err)
		}
	}
	return out, err
}

// orderedFunctions depend on the order of their input.
var orderedFunctions = map[string]bool{"first": true, "last": true, "tail": true, "skip": true, "take": true}

func unordered(n *node) bool {
	return n != nil && n.kind == nFunc && (n.name == "children" || n.name == "descendants")
}

func (e *evaluator) indexer(n *node, f frame) (Collection, error) {
	in, err := e.eval(n.target, f)
	if err != nil {
		return nil, err
	}
	idx, err := e.eval(n.args[0], f)
	if err != nil || len(idx) == 0 {
		return nil, err
	}
	i, ok, err := singletonInt(idx)
	if err != nil || !ok {
		return nil, errorAt(n, "index must be an integer")
	}
	if i < 0 || i >= int64(len(in)) {
		return nil, nil
	}
	return in[i : i+1 : i+1], nil
}

func (e *evaluator) unary(n *node, f frame) (Collection, error) {
	c, err := e.eval(n.args[0], f)
	if err != nil || len(c) == 0 {
		return nil, err
	}
	if len(c) > 1 {
		return nil, errorAt(n, "unary %s needs a single value", n.op)
	}
	v := c[0]
	if _, ok := numeric(v); !ok {
		return nil, errorAt(n, "unary %s needs a number or quantity, not %s", n.op, v.typ)
	}
	if n.op == "+" {
		return c, nil
	}
	r, err := negate(v)
	if err != nil {
		return nil, errorAt(n, "%v", err)
	}
	return Collection{r}, nil
}

// typeOp evaluates "x is T" and "x as T".
func (e *evaluator) typeOp(n *node, f frame) (Collection, error) {
	c, err := e.eval(n.args[0], f)
	if err != nil || len(c) == 0 {
		return nil, err
	}
	if n.op == "is" {
		if len(c) > 1 {
			return nil, errorAt(n, "'is' needs a single value")
		}
		return boolCollection(isType(c[0], n.typ)), nil
	}
	return ofType(c, n.typ), nil
}
