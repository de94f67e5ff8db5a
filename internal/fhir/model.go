package fhir

import (
	"sort"
	"strings"
	"sync"
)

//go:generate go run ./gen -defs ../../../shared/fhir/definitions -out tables_gen.go

// Kind says whether a TypeDef is a resource or a complex datatype.
type Kind uint8

// The kinds of TypeDef.
const (
	KindComplex Kind = iota + 1
	KindResource
)

// TypeDef is the definition of one resource or complex datatype, taken from
// the snapshot of its StructureDefinition.
type TypeDef struct {
	Name     string // "Patient", "HumanName"
	Kind     Kind
	Abstract bool   // Resource, DomainResource, Element, BackboneElement
	Base     string // name of the base type, "" for Base/Element roots
	// Elements lists every element below the root in definition order,
	// backbone elements as nested paths ("Patient.contact.name").
	Elements []ElementDef
}

// ElementDef is one element of a TypeDef.
type ElementDef struct {
	Path       string   // "Observation.value[x]"
	Min        int      // minimum cardinality
	Max        int      // maximum cardinality, -1 for "*"
	Types      []string // type codes; several only for choice elements
	ContentRef string   // for elements defined elsewhere: "Questionnaire.item"
	Summary    bool     // isSummary
	Modifier   bool     // isModifier
	Binding    Binding  // zero when the element has no binding
}

// Name is the last segment of the path, "value[x]" for a choice element.
func (e *ElementDef) Name() string { return e.Path[strings.LastIndexByte(e.Path, '.')+1:] }

// IsChoice reports whether the element is a choice element such as value[x].
func (e *ElementDef) IsChoice() bool { return strings.HasSuffix(e.Path, "[x]") }

// IsArray reports whether the element repeats (max > 1), so that it is a JSON array.
func (e *ElementDef) IsArray() bool { return e.Max != 1 && e.Max != 0 }

// Binding is the terminology binding of a coded element; ValueSet carries no |version.
type Binding struct {
	Strength string // required, extensible, preferred, example
	ValueSet string
}

// PrimitiveDef is a primitive datatype and the regex its value must match
// (empty for xhtml, which has its own rules).
type PrimitiveDef struct {
	Name  string
	Regex string
}

type compartmentEntry struct {
	typ   string
	paths []string
}

// LookupType returns the definition of a resource or complex datatype.
func LookupType(name string) (*TypeDef, bool) {
	i := sort.Search(len(typeTable), func(i int) bool { return typeTable[i].Name >= name })
	if i < len(typeTable) && typeTable[i].Name == name {
		return &typeTable[i], true
	}
	return nil, false
}

// Primitive returns the definition of a primitive type such as "date".
func Primitive(name string) (PrimitiveDef, bool) {
	for _, p := range primitiveTable {
		if p.Name == name {
			return p, true
		}
	}
	return PrimitiveDef{}, false
}

// IsPrimitive reports whether name is a primitive type code (lower-case first letter).
func IsPrimitive(name string) bool { _, ok := Primitive(name); return ok }

// IsResourceType reports whether name is one of the 146 concrete R4 resource types.
func IsResourceType(name string) bool {
	t, ok := LookupType(name)
	return ok && t.Kind == KindResource && !t.Abstract
}

// ResourceTypes returns the concrete resource types, sorted.
func ResourceTypes() []string {
	var names []string
	for i := range typeTable {
		if t := &typeTable[i]; t.Kind == KindResource && !t.Abstract {
			names = append(names, t.Name)
		}
	}
	return names
}

// LookupElement resolves a dotted path through resources, datatypes and
// content references, e.g. "Patient.name.family", "Observation.valueQuantity.unit"
// or "Questionnaire.item.item.text". It returns the element and the type at
// the end of the path: the chosen type for a choice ("Quantity" for
// valueQuantity), otherwise the element's first type or "BackboneElement".
func LookupElement(path string) (def *ElementDef, typ string, ok bool) {
	segs := strings.Split(path, ".")
	n := index().nodes[segs[0]]
	for i, seg := range segs[1:] {
		if n == nil {
			return nil, "", false
		}
		f := n.fields[seg]
		if f == nil || f.primExt {
			f = n.choices[strings.TrimSuffix(seg, "[x]")]
		}
		if f == nil {
			return nil, "", false
		}
		if i == len(segs)-2 {
			return f.elem, f.typ, true
		}
		n = f.child
	}
	return nil, "", false
}

