package fhirpath

import (
	"errors"
	"fmt"
	"strings"
)

func init() {
	register(map[string]*function{
		// tree navigation (https://hl7.org/fhirpath/N1/#tree-navigation)
		"children":    {eager: fnChildren},
		"descendants": {eager: fnDescendants},
		// FHIR additions (https://hl7.org/fhir/R4/fhirpath.html#functions)
		"extension":         {min: 1, max: 1, eager: fnExtension},
		"hasValue":          {eager: fnHasValue},
		"getValue":          {eager: fnGetValue},
		"resolve":           {eager: fnResolve},
		"memberOf":          {min: 1, max: 1, eager: fnMemberOf},
		"conformsTo":        {min: 1, max: 1, eager: fnConformsTo},
		"htmlChecks":        {eager: fnHTMLChecks},
		"htmlChecks2":       {eager: fnHTMLChecks},
		"elementDefinition": {eager: fnNothing},
		"slice":             {min: 2, max: 2, eager: fnNothing},
		"subsumes":          {min: 1, max: 1, eager: fnNothing},
		"subsumedBy":        {min: 1, max: 1, eager: fnNothing},
		"checkModifiers":    {min: 1, max: 1, eager: fnCheckModifiers},
	})
}

// children appends the child elements of v, in definition order when v is typed.
func children(v Value, out Collection) Collection {
	m, ok := v.data.(map[string]any)
	switch {
	case ok && v.node != nil:
		for _, f := range v.node.order {
			for _, k := range f.keys {
				out = appendKey(out, m, k)
			}
		}
	case ok:
		for _, k := range childKeys(m) {
			out = appendUntyped(out, m[k])
		}
	case v.ext != nil:
		out = appendKey(out, v.ext, extensionKey())
	}
	return out
}

func fnChildren(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	var out Collection
	for _, v := range in {
		out = children(v, out)
	}
	return out, nil
}

func fnDescendants(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	var out Collection
	for _, v := range in {
		out = children(v, out)
	}
	for i := 0; i < len(out); i++ {
		if len(out) > maxRepeat {
			return nil, errors.New("descendants() produced too many items")
		}
		out = children(out[i], out)
	}
	return out, nil
}

func fnNothing(_ *evaluator, _ *node, _ Collection, _ []Collection) (Collection, error) {
	return nil, nil
}

// fnExtension selects the extensions with the given url, of elements and of primitives.
func fnExtension(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	url, ok, err := singletonString(a[0])
	if err != nil || !ok {
		return nil, err
	}
	var out Collection
	k := extensionKey()
	for _, v := range in {
		var all Collection
		if m, ok := v.data.(map[string]any); ok {
			all = appendKey(nil, m, k)
		} else if v.ext != nil {
			all = appendKey(nil, v.ext, k)
		}
		for _, x := range all {
			if m, ok := x.data.(map[string]any); ok && m["url"] == url {
				out = append(out, x)
			}
		}
	}
	return out, nil
}

func fnHasValue(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	if len(in) != 1 {
		return falseCollection, nil
	}
	v := in[0]
	return boolCollection(v.typ.sys != kNone && v.typ.node == nil && hasValue(v)), nil
}

func fnGetValue(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	if len(in) != 1 || in[0].typ.node != nil {
		return nil, nil
	}
	if s, ok := system(in[0]); ok {
		return Collection{s}, nil
	}
	return nil, nil
}

// fnResolve resolves references within the resource (contained), an
// enclosing Bundle and, failing those, the caller's Resolver
// (https://hl7.org/fhir/R4/fhirpath.html#functions).
func fnResolve(e *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	var out Collection
	for _, v := range in {
		ref := ""
		switch d := v.data.(type) {
		case map[string]any:
			ref, _ = d["reference"].(string)
		case string:
			ref = d
		}
		if ref == "" {
			continue
		}
		if r := e.resolve(ref); r != nil {
			out = append(out, objectValue(r))
		}
	}
	return out, nil
}

func (e *evaluator) resolve(ref string) map[string]any {
	if strings.HasPrefix(ref, "#") {
		for _, c := range []Collection{e.resource, e.root} {
			for _, r := range c {
				m, _ := r.data.(map[string]any)
				if ref == "#" {
					return m
				}
				if found := containedByID(m, ref[1:]); found != nil {
					return found
				}
			}
		}
		return nil
	}
	for _, b := range e.bundles() {
		if found := bundleEntry(b, ref); found != nil {
			return found
		}
	}
	if e.opts.Resolver != nil {
		return e.opts.Resolver(ref)
	}
	return nil
}

func containedByID(m map[string]any, id string) map[string]any {
	list, _ := m["contained"].([]any)
	for _, x := range list {
		if c, ok := x.(map[string]any); ok && c["id"] == id {
			return c
		}
	}
	return nil
}

