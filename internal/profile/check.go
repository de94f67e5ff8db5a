package profile

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/fhirpath"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Check checks res against the profile of the guide that applies to it:
// the first of the guide's profiles its meta.profile declares, or else
// the one for its type (and, where a type has several, its category: a
// laboratory, radiology or citizen-entered one, a Chinese-medicine
// prescription, a medical certificate). A resource no profile applies to
// gets an empty Report (Profile ""). The error is for what is not a
// resource at all.
func (s *Set) Check(ctx context.Context, res map[string]any) (Report, error) {
	rt, ok := res["resourceType"].(string)
	if !ok {
		return Report{}, outcome.At(outcome.Invalid, "resourceType", "profile check: not a resource")
	}
	p := s.profiles[s.Declared(res)]
	if p == nil || p.typ != rt {
		p = s.choose(rt, res)
	}
	if p == nil {
		return Report{Coded: true}, nil
	}
	return s.check(ctx, res, p), nil
}

// CheckAgainst checks res against the profile at url (|version ignored),
// which must be one of the guide's (outcome.NotFound otherwise). A
// resource of another type than the profile's is reported as an error
// issue.
func (s *Set) CheckAgainst(ctx context.Context, res map[string]any, url string) (Report, error) {
	p := s.profiles[canonical(url)]
	if p == nil {
		return Report{}, outcome.At(outcome.NotFound, "profile", "profile %q is not one of the eHealth+ profiles", url)
	}
	rt, ok := res["resourceType"].(string)
	if !ok {
		return Report{}, outcome.At(outcome.Invalid, "resourceType", "profile check: not a resource")
	}
	if rt != p.typ {
		return Report{RecordType: p.record, Profile: p.url, Issues: []outcome.Issue{{
			Severity: outcome.SeverityError, Code: "structure", Expression: rt,
			Message: fmt.Sprintf("a %s cannot conform to %s, a profile of %s", rt, p.url, p.typ)}}}, nil
	}
	return s.check(ctx, res, p), nil
}

// choose returns the profile for a resource of type rt that declares none.
func (s *Set) choose(rt string, res map[string]any) *profile {
	for _, p := range s.byType[rt] {
		if p.selector == nil || p.selects(res) {
			return p
		}
	}
	return nil
}

// selects reports whether res has a category matching each of the
// profile's selector patterns.
func (p *profile) selects(res map[string]any) bool {
	cats, _ := res["category"].([]any)
	for _, pat := range p.selector {
		if !slices.ContainsFunc(cats, func(c any) bool { return matchPattern(pat, c) }) {
			return false
		}
	}
	return true
}

func (s *Set) check(ctx context.Context, res map[string]any, p *profile) Report {
	c := &checker{set: s, ctx: ctx, opts: &fhirpath.Options{Resource: res, RootResource: res}}
	c.resource(p, res, p.typ)
	slices.SortStableFunc(c.issues, func(a, b outcome.Issue) int { return cmp.Compare(a.Expression, b.Expression) })
	return Report{RecordType: p.record, Profile: p.url, Issues: c.issues, Coded: !c.uncoded}
}

// checker is the state of one check; never shared.
type checker struct {
	set    *Set
	ctx    context.Context
	opts   *fhirpath.Options
	p      *profile // the profile whose rules are being checked
	issues []outcome.Issue
	depth  int
	// uncoded is set when a coded element, of the resource or of a
	// contained one checked against a target profile, uses none of the
	// expected systems.
	uncoded bool
}

// resource checks res (at path) against p, and whether it is coded from
// the expected systems.
func (c *checker) resource(p *profile, res map[string]any, path string) {
	outer := c.p
	c.p = p
	defer func() { c.p = outer }()
	c.value(p.root, res, path, p.typ)
	if !c.coded(p.expected, res, p.typ, path) {
		c.uncoded = true
	}
}

// add records an issue; rule names the kind of rule, with the profile and
// element it comes from.
func (c *checker) add(severity, code, path, msg, rule string) {
	if rule != "" {
		msg += " (" + c.p.url + " " + rule + ")"
	}
	c.issues = append(c.issues, outcome.Issue{Severity: severity, Code: code, Message: msg, Expression: path})
}

