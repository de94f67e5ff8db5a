package validate

import (
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/fhirpath"
)

// shape is the JSON form of a type or backbone element: what each key
// holds. It lets a plain walk of the JSON, visiting only the keys present,
// find the resources and datatype values inside a resource, which is much
// cheaper than FHIRPath's descendants() over the whole model.
type shape struct {
	fields map[string]*shapeField
}

// shapeField is what one JSON key of a shape holds.
type shapeField struct {
	shape    *shape
	datatype string // the complex datatype of the values ("Period"); "" for backbone elements
	resource bool   // the values are resources (contained, Bundle.entry.resource)
}

// shapeIndex holds the shapes of every resource and datatype; read-only
// after newShapeIndex.
type shapeIndex struct {
	types   map[string]*shape // by type name
	paths   map[string]*shape // backbone elements by definition path
	element *shapeField       // the "_birthDate" object of a primitive: an Element
}

func newShapeIndex() *shapeIndex {
	ix := &shapeIndex{types: map[string]*shape{}, paths: map[string]*shape{}}
	queue := append(fhir.ResourceTypes(), "Element")
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if ix.types[name] != nil {
			continue
		}
		td, ok := fhir.LookupType(name)
		if !ok {
			continue
		}
		ix.types[name] = ix.shapeOf(name)
		queue = ix.add(td, queue)
	}
	ix.element = &shapeField{shape: ix.types["Element"]}
	return ix
}

// shapeOf returns the shape of a type or backbone path, creating it empty.
func (ix *shapeIndex) shapeOf(path string) *shape {
	if s := ix.paths[path]; s != nil {
		return s
	}
	s := &shape{fields: map[string]*shapeField{}}
	ix.paths[path] = s
	return s
}

// add fills in the fields of td's shapes and returns queue with the
// datatypes they use.
func (ix *shapeIndex) add(td *fhir.TypeDef, queue []string) []string {
	hasKids := map[string]bool{}
	for i := range td.Elements {
		p := td.Elements[i].Path
		hasKids[p[:strings.LastIndexByte(p, '.')]] = true
	}
	for i := range td.Elements {
		e := &td.Elements[i]
		dot := strings.LastIndexByte(e.Path, '.')
		parent := ix.shapeOf(e.Path[:dot])
		name := strings.TrimSuffix(e.Path[dot+1:], "[x]")
		switch {
		case hasKids[e.Path]:
			parent.fields[name] = &shapeField{shape: ix.shapeOf(e.Path)}
		case e.ContentRef != "":
			parent.fields[name] = &shapeField{shape: ix.shapeOf(e.ContentRef)}
		default:
			for _, t := range e.Types {
				key := name
				if e.IsChoice() {
					key += strings.ToUpper(t[:1]) + t[1:]
				}
				switch {
				case t == "Resource":
					parent.fields[key] = &shapeField{resource: true}
				case !fhir.IsPrimitive(t):
					parent.fields[key] = &shapeField{shape: ix.shapeOf(t), datatype: t}
					queue = append(queue, t)
				}
			}
		}
	}
	return queue
}

// scope is a resource met by the walk, with its FHIRPath and the options
// its invariants are evaluated with.
type scope struct {
	typ  string
	res  map[string]any
	path string
	opts *fhirpath.Options
}

// foundValue is a value of a datatype with invariants met by the walk.
type foundValue struct {
	value map[string]any
	typ   string
	path  string
	scope int // index in walk.scopes of the resource it belongs to
}

// walk is one walk of a resource's JSON; never shared.
type walk struct {
	shapes  *shapeIndex
	boxable map[string]*elementNode // the datatypes whose values are collected
	bundle  map[string]any
	scopes  []scope
	found   []foundValue
}

// resource opens a scope for res, a resource at path inside parent (nil at
// the top); a contained resource has its container's root as %rootResource,
// any other is its own root.
func (w *walk) resource(res map[string]any, parent *scope, contained bool, path []byte) {
	rt, _ := res["resourceType"].(string)
	sh := w.shapes.types[rt]
	if sh == nil {
		return // fhir.Validate reports it
	}
	root := res
	if contained && parent != nil {
		root = parent.opts.RootResource
	}
	w.scopes = append(w.scopes, scope{typ: rt, res: res, path: string(path),
		opts: &fhirpath.Options{Resource: res, RootResource: root, Bundle: w.bundle}})
	w.object(res, sh, len(w.scopes)-1, path)
}

// object walks the keys of m, an object of shape sh.
func (w *walk) object(m map[string]any, sh *shape, sc int, path []byte) {
	for k, v := range m {
		f := sh.fields[k]
		if f == nil {
			if len(k) < 2 || k[0] != '_' {
				continue // resourceType, or unknown: fhir.Validate reports it
			}
			f = w.shapes.element
		}
		p := append(append(path, '.'), k...)
		switch v := v.(type) {
		case map[string]any:
			w.value(v, f, sc, k, p)
		case []any:
			for i, item := range v {
				if m, ok := item.(map[string]any); ok {
					w.value(m, f, sc, k, append(strconv.AppendInt(append(p, '['), int64(i), 10), ']'))
				}
			}
		}
	}
}

// value walks m, a value of field f under key.
func (w *walk) value(m map[string]any, f *shapeField, sc int, key string, path []byte) {
	if f.resource {
		parent := w.scopes[sc]
		w.resource(m, &parent, key == "contained", path)
		return
	}
	if w.boxable[f.datatype] != nil {
		w.found = append(w.found, foundValue{value: m, typ: f.datatype, path: string(path), scope: sc})
	}
	w.object(m, f.shape, sc, path)
}
