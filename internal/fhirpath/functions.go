package fhirpath

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// function is one FHIRPath function. Eager functions receive their arguments
// evaluated in the caller's frame; lazy ones (where, select, iif …) receive
// the argument nodes and evaluate them per item.
type function struct {
	min, max int
	eager    func(e *evaluator, n *node, in Collection, args []Collection) (Collection, error)
	lazy     func(e *evaluator, n *node, f frame, in Collection) (Collection, error)
	typeArg  bool // the argument is a type specifier (is, as, ofType)
}

// functions is the function table, filled by init in the functions*.go files.
var functions = map[string]*function{}

func register(table map[string]*function) {
	for name, f := range table {
		functions[name] = f
	}
}

func init() {
	register(map[string]*function{
		// existence (https://hl7.org/fhirpath/N1/#existence)
		"empty":      {eager: fnEmpty},
		"exists":     {max: 1, lazy: fnExists},
		"all":        {min: 1, max: 1, lazy: fnAll},
		"allTrue":    {eager: boolAggregate(true, true)},
		"anyTrue":    {eager: boolAggregate(false, true)},
		"allFalse":   {eager: boolAggregate(true, false)},
		"anyFalse":   {eager: boolAggregate(false, false)},
		"subsetOf":   {min: 1, max: 1, eager: fnSubsetOf},
		"supersetOf": {min: 1, max: 1, eager: fnSupersetOf},
		"count":      {eager: fnCount},
		"distinct": {eager: func(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
			return distinct(in), nil
		}},
		"isDistinct": {eager: fnIsDistinct},
		// filtering and projection
		"where":  {min: 1, max: 1, lazy: fnWhere},
		"select": {min: 1, max: 1, lazy: fnSelect},
		"repeat": {min: 1, max: 1, lazy: fnRepeat},
		"ofType": {min: 1, max: 1, typeArg: true, lazy: fnOfType},
		// subsetting
		"single":    {eager: fnSingle},
		"first":     {eager: fnFirst},
		"last":      {eager: fnLast},
		"tail":      {eager: fnTail},
		"skip":      {min: 1, max: 1, eager: fnSkip},
		"take":      {min: 1, max: 1, eager: fnTake},
		"intersect": {min: 1, max: 1, eager: fnIntersect},
		"exclude":   {min: 1, max: 1, eager: fnExclude},
		// combining
		"union": {min: 1, max: 1, eager: func(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
			return union(in, a[0]), nil
		}},
		"combine": {min: 1, max: 1, eager: fnCombine},
		// logic, types, aggregates
		"not":            {eager: fnNot},
		"iif":            {min: 2, max: 3, lazy: fnIif},
		"is":             {min: 1, max: 1, typeArg: true, lazy: fnIs},
		"as":             {min: 1, max: 1, typeArg: true, lazy: fnAs},
		"type":           {eager: fnType},
		"aggregate":      {min: 1, max: 2, lazy: fnAggregate},
		"sort":           {max: 8, lazy: fnSort},
		"trace":          {min: 1, max: 2, lazy: fnTrace},
		"defineVariable": {min: 1, max: 2, lazy: fnDefineVariable},
	})
}

// newFunc builds a function call node, checking the name and argument count.
func newFunc(t token, target *node, args []*node) (*node, error) {
	fn := functions[t.text]
	if fn == nil {
		return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("unknown function %s()", t.text)}
	}
	if len(args) < fn.min || len(args) > fn.max {
		return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("%s() takes %s arguments, not %d", t.text, arity(fn), len(args))}
	}
	n := &node{kind: nFunc, name: t.text, pos: t.pos, target: target, args: args, fn: fn}
	if fn.typeArg {
		name, ok := typeName(args[0])
		if !ok {
			return nil, &SyntaxError{Pos: args[0].pos, Msg: t.text + "() needs a type name"}
		}
		typ, err := lookupTypeSpec(name)
		if err != nil {
			return nil, &SyntaxError{Pos: args[0].pos, Msg: err.Error()}
		}
		n.typ = typ
	}
	return n, nil
}

