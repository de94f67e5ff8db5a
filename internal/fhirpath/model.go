package fhirpath

import (
	"sort"
	"strings"
	"sync"

	"github.com/ehealthplus/ehealth/internal/fhir"
)

// modelNode lists the children of a FHIR complex type or backbone element by
// FHIRPath name (choice elements under their base name: "value").
type modelNode struct {
	path   string
	fields map[string]*modelField
	order  []*modelField // definition order, for children()
}

// modelField is one element of a node; a choice element has one key per type.
type modelField struct {
	name string
	keys []*fieldKey
}

// fieldKey is one JSON key of an element, with the type its values have.
type fieldKey struct {
	key       string // "valueQuantity"
	code      string // type code from the definitions
	extKey    string // "_valueQuantity" for primitives, "" otherwise
	typ       *Type
	node      *modelNode // children of complex values
	resource  bool       // the value is a resource typed by its resourceType
	primitive bool
}

// registry holds the FHIR types and model nodes, built once from the R4
// tables of internal/fhir and read-only afterwards.
type registry struct {
	types map[string]*Type
	nodes map[string]*modelNode
}

var (
	regOnce sync.Once
	reg     *registry
)

func model() *registry {
	regOnce.Do(func() { reg = buildRegistry() })
	return reg
}

// fhirType returns the FHIR type of that name, nil when there is none.
func fhirType(name string) *Type { return model().types[name] }

// primitiveKinds maps the FHIR primitive types to the System type they
// convert to (https://hl7.org/fhir/R4/fhirpath.html#types).
var primitiveKinds = map[string]sysKind{
	"boolean": kBoolean, "integer": kInteger, "positiveInt": kInteger, "unsignedInt": kInteger,
	"decimal": kDecimal, "string": kString, "code": kString, "id": kString, "markdown": kString,
	"uri": kString, "url": kString, "canonical": kString, "oid": kString, "uuid": kString,
	"base64Binary": kString, "xhtml": kString, "date": kDate, "dateTime": kDateTime,
	"instant": kDateTime, "time": kTime,
}

// primitiveBases is the derivation of FHIR primitives from one another.
var primitiveBases = map[string]string{
	"code": "string", "id": "string", "markdown": "string",
	"url": "uri", "canonical": "uri", "oid": "uri", "uuid": "uri",
	"positiveInt": "integer", "unsignedInt": "integer",
}

type pendingLink struct {
	k   *fieldKey
	ref string
}

func buildRegistry() *registry {
	r := &registry{types: map[string]*Type{}, nodes: map[string]*modelNode{}}
	for name, k := range primitiveKinds {
		r.types[name] = &Type{Namespace: "FHIR", Name: name, sys: k}
	}
	queue := append(fhir.ResourceTypes(), "Resource", "DomainResource", "Element", "BackboneElement")
	var links []pendingLink
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if r.types[name] != nil {
			continue
		}
		td, ok := fhir.LookupType(name)
		if !ok {
			continue
		}
		t := &Type{Namespace: "FHIR", Name: name, resource: td.Kind == fhir.KindResource}
		if name == "Quantity" || isQuantityBase(td) {
			t.sys = kQuantity
		}
		r.types[name] = t
		t.node = r.node(name)
		links = r.addElements(td, links, &queue)
		if td.Base != "" {
			queue = append(queue, td.Base)
		}
	}
	for _, l := range links {
		if n := r.nodes[l.ref]; n != nil {
			l.k.node = n
		} else if t := r.types[l.ref]; t != nil {
			l.k.node = t.node
		}
	}
	r.linkBases()
	return r
}

func isQuantityBase(td *fhir.TypeDef) bool { return td.Base == "Quantity" }

func (r *registry) node(path string) *modelNode {
	n := r.nodes[path]
	if n == nil {
		n = &modelNode{path: path, fields: map[string]*modelField{}}
		r.nodes[path] = n
	}
	return n
}

// addElements creates the fields of every element of td and queues the types they use.
func (r *registry) addElements(td *fhir.TypeDef, links []pendingLink, queue *[]string) []pendingLink {
	hasKids := map[string]bool{}
	for i := range td.Elements {
		p := td.Elements[i].Path
		hasKids[p[:strings.LastIndexByte(p, '.')]] = true
	}
	for i := range td.Elements {
		e := &td.Elements[i]
		dot := strings.LastIndexByte(e.Path, '.')
		parent := r.node(e.Path[:dot])
		name := strings.TrimSuffix(e.Path[dot+1:], "[x]")
		f := &modelField{name: name}
		types := e.Types
		if len(types) == 0 {
			types = []string{"BackboneElement"}
		}
		for _, code := range types {
			k := &fieldKey{key: name}
			if e.IsChoice() {
				k.key = name + strings.ToUpper(code[:1]) + code[1:]
			}
			k.code = code
			if r.types[code] == nil {
				*queue = append(*queue, code)
			}
			_, k.primitive = primitiveKinds[code]
			if k.primitive {
				k.extKey = "_" + k.key
			}
			k.resource = code == "Resource"
			switch {
			case hasKids[e.Path]:
				k.node = r.node(e.Path)
			case e.ContentRef != "":
				links = append(links, pendingLink{k, strings.TrimPrefix(e.ContentRef, "#")})
			case !k.primitive && !k.resource:
				links = append(links, pendingLink{k, code})
			}
			f.keys = append(f.keys, k)
		}
		parent.fields[name] = f
		parent.order = append(parent.order, f)
	}
	return links
}

// linkBases sets every type's base and resolves types referenced before they were built.
func (r *registry) linkBases() {
	for name, t := range r.types {
		if b, ok := primitiveBases[name]; ok {
			t.base = r.types[b]
			continue
		}
		if td, ok := fhir.LookupType(name); ok && td.Base != "" {
			t.base = r.types[td.Base]
		} else if _, prim := primitiveKinds[name]; prim {
			t.base = r.types["Element"]
		}
	}
	for _, n := range r.nodes {
		for _, f := range n.fields {
			for _, k := range f.keys {
				if k.typ = r.types[k.code]; k.typ == nil {
					k.typ = typeAny
				}
			}
		}
	}
}

// lookupTypeSpec resolves a type specifier: "Quantity", "FHIR.Patient",
// "System.Integer". Unqualified names are FHIR types first, then System types.
func lookupTypeSpec(name string) (*Type, error) {
	ns, local, qualified := strings.Cut(name, ".")
	if !qualified {
		local, ns = ns, ""
	}
	if ns == "" || ns == "FHIR" {
		if t := fhirType(local); t != nil {
			return t, nil
		}
	}
	if ns == "" || ns == "System" {
		if t := systemTypes[local]; t != nil {
			return t, nil
		}
	}
	if ns == "System" && local != "" {
		// a System type this engine does not model: nothing is of it.
		return &Type{Namespace: "System", Name: local}, nil
	}
	return nil, &unknownTypeError{name}
}

type unknownTypeError struct{ name string }

func (e *unknownTypeError) Error() string { return "unknown type " + e.name }

// childKeys lists the JSON keys of an untyped object in a stable order.
func childKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "resourceType" && !strings.HasPrefix(k, "_") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
