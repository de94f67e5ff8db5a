package fhir

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Issue is one problem found; Path is a FHIRPath such as "Patient.name[0].family".
type Issue struct {
	Severity string // "error", "warning" or "information"
	Code     string // FHIR issue-type code: structure, required, value, invalid, code-invalid, invariant…
	Message  string
	Path     string
}

// CodeChecker checks a code against a value set that has a required binding.
type CodeChecker interface {
	// CheckCode reports whether (system, code) is in the value set at url (no |version); system is "" for elements of type code.
	// known is false when the value set cannot be enumerated here (then the code is accepted).
	CheckCode(valueSet, system, code string) (member, known bool)
}

// ValidateOptions tunes Validate.
type ValidateOptions struct {
	Codes CodeChecker // nil: bindings are not checked
}

// Validate checks the structure of a resource in generic form against the
// R4 definitions (https://hl7.org/fhir/R4/validation.html#structure and
// json.html) and returns every problem found, sorted by path; nil when the
// resource is structurally valid. It checks element names, cardinality,
// types and choice types, primitive formats, primitive extensions, empty and
// null values, ele-1, extensions (ext-1), references, contained resources
// (dom-2..dom-5, ref-1), the narrative (txt-1, txt-2) and, given
// opts.Codes, required bindings. FHIRPath invariants beyond these are left
// to internal/validate.
func Validate(res map[string]any, opts ValidateOptions) []Issue {
	v := validator{ix: index(), codes: opts.Codes, path: make([]byte, 0, 128)}
	v.resource(res, false)
	if len(v.issues) > 1 {
		slices.SortStableFunc(v.issues, func(a, b Issue) int { return cmp.Compare(a.Path, b.Path) })
	}
	return v.issues
}

type validator struct {
	ix     *modelIndex
	codes  CodeChecker
	issues []Issue
	path   []byte // FHIRPath of the element being checked
	scope  *refScope
}

// refScope collects, for one resource and its contained resources, what
// dom-3 and ref-1 need: contained ids and local references.
type refScope struct {
	contained   []string        // ids of contained resources, in order
	localRefs   map[string]bool // "#id" targets referenced anywhere
	refsParent  map[string]bool // contained ids that reference their container ("#")
	current     string          // id of the contained resource being walked, if any
	localAtPath map[string]string
}

func (v *validator) report(code, msg string) {
	v.issues = append(v.issues, Issue{Severity: "error", Code: code, Message: msg, Path: string(v.path)})
}

// push appends ".seg" (or "seg" at the root) to the path and returns the
// length to restore with pop.
func (v *validator) push(seg string) int {
	n := len(v.path)
	if n > 0 {
		v.path = append(v.path, '.')
	}
	v.path = append(v.path, seg...)
	return n
}

func (v *validator) pushIndex(i int) int {
	n := len(v.path)
	v.path = append(v.path, '[')
	v.path = strconv.AppendInt(v.path, int64(i), 10)
	v.path = append(v.path, ']')
	return n
}

func (v *validator) pop(n int) { v.path = v.path[:n] }

// resource checks a resource at the current path (empty at the top level,
// where the path becomes its type).
func (v *validator) resource(res map[string]any, contained bool) {
	rt, ok := res["resourceType"].(string)
	root := len(v.path) == 0
	if !ok {
		if root {
			v.path = append(v.path, "Resource"...)
		}
		v.report("structure", "resourceType is missing or not a string")
		return
	}
	if !IsResourceType(rt) {
		if root {
			v.path = append(v.path, "Resource"...)
		}
		v.report("structure", "unknown or abstract resource type "+strconv.Quote(rt))
		return
	}
	if root {
		v.path = append(v.path, rt...)
	}
	if contained {
		v.containedRules(res)
		v.object(res, v.ix.nodes[rt], true)
		if v.scope != nil {
			v.scope.current = ""
		}
		return
	}
	outer := v.scope
	v.scope = &refScope{}
	v.object(res, v.ix.nodes[rt], true)
	v.closeScope()
	v.scope = outer
}

// containedRules applies dom-2, dom-4 and dom-5 and registers the id for dom-3.
func (v *validator) containedRules(res map[string]any) {
	if _, nested := res["contained"]; nested {
		n := v.push("contained")
		v.report("invariant", "dom-2: a contained resource must not contain resources")
		v.pop(n)
	}
	if meta, ok := res["meta"].(map[string]any); ok {
		for _, k := range [...]string{"versionId", "lastUpdated"} {
			if _, has := meta[k]; has {
				n := v.push("meta." + k)
				v.report("invariant", "dom-4: a contained resource must not have meta."+k)
				v.pop(n)
			}
		}
		if _, has := meta["security"]; has {
			n := v.push("meta.security")
			v.report("invariant", "dom-5: a contained resource must not have a security label")
			v.pop(n)
		}
	}
	id, _ := res["id"].(string)
	if id == "" {
		v.report("invariant", "a contained resource must have an id")
	}
	if s := v.scope; s != nil {
		s.contained = append(s.contained, id)
		s.current = id
	}
}

// closeScope reports contained resources nobody references (dom-3) and local
// references to missing contained resources (ref-1).
func (v *validator) closeScope() {
	s := v.scope
	for i, id := range s.contained {
		if id != "" && !s.localRefs[id] && !s.refsParent[id] {
			n := v.push("contained")
			m := v.pushIndex(i)
			v.report("invariant", "dom-3: contained resource "+strconv.Quote(id)+" is not referenced from the rest of the resource")
			v.pop(m)
			v.pop(n)
		}
	}
	for id, at := range s.localAtPath {
		if !slices.Contains(s.contained, id) {
			v.issues = append(v.issues, Issue{Severity: "error", Code: "invariant", Path: at,
				Message: "ref-1: local reference #" + id + " does not match a contained resource"})
		}
	}
}