// node is the validation view of a type or backbone element: its fields by JSON key.
type node struct {
	name     string            // type name or backbone path
	fields   map[string]*field // JSON keys, incl. "_birthDate" and expanded choices
	choices  map[string]*field // choice base name ("value") -> first expansion
	elems    []*ElementDef     // definition order
	required []*ElementDef     // min > 0
	order    map[string]int    // JSON key -> position, for Marshal
}

// field is one JSON key of a node.
type field struct {
	elem        *ElementDef
	key         string // JSON key
	typ         string // type code of this key (choice resolved)
	primExt     bool   // "_x": the id/extension part of a primitive
	child       *node  // node of the value, nil for primitives and resources
	isPrimitive bool
	resource    bool // type Resource: a nested resource
	pos         int  // index of elem in node.elems
}

type modelIndex struct {
	nodes      map[string]*node
	primitives map[string]*primitiveCheck
	compart    map[string][]string
	keys       map[string]string // every JSON key of every node, interned
}

var (
	indexOnce sync.Once
	indexVal  *modelIndex
)

// index builds the lookup structures from the generated tables once; it is
// read-only afterwards, so it is safe for concurrent use.
func index() *modelIndex {
	indexOnce.Do(func() { indexVal = buildIndex() })
	return indexVal
}

func buildIndex() *modelIndex {
	ix := &modelIndex{nodes: map[string]*node{}, primitives: map[string]*primitiveCheck{}, compart: map[string][]string{}}
	for _, p := range primitiveTable {
		ix.primitives[p.Name] = newPrimitiveCheck(p)
	}
	type pending struct {
		f   *field
		key string
	}
	var links []pending
	for ti := range typeTable {
		t := &typeTable[ti]
		ix.nodes[t.Name] = newNode(t.Name)
		hasKids := map[string]bool{}
		for i := range t.Elements {
			p := t.Elements[i].Path
			hasKids[p[:strings.LastIndexByte(p, '.')]] = true
		}
		for i := range t.Elements {
			e := &t.Elements[i]
			parentPath := e.Path[:strings.LastIndexByte(e.Path, '.')]
			parent := ix.nodes[parentPath]
			if parent == nil {
				parent = newNode(parentPath)
				ix.nodes[parentPath] = parent
			}
			for _, f := range parent.add(e, ix) {
				switch {
				case f.primExt:
					links = append(links, pending{f, "Element"})
				case hasKids[e.Path]:
					links = append(links, pending{f, e.Path})
				case e.ContentRef != "":
					links = append(links, pending{f, e.ContentRef})
				case !f.isPrimitive && !f.resource:
					links = append(links, pending{f, f.typ})
				}
			}
		}
	}
	for _, l := range links {
		l.f.child = ix.nodes[l.key]
	}
	ix.keys = map[string]string{"resourceType": "resourceType"}
	for _, n := range ix.nodes {
		for k := range n.fields {
			ix.keys[k] = k
		}
	}
	for _, c := range patientCompartmentTable {
		ix.compart[c.typ] = c.paths
	}
	return ix
}

func newNode(name string) *node {
	return &node{name: name, fields: map[string]*field{}, choices: map[string]*field{}, order: map[string]int{}}
}

// add registers an element under every JSON key it can appear as.
func (n *node) add(e *ElementDef, ix *modelIndex) []*field {
	pos := len(n.elems)
	n.elems = append(n.elems, e)
	if e.Min > 0 {
		n.required = append(n.required, e)
	}
	name := e.Name()
	types := e.Types
	if len(types) == 0 {
		types = []string{"BackboneElement"} // contentReference
	}
	var out []*field
	for _, t := range types {
		key := name
		if e.IsChoice() {
			key = strings.TrimSuffix(name, "[x]") + strings.ToUpper(t[:1]) + t[1:]
		}
		f := &field{elem: e, key: key, typ: t, pos: pos, resource: t == "Resource"}
		_, f.isPrimitive = ix.primitives[t]
		n.fields[key] = f
		n.order[key] = len(n.order)
		out = append(out, f)
		if e.IsChoice() && n.choices[strings.TrimSuffix(name, "[x]")] == nil {
			n.choices[strings.TrimSuffix(name, "[x]")] = f
		}
		if f.isPrimitive {
			x := &field{elem: e, key: "_" + key, typ: t, pos: pos, primExt: true}
			n.fields[x.key] = x
			n.order[x.key] = len(n.order)
			out = append(out, x)
		}
	}
	return out
}