// bundles lists the Bundles resolve() searches: Options.Bundle and the
// input, %resource or %rootResource when they are Bundles.
func (e *evaluator) bundles() []map[string]any {
	var out []map[string]any
	if e.opts.Bundle != nil {
		out = append(out, e.opts.Bundle)
	}
	for _, c := range []Collection{e.input, e.resource, e.root} {
		for _, v := range c {
			if m, ok := v.data.(map[string]any); ok && m["resourceType"] == "Bundle" {
				out = append(out, m)
			}
		}
	}
	return out
}

// bundleEntry finds the entry whose fullUrl is ref, or whose resource is Type/id.
func bundleEntry(b map[string]any, ref string) map[string]any {
	entries, _ := b["entry"].([]any)
	for _, x := range entries {
		entry, _ := x.(map[string]any)
		res, _ := entry["resource"].(map[string]any)
		if res == nil {
			continue
		}
		if full, _ := entry["fullUrl"].(string); full == ref {
			return res
		}
		typ, _ := res["resourceType"].(string)
		id, _ := res["id"].(string)
		if typ != "" && id != "" && (ref == typ+"/"+id || strings.HasSuffix(ref, "/"+typ+"/"+id)) {
			return res
		}
	}
	return nil
}

// fnMemberOf checks codes, Codings and CodeableConcepts against a value set
// with Options.Terminology; empty when it cannot tell.
func fnMemberOf(e *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	vs, ok, err := singletonString(a[0])
	if err != nil || !ok || len(in) != 1 || e.opts.Terminology == nil {
		return nil, err
	}
	codes := codingsOf(in[0])
	anyKnown := false
	for _, c := range codes {
		member, known := e.opts.Terminology.MemberOf(vs, c[0], c[1])
		if known && member {
			return trueCollection, nil
		}
		anyKnown = anyKnown || known
	}
	if !anyKnown {
		return nil, nil
	}
	return falseCollection, nil
}

// codingsOf returns the (system, code) pairs a coded value carries.
func codingsOf(v Value) [][2]string {
	switch d := v.data.(type) {
	case string:
		return [][2]string{{"", d}}
	case map[string]any:
		if list, ok := d["coding"].([]any); ok {
			var out [][2]string
			for _, x := range list {
				if c, ok := x.(map[string]any); ok {
					out = append(out, codingPair(c))
				}
			}
			return out
		}
		return [][2]string{codingPair(d)}
	}
	return nil
}

func codingPair(c map[string]any) [2]string {
	sys, _ := c["system"].(string)
	code, _ := c["code"].(string)
	return [2]string{sys, code}
}

const coreProfile = "http://hl7.org/fhir/StructureDefinition/"

// fnConformsTo decides conformance to the core profiles of R4 types (the
// resource is of that type); other profiles cannot be decided here.
func fnConformsTo(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	url, ok, err := singletonString(a[0])
	if err != nil || !ok || len(in) == 0 {
		return nil, err
	}
	if len(in) > 1 {
		return nil, errNotSingleton
	}
	name, isCore := strings.CutPrefix(url, coreProfile)
	t := fhirType(name)
	if !isCore || t == nil {
		return nil, fmt.Errorf("cannot check conformance to %s", url)
	}
	return boolCollection(in[0].typ.isA(t)), nil
}

// fnHTMLChecks checks narrative XHTML against the rules of
// https://hl7.org/fhir/R4/narrative.html#xhtml: no scripts, forms, frames or
// event handlers, no external images or styles.
func fnHTMLChecks(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	if len(in) != 1 {
		return nil, nil
	}
	s, ok := in[0].data.(string)
	if !ok {
		return falseCollection, nil
	}
	l := strings.ToLower(s)
	for _, bad := range []string{"<script", "<form", "<iframe", "<frame", "<object", "<embed", "<applet", "<base", "<link", "<meta", "<input", "<button", "javascript:"} {
		if strings.Contains(l, bad) {
			return falseCollection, nil
		}
	}
	for i := strings.Index(l, " on"); i >= 0; {
		rest := l[i+3:]
		j := strings.IndexAny(rest, "= >")
		if j > 0 && rest[j] == '=' && isAlpha(rest[:j]) {
			return falseCollection, nil
		}
		k := strings.Index(rest, " on")
		if k < 0 {
			break
		}
		i += 3 + k
	}
	return boolCollection(strings.HasPrefix(strings.TrimSpace(l), "<div")), nil
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// fnCheckModifiers fails when an element carries a modifierExtension whose url is not listed.
func fnCheckModifiers(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	allowed := map[string]bool{}
	for _, v := range a[0] {
		if s, ok := toStringValue(v); ok {
			allowed[s] = true
		}
	}
	for _, v := range in {
		m, _ := v.data.(map[string]any)
		list, _ := m["modifierExtension"].([]any)
		for _, x := range list {
			ext, _ := x.(map[string]any)
			if u, _ := ext["url"].(string); !allowed[u] {
				return nil, fmt.Errorf("unknown modifier extension %s", u)
			}
		}
	}
	return in, nil
}