// localRef records a "#…" reference or canonical for dom-3 and ref-1.
func (v *validator) localRef(ref string, isReference bool) {
	s := v.scope
	if s == nil || !strings.HasPrefix(ref, "#") {
		return
	}
	if ref == "#" {
		if s.refsParent == nil {
			s.refsParent = map[string]bool{}
		}
		s.refsParent[s.current] = true
		return
	}
	if s.localRefs == nil {
		s.localRefs = map[string]bool{}
	}
	s.localRefs[ref[1:]] = true
	if isReference {
		if s.localAtPath == nil {
			s.localAtPath = map[string]string{}
		}
		s.localAtPath[ref[1:]] = string(v.path)
	}
}

// object checks the keys of a JSON object against node n.
func (v *validator) object(obj map[string]any, n *node, isResource bool) {
	if n == nil {
		return
	}
	if len(obj) == 0 {
		v.report("structure", "empty object; an element must have a value or children")
		return
	}
	var choice [4]*field
	choices := choice[:0]
	for key, val := range obj {
		if isResource && key == "resourceType" {
			continue
		}
		f := n.fields[key]
		if f == nil {
			p := v.push(key)
			v.report("structure", "unknown element "+strconv.Quote(key)+" in "+n.name)
			v.pop(p)
			continue
		}
		if f.elem.IsChoice() {
			choices = v.checkChoice(choices, f)
		}
		v.element(obj, val, f)
	}
	if !isResource {
		if _, hasID := obj["id"]; hasID && len(obj) == 1 {
			v.report("invariant", "ele-1: an element must have a value or children other than id")
		}
	}
	for _, e := range n.required {
		if !v.present(obj, n, e) {
			p := v.push(e.Name())
			v.report("required", "minimum cardinality of "+e.Path+" is "+strconv.Itoa(e.Min)+", element is missing")
			v.pop(p)
		}
	}
}

// checkChoice reports a second type used for the same choice element.
func (v *validator) checkChoice(seen []*field, f *field) []*field {
	for _, s := range seen {
		if s.elem == f.elem && s.typ != f.typ {
			p := v.push(strings.TrimSuffix(f.elem.Name(), "[x]"))
			v.report("structure", "only one type may be used for "+f.elem.Path+", found "+s.key+" and "+f.key)
			v.pop(p)
			return seen
		}
	}
	return append(seen, f)
}

// present reports whether any JSON key of e appears in obj.
func (v *validator) present(obj map[string]any, n *node, e *ElementDef) bool {
	name := e.Name()
	if !e.IsChoice() {
		_, a := obj[name]
		_, b := obj["_"+name]
		return a || b
	}
	for key, f := range n.fields {
		if f.elem == e {
			if _, ok := obj[key]; ok {
				return true
			}
		}
	}
	return false
}

// element checks the value of one key: array or single value as the
// cardinality demands, then each item.
func (v *validator) element(parent map[string]any, val any, f *field) {
	p := v.push(strings.TrimPrefix(f.key, "_"))
	defer v.pop(p)
	e := f.elem
	arr, isArr := val.([]any)
	switch {
	case e.Max == 0:
		v.report("structure", "element "+e.Path+" is not allowed (max 0)")
	case !e.IsArray() && isArr:
		v.report("structure", "element "+e.Path+" has max cardinality 1 and must not be an array")
	case !e.IsArray() && val == nil:
		v.report("structure", "null is not allowed here")
	case !e.IsArray():
		v.item(val, f)
	case !isArr:
		v.report("structure", "element "+e.Path+" repeats and must be an array")
	case len(arr) == 0:
		v.report("structure", "empty arrays are not allowed")
	default:
		if e.Max > 0 && len(arr) > e.Max {
			v.report("structure", "too many items for "+e.Path+": max "+strconv.Itoa(e.Max))
		}
		if len(arr) < e.Min {
			v.report("required", "too few items for "+e.Path+": min "+strconv.Itoa(e.Min))
		}
		v.items(parent, arr, f)
	}
}

// items checks the items of an array; a null is allowed in a primitive
// array only where the twin array (x / _x) has a value at the same index.
func (v *validator) items(parent map[string]any, arr []any, f *field) {
	var twin []any
	if f.isPrimitive || f.primExt {
		twinKey := "_" + f.key
		if f.primExt {
			twinKey = f.key[1:]
		}
		twin, _ = parent[twinKey].([]any)
		if f.primExt && twin != nil && len(twin) != len(arr) {
			v.report("structure", "arrays "+twinKey+" and "+f.key+" must have the same length")
		}
	}
	for i, it := range arr {
		m := v.pushIndex(i)
		switch {
		case it != nil:
			v.item(it, f)
		case i < len(twin) && twin[i] != nil:
		default:
			v.report("structure", "null is not allowed here")
		}
		v.pop(m)
	}
}

// item checks one value against its type.
func (v *validator) item(val any, f *field) {
	if f.isPrimitive {
		v.primitive(val, f)
		return
	}
	obj, ok := val.(map[string]any)
	if !ok {
		v.report("structure", "expected a JSON object for "+f.typ)
		return
	}
	switch {
	case f.resource:
		v.resource(obj, strings.HasSuffix(f.elem.Path, ".contained"))
		return
	case f.primExt:
		v.object(obj, f.child, false)
		return
	}
	v.object(obj, f.child, false)
	switch f.typ {
	case "Reference":
		v.reference(obj)
	case "Extension":
		v.extension(obj)
	case "Coding", "CodeableConcept":
		v.codedBinding(obj, f)
	}
}
