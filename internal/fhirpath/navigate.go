package fhirpath

import (
	"fmt"
	"strings"
)

// Navigation over the JSON model (https://hl7.org/fhirpath/N1/#path-selection):
// children are found through the R4 model so that each item knows its FHIR
// type; choice elements are found under their base name (value → valueQuantity).

// member evaluates navigation to a child name, or a type name at the start of a path.
func (e *evaluator) member(n *node, f frame) (Collection, error) {
	in := f.this
	if n.target != nil {
		var err error
		if in, err = e.eval(n.target, f); err != nil {
			return nil, err
		}
	} else if c := n.name[0]; c >= 'A' && c <= 'Z' { // names are never empty
		if t := fhirType(n.name); t != nil && len(in) > 0 {
			if out := ofTypeStrict(in, t); out != nil {
				return out, nil
			}
		}
	}
	buf := e.scratch[:0]
	typed, missing := 0, 0
	for _, v := range in {
		var defined bool
		buf, defined = child(v, n.name, buf)
		if v.node != nil {
			typed++
			if !defined {
				missing++
			}
		}
	}
	e.scratch = buf[:0]
	if typed > 0 && missing == typed {
		// no item's type defines the name: a semantic error in strict FHIRPath.
		return nil, errorAt(n, "%s has no element %q", in[0].typ.Name, n.name)
	}
	if len(buf) == 0 {
		return nil, nil
	}
	out := e.take(len(buf))
	copy(out, buf)
	return out, nil
}

// child appends the children of v named name to out; defined is false
// when v's type has no element of that name.
func child(v Value, name string, out Collection) (_ Collection, defined bool) {
	m, isMap := v.data.(map[string]any)
	switch {
	case isMap && v.node != nil:
		fd := v.node.fields[name]
		if fd == nil {
			return out, false
		}
		for _, k := range fd.keys {
			out = appendKey(out, m, k)
		}
	case isMap:
		if x, ok := m[name]; ok {
			out = appendUntyped(out, x)
		} else {
			out = appendChoice(out, m, name)
		}
	case v.ext != nil && (name == "extension" || name == "id"):
		if x, ok := v.ext[name]; ok {
			if name == "id" {
				return append(out, stringValue(fmt.Sprint(x))), true
			}
			out = appendKey(out, v.ext, extensionKey())
		}
	}
	return out, true
}

// appendChoice finds a choice element in an object without type
// information by its typed key (value → valueQuantity) and types the value
// from the key's suffix.
func appendChoice(out Collection, m map[string]any, name string) Collection {
	for k := range m {
		if len(k) <= len(name) || k[:len(name)] != name || k[len(name)] < 'A' || k[len(name)] > 'Z' {
			continue
		}
		code := k[len(name):]
		t := fhirType(strings.ToLower(code[:1]) + code[1:])
		if t == nil || t.node != nil {
			t = fhirType(code)
		}
		if t == nil {
			continue
		}
		fk := &fieldKey{key: k, typ: t, node: t.node, resource: t.Name == "Resource"}
		if _, fk.primitive = primitiveKinds[t.Name]; fk.primitive {
			fk.extKey = "_" + k
		}
		return appendKey(out, m, fk)
	}
	return out
}

func extensionKey() *fieldKey {
	return fhirType("Element").node.fields["extension"].keys[0]
}

// appendKey appends the values of one JSON key (and its primitive "_key"
// sibling) of an object.
func appendKey(out Collection, m map[string]any, k *fieldKey) Collection {
	x, has := m[k.key]
	var ext any
	if k.primitive {
		ext = m[k.extKey]
	}
	if !has && ext == nil {
		return out
	}
	if arr, ok := x.([]any); ok || (!has && isArray(ext)) {
		exts, _ := ext.([]any)
		n := max(len(arr), len(exts))
		for i := 0; i < n; i++ {
			var xi any
			var ei any
			if i < len(arr) {
				xi = arr[i]
			}
			if i < len(exts) {
				ei = exts[i]
			}
			out = appendItem(out, xi, ei, k)
		}
		return out
	}
	return appendItem(out, x, ext, k)
}

func isArray(x any) bool { _, ok := x.([]any); return ok }

func appendItem(out Collection, x, ext any, k *fieldKey) Collection {
	em, _ := ext.(map[string]any)
	if x == nil && em == nil {
		return out
	}
	if k.resource {
		if m, ok := x.(map[string]any); ok {
			return append(out, objectValue(m))
		}
	}
	if k.primitive {
		return append(out, Value{typ: k.typ, data: x, ext: em})
	}
	if _, ok := x.(map[string]any); !ok {
		if v, ok := untypedValue(x); ok {
			return append(out, v)
		}
		return out
	}
	return append(out, Value{typ: k.typ, data: x, node: k.node})
}

func appendUntyped(out Collection, x any) Collection {
	if arr, ok := x.([]any); ok {
		for _, y := range arr {
			if v, ok := untypedValue(y); ok {
				out = append(out, v)
			}
		}
		return out
	}
	if v, ok := untypedValue(x); ok {
		out = append(out, v)
	}
	return out
}

// ofTypeStrict keeps the items of type t or a subtype, returning in itself
// when all are (the usual case of a path starting with the resource type).
func ofTypeStrict(in Collection, t *Type) Collection {
	n := 0
	for _, v := range in {
		if v.typ.isA(t) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if n == len(in) {
		return in
	}
	out := make(Collection, 0, n)
	for _, v := range in {
		if v.typ.isA(t) {
			out = append(out, v)
		}
	}
	return out
}

// isType reports whether v is of type t or a subtype.
func isType(v Value, t *Type) bool { return v.typ.isA(t) }

// asType reports whether v may be cast to t: FHIR primitives only to their
// own type (code is not cast to string, per the R4 test suite), everything
// else to its type or a supertype.
func asType(v Value, t *Type) bool {
	if v.typ.Namespace == "FHIR" && v.typ.sys != kNone && v.typ.node == nil {
		return v.typ == t
	}
	return v.typ.isA(t)
}

func ofType(c Collection, t *Type) Collection {
	var out Collection
	for _, v := range c {
		if asType(v, t) {
			out = append(out, v)
		}
	}
	return out
}