func arity(f *function) string {
	if f.min == f.max {
		return fmt.Sprint(f.min)
	}
	return fmt.Sprintf("%d to %d", f.min, f.max)
}

// typeName reads a type specifier parsed as a path: FHIR.Patient → "FHIR.Patient".
func typeName(n *node) (string, bool) {
	if n.kind != nMember {
		return "", false
	}
	if n.target == nil {
		return n.name, true
	}
	prefix, ok := typeName(n.target)
	return prefix + "." + n.name, ok
}

// iterate evaluates arg once per item of in, with $this and $index set.
func (e *evaluator) iterate(arg *node, f frame, in Collection, visit func(i int, r Collection) (bool, error)) error {
	for i := range in {
		r, err := e.eval(arg, frame{this: in[i : i+1 : i+1], index: i, hasIndex: true, total: f.total, hasTotal: f.hasTotal})
		if err != nil {
			return err
		}
		stop, err := visit(i, r)
		if err != nil || stop {
			return err
		}
	}
	return nil
}

func fnEmpty(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	return boolCollection(len(in) == 0), nil
}

func fnExists(e *evaluator, n *node, f frame, in Collection) (Collection, error) {
	if len(n.args) == 0 {
		return boolCollection(len(in) > 0), nil
	}
	found := false
	err := e.iterate(n.args[0], f, in, func(_ int, r Collection) (bool, error) {
		b, ok, err := singletonBool(r)
		found = ok && b
		return found, err
	})
	return boolCollection(found), err
}

func fnAll(e *evaluator, n *node, f frame, in Collection) (Collection, error) {
	all := true
	err := e.iterate(n.args[0], f, in, func(_ int, r Collection) (bool, error) {
		b, ok, err := singletonBool(r)
		all = ok && b
		return !all, err
	})
	return boolCollection(all), err
}

// boolAggregate makes allTrue (all, true), anyTrue, allFalse and anyFalse.
func boolAggregate(all, want bool) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
		for _, v := range in {
			b, _, err := strictBool(Collection{v})
			if err != nil {
				return nil, err
			}
			if all && b != want {
				return falseCollection, nil
			}
			if !all && b == want {
				return trueCollection, nil
			}
		}
		return boolCollection(all), nil
	}
}

func fnSubsetOf(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	other := newItemSet(a[0])
	for _, v := range in {
		if !other.has(v) {
			return falseCollection, nil
		}
	}
	return trueCollection, nil
}

func fnSupersetOf(e *evaluator, n *node, in Collection, a []Collection) (Collection, error) {
	return fnSubsetOf(e, n, a[0], []Collection{in})
}

func fnCount(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	return Collection{intValue(int64(len(in)))}, nil
}

func fnIsDistinct(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	return boolCollection(len(distinct(in)) == len(in)), nil
}

func fnWhere(e *evaluator, n *node, f frame, in Collection) (Collection, error) {
	var out Collection
	err := e.iterate(n.args[0], f, in, func(i int, r Collection) (bool, error) {
		b, ok, err := singletonBool(r)
		if ok && b {
			out = append(out, in[i])
		}
		return false, err
	})
	return out, err
}

func fnSelect(e *evaluator, n *node, f frame, in Collection) (Collection, error) {
	if len(in) == 1 {
		return e.eval(n.args[0], frame{this: in, hasIndex: true, total: f.total, hasTotal: f.hasTotal})
	}
	var out Collection
	err := e.iterate(n.args[0], f, in, func(_ int, r Collection) (bool, error) {
		out = append(out, r...)
		return false, nil
	})
	return out, err
}

// maxRepeat bounds the output of repeat() and descendants().
const maxRepeat = 1 << 17