// children checks the children of n in input, a value at path.
func (c *checker) children(n *node, input any, path string) {
	for _, ch := range n.children {
		kids, err := ch.nav.Evaluate(c.ctx, input, c.opts)
		if err != nil {
			c.add(outcome.SeverityWarning, "processing", path, "element "+ch.name+" not checked: "+err.Error(), ch.id)
			continue
		}
		c.element(ch, kids, path)
	}
}

// element checks the values kids of n found below parent.
func (c *checker) element(n *node, kids fhirpath.Collection, parent string) {
	at := parent + "." + n.name
	c.cardinality(n, len(kids), at, n.id)
	if n.mustSup && len(kids) == 0 && n.min == 0 {
		c.add(outcome.SeverityInformation, "informational", at, "mustSupport element "+n.id[strings.LastIndexByte(n.id, '.')+1:]+" is absent", n.id+" mustSupport")
	}
	for i, kid := range kids {
		c.value(n, kid, childPath(parent, n, i, kid), kid.TypeName())
	}
	if n.slicing != nil && len(n.slicing.slices) > 0 {
		c.slices(n, kids, parent)
	}
}

// cardinality checks a count against n's min and max, when the guide
// changed them or n is a slice.
func (c *checker) cardinality(n *node, count int, at, rule string) {
	if !n.card {
		return
	}
	what := n.name
	if n.slice != "" {
		what = n.name + " in slice " + n.slice
	}
	if count < n.min {
		c.add(outcome.SeverityError, "required", at, fmt.Sprintf("%s: at least %d required, %d found", what, n.min, count), rule+" min")
	}
	if n.max >= 0 && count > n.max {
		c.add(outcome.SeverityError, "structure", at, fmt.Sprintf("%s: at most %d allowed, %d found", what, n.max, count), rule+" max")
	}
}

// value checks one value of n at path, of FHIR type typ, then its
// children.
func (c *checker) value(n *node, v any, path, typ string) {
	if c.depth > 16 {
		return // contained references chasing each other
	}
	c.depth++
	defer func() { c.depth-- }()
	raw := v
	if fv, ok := v.(fhirpath.Value); ok {
		raw = fv.JSON()
	}
	if len(n.types) > 0 && n.choice && !slices.Contains(n.types, typ) {
		c.add(outcome.SeverityError, "structure", path, fmt.Sprintf("type %s is not allowed here: %s", typ, strings.Join(n.types, ", ")), n.id+" type")
		return
	}
	if n.fixed != nil && !equalJSON(n.fixed, raw) {
		c.add(outcome.SeverityError, "value", path, "value must be exactly "+compact(n.fixed), n.id+" fixed")
	}
	if n.pattern != nil && !matchPattern(n.pattern, raw) {
		c.add(outcome.SeverityError, "value", path, "value must match the pattern "+compact(n.pattern), n.id+" pattern")
	}
	if n.binding != nil {
		c.bound(n, raw, path, typ)
	}
	if typ == "Reference" && n.targetTypes != nil {
		c.reference(n, raw, path)
	} else if len(n.profiles) > 0 {
		for _, u := range n.profiles {
			c.resourceOrValue(c.set.profiles[u], v, path)
		}
	}
	for _, k := range n.rules {
		ok, known, err := k.expr.EvalBool(c.ctx, v, c.opts)
		switch {
		case err != nil:
			c.add(outcome.SeverityWarning, "processing", path, k.key+": not evaluated: "+err.Error(), n.id+" constraint "+k.key)
		case known && !ok:
			c.add(k.severity, "invariant", path, k.key+": "+k.human, n.id+" constraint "+k.key)
		}
	}
	c.children(n, v, path)
}

// resourceOrValue checks v against a datatype profile of the guide (an
// extension).
func (c *checker) resourceOrValue(p *profile, v any, path string) {
	outer := c.p
	c.p = p
	c.value(p.root, v, path, p.typ)
	c.p = outer
}

