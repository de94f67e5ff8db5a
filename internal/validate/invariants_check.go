package validate

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhirpath"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// check evaluates the invariants of res and of the resources inside it.
func (iv *invariants) check(res map[string]any) []outcome.Issue {
	rt, _ := res["resourceType"].(string)
	sh := iv.shapes.types[rt]
	if sh == nil {
		return nil // not a resource: fhir.Validate reports it
	}
	c := &invariantCheck{iv: iv, ctx: context.Background()}
	w := walk{shapes: iv.shapes, boxable: iv.datatypes}
	if rt == "Bundle" {
		w.bundle = res // resolve() finds the entries
	}
	w.resource(res, nil, false, []byte(rt))
	for _, s := range w.scopes {
		if n := iv.resources[s.typ]; n != nil {
			c.visit(n, s.res, s.path, s.opts)
		}
	}
	c.datatypes(w.found, w.scopes)
	if len(c.issues) > 1 { // the walk follows map order
		slices.SortStableFunc(c.issues, func(a, b outcome.Issue) int { return cmp.Compare(a.Expression, b.Expression) })
	}
	return c.issues
}

// invariantCheck is the state of one check; never shared.
type invariantCheck struct {
	iv     *invariants
	ctx    context.Context
	issues []outcome.Issue
}

func (c *invariantCheck) add(severity, code, msg, path string) {
	c.issues = append(c.issues, outcome.Issue{Severity: severity, Code: code, Message: msg, Expression: path})
}

// datatypes checks the datatype values the walk found. The walk knows their
// types from the model but FHIRPath needs typed values: they are boxed as
// the values of a Parameters resource (whose value[x] takes every datatype
// that has invariants, see newInvariants), and one navigation types them all.
func (c *invariantCheck) datatypes(found []foundValue, scopes []scope) {
	if len(found) == 0 {
		return
	}
	params := make([]any, len(found))
	for i, f := range found {
		params[i] = map[string]any{c.iv.boxKeys[f.typ]: f.value}
	}
	box := map[string]any{"resourceType": "Parameters", "parameter": params}
	values, err := c.iv.unbox.Evaluate(c.ctx, box, nil)
	if err != nil || len(values) != len(found) {
		c.add(outcome.SeverityWarning, "processing", "datatype invariants not evaluated", scopes[0].path)
		return
	}
	for i, f := range found {
		c.visit(c.iv.datatypes[f.typ], values[i], f.path, scopes[f.scope].opts)
	}
}

// visit evaluates the constraints of n on input, whose FHIRPath is path,
// then walks to the children that carry more.
func (c *invariantCheck) visit(n *elementNode, input any, path string, opts *fhirpath.Options) {
	for _, k := range n.constraints {
		c.eval(k, input, path, opts)
	}
	for _, ch := range n.children {
		kids, err := ch.nav.Evaluate(c.ctx, input, opts)
		if err != nil {
			c.add(outcome.SeverityWarning, "processing", "invariants below "+ch.name+" not evaluated: "+err.Error(), path)
			continue
		}
		for i, kid := range kids {
			c.visit(ch.node, kid, ch.path(path, i, kid), opts)
		}
	}
}

// eval evaluates one constraint on input and records a violation, or a
// warning when the engine cannot evaluate it.
func (c *invariantCheck) eval(k *constraint, input any, path string, opts *fhirpath.Options) {
	if k.ofType != "" {
		if v, ok := input.(fhirpath.Value); ok && v.TypeName() != k.ofType {
			return
		}
	}
	ok, known, err := k.expr.EvalBool(c.ctx, input, opts)
	switch {
	case err != nil:
		c.add(outcome.SeverityWarning, "processing", k.key+": not evaluated: "+err.Error(), path)
	case known && !ok:
		c.add(k.severity, "invariant", k.message, path)
	}
}

// path returns the FHIRPath of the i-th value kid found by the step from
// an element at parent, in the JSON spelling fhir.Validate uses
// (Patient.contact[0], RiskAssessment.prediction[0].probabilityRange).
func (ch *childStep) path(parent string, i int, kid fhirpath.Value) string {
	p := parent + "." + ch.name
	if ch.choice {
		t := kid.TypeName()
		p += strings.ToUpper(t[:1]) + t[1:]
	}
	if ch.array {
		p += "[" + strconv.Itoa(i) + "]"
	}
	return p
}