func fnRepeat(e *evaluator, n *node, f frame, in Collection) (Collection, error) {
	var out Collection
	seen := map[uintptr]bool{}
	var seenItems itemSet
	queue := in
	for len(queue) > 0 {
		var next Collection
		err := e.iterate(n.args[0], f, queue, func(_ int, r Collection) (bool, error) {
			for _, v := range r {
				if isObject(v) {
					p := reflect.ValueOf(v.data).Pointer()
					if seen[p] {
						continue
					}
					seen[p] = true
				} else if seenItems.has(v) {
					continue
				} else {
					seenItems.add(v)
				}
				out = append(out, v)
				next = append(next, v)
			}
			if len(out) > maxRepeat {
				return true, errorAt(n, "repeat() produced too many items")
			}
			return false, nil
		})
		if err != nil {
			return nil, err
		}
		queue = next
	}
	return out, nil
}

func isObject(v Value) bool { _, ok := v.data.(map[string]any); return ok }

func fnOfType(_ *evaluator, n *node, _ frame, in Collection) (Collection, error) {
	return ofType(in, n.typ), nil
}

func fnSingle(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	if len(in) > 1 {
		return nil, errNotSingleton
	}
	return in, nil
}

func fnFirst(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	if len(in) == 0 {
		return nil, nil
	}
	return in[:1:1], nil
}

func fnLast(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	if len(in) == 0 {
		return nil, nil
	}
	return in[len(in)-1:], nil
}

func fnTail(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	if len(in) < 2 {
		return nil, nil
	}
	return in[1:], nil
}

func fnSkip(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	k, ok, err := singletonInt(a[0])
	if err != nil || !ok {
		return nil, err
	}
	if k <= 0 {
		return in, nil
	}
	if k >= int64(len(in)) {
		return nil, nil
	}
	return in[k:], nil
}

func fnTake(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	k, ok, err := singletonInt(a[0])
	if err != nil || !ok || k <= 0 {
		return nil, err
	}
	if k >= int64(len(in)) {
		return in, nil
	}
	return in[:k:k], nil
}

func fnIntersect(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	var out Collection
	other := newItemSet(a[0])
	var seen itemSet
	for _, v := range in {
		if other.has(v) && !seen.has(v) {
			seen.add(v)
			out = append(out, v)
		}
	}
	return out, nil
}

func fnExclude(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	var out Collection
	other := newItemSet(a[0])
	for _, v := range in {
		if !other.has(v) {
			out = append(out, v)
		}
	}
	return out, nil
}

func fnCombine(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	out := make(Collection, 0, len(in)+len(a[0]))
	return append(append(out, in...), a[0]...), nil
}

func fnNot(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	b, ok, err := singletonBool(in)
	if err != nil || !ok {
		return nil, err
	}
	return boolCollection(!b), nil
}

// fnIif evaluates only the branch it needs; with an input, $this is that item.
func fnIif(e *evaluator, n *node, f frame, in Collection) (Collection, error) {
	if n.target != nil {
		if len(in) > 1 {
			return nil, errorAt(n, "iif() needs at most one input item")
		}
		f.this = in
	}
	c, err := e.eval(n.args[0], f)
	if err != nil {
		return nil, err
	}
	b, ok, err := strictBool(c)
	if err != nil {
		return nil, errorAt(n, "iif() criterion: %v", err)
	}
	if ok && b {
		return e.eval(n.args[1], f)
	}
	if len(n.args) == 3 {
		return e.eval(n.args[2], f)
	}
	return nil, nil
}

func fnIs(_ *evaluator, n *node, _ frame, in Collection) (Collection, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > 1 {
		return nil, errorAt(n, "is() needs a single item")
	}
	return boolCollection(isType(in[0], n.typ)), nil
}

func fnAs(_ *evaluator, n *node, _ frame, in Collection) (Collection, error) {
	if len(in) > 1 {
		return nil, errorAt(n, "as() needs a single item; use ofType() for collections")
	}
	return ofType(in, n.typ), nil
}