// bound checks a coded value against n's binding: a code outside a
// required value set is an error, outside an extensible or preferred one
// a warning (https://hl7.org/fhir/R4/terminologies.html#strength). Value
// sets the terminology service cannot decide are not reported.
func (c *checker) bound(n *node, raw any, path, typ string) {
	sev := outcome.SeverityWarning
	switch n.binding.strength {
	case "required":
		sev = outcome.SeverityError
	case "extensible", "preferred":
	default:
		return
	}
	if c.set.codes == nil {
		return
	}
	member, known := c.member(n.binding.valueSet, raw, typ)
	if known && !member {
		c.add(sev, "code-invalid", path, fmt.Sprintf("the code is not in the value set %s (%s binding)", n.binding.valueSet, n.binding.strength), n.id+" binding")
	}
}

// member reports whether a code, Coding or CodeableConcept is in a value
// set; known is false when nothing in it could be decided.
func (c *checker) member(vs string, raw any, typ string) (member, known bool) {
	switch v := raw.(type) {
	case string:
		return c.set.codes.CheckCode(vs, "", v)
	case map[string]any:
		if typ == "Coding" || v["code"] != nil && v["coding"] == nil {
			return c.set.codes.CheckCode(vs, str(v["system"]), str(v["code"]))
		}
		codings := list(v["coding"])
		if len(codings) == 0 {
			return false, true // text only: no code from the value set
		}
		for _, cd := range codings {
			cm, _ := cd.(map[string]any)
			m, k := c.set.codes.CheckCode(vs, str(cm["system"]), str(cm["code"]))
			if m {
				return true, true
			}
			known = known || k
		}
		return false, known
	}
	return false, false
}

// reference checks the target type of a reference, and a contained target
// against the guide's target profiles.
func (c *checker) reference(n *node, raw any, path string) {
	m, _ := raw.(map[string]any)
	ref := str(m["reference"])
	typ := str(m["type"])
	var target map[string]any
	switch {
	case strings.HasPrefix(ref, "#"):
		target, path = c.contained(ref[1:])
		if target != nil {
			typ = str(target["resourceType"])
		}
	case ref != "" && !strings.HasPrefix(ref, "urn:"):
		typ = refType(ref)
	}
	if typ == "" {
		return // a logical or urn: reference says no type
	}
	if !slices.Contains(n.targetTypes, typ) {
		c.add(outcome.SeverityError, "structure", path+".reference", fmt.Sprintf("a reference to a %s is not allowed here: %s", typ, strings.Join(n.targetTypes, ", ")), n.id+" type")
		return
	}
	if target == nil {
		return
	}
	var checked *profile
	for _, u := range n.profiles {
		if p := c.set.profiles[u]; p != nil && p.typ == typ {
			checked = p
			break
		}
	}
	if checked != nil {
		outer := c.opts
		c.opts = &fhirpath.Options{Resource: target, RootResource: outer.RootResource}
		c.resource(checked, target, path)
		c.opts = outer
	}
}

// contained finds a contained resource of the resource being checked, and
// its path.
func (c *checker) contained(id string) (map[string]any, string) {
	root := c.opts.RootResource
	for i, r := range list(root["contained"]) {
		if r, ok := r.(map[string]any); ok && r["id"] == id {
			return r, str(root["resourceType"]) + ".contained[" + strconv.Itoa(i) + "]"
		}
	}
	return nil, ""
}

// refType is the resource type a literal reference names: "Patient/1",
// "https://x/fhir/Patient/1/_history/2".
func refType(ref string) string {
	segs := strings.Split(ref, "/")
	if n := len(segs); n >= 4 && segs[n-2] == "_history" {
		segs = segs[:n-2]
	}
	if n := len(segs); n >= 2 && fhir.IsResourceType(segs[n-2]) {
		return segs[n-2]
	}
	return ""
}

// childPath is the FHIRPath of the i-th value kid of n below parent, in
// the spelling internal/validate uses: Observation.identifier[0],
// Observation.valueQuantity.
func childPath(parent string, n *node, i int, kid fhirpath.Value) string {
	p := parent + "." + n.name
	if n.choice {
		t := kid.TypeName()
		p += strings.ToUpper(t[:1]) + t[1:]
	}
	if n.array {
		p += "[" + strconv.Itoa(i) + "]"
	}
	return p
}