func fnType(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	out := make(Collection, len(in))
	for i, v := range in {
		out[i] = Value{typ: typeTypeInfo, data: map[string]any{"namespace": v.typ.Namespace, "name": v.typ.Name}}
	}
	return out, nil
}

func fnAggregate(e *evaluator, n *node, f frame, in Collection) (Collection, error) {
	var total Collection
	if len(n.args) == 2 {
		var err error
		if total, err = e.eval(n.args[1], f); err != nil {
			return nil, err
		}
	}
	for i := range in {
		r, err := e.eval(n.args[0], frame{this: in[i : i+1 : i+1], index: i, hasIndex: true, total: total, hasTotal: true})
		if err != nil {
			return nil, err
		}
		total = r
	}
	return total, nil
}

// fnSort orders by the keys, each ascending or, written -key, descending.
func fnSort(e *evaluator, n *node, f frame, in Collection) (Collection, error) {
	type keyed struct {
		v    Value
		keys []Collection
	}
	items := make([]keyed, len(in))
	for i, v := range in {
		items[i].v = v
		for _, k := range n.args {
			if k.kind == nUnary && k.op == "-" {
				k = k.args[0]
			}
			r, err := e.eval(k, frame{this: in[i : i+1 : i+1], index: i, hasIndex: true})
			if err != nil {
				return nil, err
			}
			items[i].keys = append(items[i].keys, r)
		}
	}
	var sortErr error
	sort.SliceStable(items, func(a, b int) bool {
		if len(n.args) == 0 {
			c, _, err := compareValues(items[a].v, items[b].v)
			sortErr = firstErr(sortErr, err)
			return c < 0
		}
		for j, k := range n.args {
			c := compareKeys(items[a].keys[j], items[b].keys[j], k.kind == nUnary && k.op == "-", &sortErr)
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	out := make(Collection, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out, sortErr
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// compareKeys orders sort keys; empty keys sort first in either direction
// (-key of an empty key is empty).
func compareKeys(a, b Collection, desc bool, errp *error) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return -1
	case len(b) == 0:
		return 1
	}
	c, _, err := compareValues(a[0], b[0])
	*errp = firstErr(*errp, err)
	if desc {
		return -c
	}
	return c
}

func fnTrace(e *evaluator, n *node, f frame, in Collection) (Collection, error) {
	name, err := e.eval(n.args[0], f)
	if err != nil {
		return nil, err
	}
	if e.opts.Trace == nil {
		return in, nil
	}
	shown := in
	if len(n.args) == 2 {
		shown = nil
		err = e.iterate(n.args[1], f, in, func(_ int, r Collection) (bool, error) {
			shown = append(shown, r...)
			return false, nil
		})
		if err != nil {
			return nil, err
		}
	}
	label, _, _ := singletonString(name)
	e.opts.Trace(label, append(Collection(nil), shown...))
	return in, nil
}

// fnDefineVariable binds %name for the rest of the evaluation
// (FHIRPath 2.1, https://build.fhir.org/ig/HL7/FHIRPath/#definevariable).
func fnDefineVariable(e *evaluator, n *node, f frame, in Collection) (Collection, error) {
	nc, err := e.eval(n.args[0], f)
	if err != nil {
		return nil, err
	}
	name, ok, err := singletonString(nc)
	if err != nil || !ok {
		return nil, errorAt(n, "defineVariable() needs a name")
	}
	val := in
	if len(n.args) == 2 {
		if val, err = e.eval(n.args[1], frame{this: in, total: f.total, hasTotal: f.hasTotal}); err != nil {
			return nil, err
		}
	}
	if _, exists := e.variables[name]; exists || strings.Contains("|context|resource|rootResource|ucum|sct|loinc|", "|"+name+"|") {
		return nil, errorAt(n, "variable %%%s is already defined", name)
	}
	if e.variables == nil {
		e.variables = map[string]Collection{}
	}
	e.variables[name] = val
	return in, nil
}
