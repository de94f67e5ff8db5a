package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/fhirpath"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// The FHIRPath invariants of the R4 resources and datatypes
// (http://hl7.org/fhir/R4/conformance-rules.html#constraints), evaluated on
// every write. invariantTable (generated) holds them by the element they sit
// on; newInvariants compiles each expression once and arranges them as a
// tree per type, so that a check navigates only to the elements that carry
// invariants:
//
//   - constraints on a resource root or a backbone element are evaluated on
//     each value found by navigating the resource along the element path
//     (Patient.contact, Questionnaire.item and, through content references,
//     Questionnaire.item.item at any depth);
//   - constraints on a datatype (Period, Quantity, Timing …) are evaluated
//     on every value of that type anywhere in the resource, extensions
//     included, found by a walk of the JSON keys present (invariants_walk.go);
//   - contained resources and the resources of a Bundle or Parameters are
//     checked against their own type's invariants, with %resource the
//     resource itself and %rootResource its container for contained ones.
//
// A violated error constraint is an error issue with code invariant, so
// Validate fails with 422; a violated warning constraint is a warning. An
// expression our engine cannot evaluate is reported as a warning naming the
// key: an engine limit must never reject a resource.

// brokenRule says what to do with an R4 invariant whose published
// expression is wrong.
type brokenRule struct {
	skip   bool // true: not evaluated; false: evaluated, reported as a warning
	reason string
}

// brokenInvariants lists, by "Type/key", the R4 invariants whose published
// expression is known to be wrong; everything else is evaluated as
// published. Keys are not unique across types (inv-1 is a Parameters rule
// and a Task rule), hence the type.
var brokenInvariants = map[string]brokenRule{
	// "answer is Boolean" asks for System.Boolean, which a FHIR.boolean
	// answer never is (https://hl7.org/fhir/R4/fhirpath.html#types), so
	// every enableWhen with operator exists fails, as in the official
	// Questionnaire-bb example. R5 corrected it to "answer is boolean".
	"Questionnaire/que-7": {skip: true, reason: "tests System.Boolean instead of FHIR boolean"},
	// Copied from the MetadataResource rule "name should be usable as an
	// identifier", but R4 ChargeItemDefinition has no name element: the
	// expression cannot be evaluated on any ChargeItemDefinition.
	"ChargeItemDefinition/cid-0": {skip: true, reason: "ChargeItemDefinition has no element name"},
	// category.select($this = 'problem-list-item') compares a
	// CodeableConcept with a string: false for every category, never empty,
	// so the warning fires on any Condition with a category and no
	// clinicalStatus, problem-list item or not.
	"Condition/con-3": {skip: true, reason: "compares a CodeableConcept with a string"},
}

// invariants is the rule set of the FHIRPath invariants; immutable after
// newInvariants, so safe for concurrent use.
type invariants struct {
	resources map[string]*elementNode // root node of each resource type with invariants
	datatypes map[string]*elementNode // root node of each datatype with invariants, checked wherever a value occurs
	shapes    *shapeIndex
	boxKeys   map[string]string // datatype → its key as a Parameters value: "valuePeriod"
	unbox     *fhirpath.Expression
}

// elementNode is an element of a type that carries invariants, or leads to
// one that does.
type elementNode struct {
	constraints []*constraint
	children    []*childStep
	ref         string // content reference: the node whose definition this element reuses
}

// childStep navigates from an element to one of its children.
type childStep struct {
	name   string // FHIRPath name: "contact", "value" for value[x]
	nav    *fhirpath.Expression
	array  bool // the child repeats, so its path takes an index
	choice bool // a choice element: its JSON key names the type (probabilityRange)
	node   *elementNode
}

// constraint is one compiled invariant.
type constraint struct {
	key      string
	severity string // outcome.SeverityError or outcome.SeverityWarning
	message  string // "pat-1: SHALL at least contain …"
	ofType   string // when set, only values of this type are checked
	expr     *fhirpath.Expression
}

// newInvariants compiles the table. An expression that does not compile is
// an error: the table is generated from the specification and the engine
// must handle all of it.
func newInvariants(table []invariantDef) (*invariants, error) {
	b := &treeBuilder{nodes: map[string]*elementNode{}, exprs: map[string]*fhirpath.Expression{}}
	iv := &invariants{
		resources: map[string]*elementNode{},
		datatypes: map[string]*elementNode{},
		shapes:    newShapeIndex(),
		boxKeys:   map[string]string{},
		unbox:     fhirpath.MustCompile("parameter.value"),
	}
	types := map[string]bool{}
	for _, d := range table {
		broken, isBroken := brokenInvariants[d.Type+"/"+d.Key]
		if isBroken && broken.skip {
			continue
		}
		expr, err := b.compile(d.Expr)
		if err != nil {
			return nil, fmt.Errorf("validate: invariant %s on %s: %w", d.Key, d.Path, err)
		}
		sev := outcome.SeverityError
		if d.Severity == "warning" || isBroken {
			sev = outcome.SeverityWarning
		}
		n, err := b.node(d.Path)
		if err != nil {
			return nil, err
		}
		n.constraints = append(n.constraints, &constraint{key: d.Key, severity: sev, message: d.Key + ": " + d.Human, ofType: d.OfType, expr: expr})
		types[d.Type] = true
	}
	boxable, err := parameterTypes()
	if err != nil {
		return nil, err
	}
	for typ := range types {
		if !fhir.IsResourceType(typ) && !boxable[typ] {
			if err := b.attach(typ, iv.shapes, types); err != nil {
				return nil, err
			}
		}
	}
	for typ := range types {
		if err := b.linkContentRefs(typ); err != nil {
			return nil, err
		}
		switch {
		case fhir.IsResourceType(typ):
			iv.resources[typ] = b.nodes[typ]
		case boxable[typ]:
			iv.datatypes[typ] = b.nodes[typ]
			iv.boxKeys[typ] = "value" + typ
		}
	}
	b.mergeContentRefs()
	return iv, nil
}

// parameterTypes returns the types Parameters.parameter.value[x] takes:
// every datatype but ElementDefinition and a few product datatypes.
func parameterTypes() (map[string]bool, error) {
	def, _, ok := fhir.LookupElement("Parameters.parameter.value[x]")
	if !ok {
		return nil, fmt.Errorf("validate: no Parameters.parameter.value[x] in the model")
	}
	types := map[string]bool{}
	for _, t := range def.Types {
		types[t] = true
	}
	return types, nil
}

// treeBuilder builds the element trees, sharing compiled expressions.
type treeBuilder struct {
	nodes map[string]*elementNode // by definition path
	exprs map[string]*fhirpath.Expression
}

func (b *treeBuilder) compile(src string) (*fhirpath.Expression, error) {
	if x, ok := b.exprs[src]; ok {
		return x, nil
	}
	x, err := fhirpath.Compile(src)
	if err != nil {
		return nil, err
	}
	b.exprs[src] = x
	return x, nil
}

// node returns the node of a definition path, creating it and its parents.
func (b *treeBuilder) node(path string) (*elementNode, error) {
	if n, ok := b.nodes[path]; ok {
		return n, nil
	}
	n := &elementNode{}
	b.nodes[path] = n
	dot := strings.LastIndexByte(path, '.')
	if dot < 0 {
		return n, nil
	}
	def, _, ok := fhir.LookupElement(path)
	if !ok {
		return nil, fmt.Errorf("validate: invariant on unknown element %s", path)
	}
	parent, err := b.node(path[:dot])
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(path[dot+1:], "[x]")
	nav, err := b.compile(name)
	if err != nil {
		return nil, err
	}
	n.ref = def.ContentRef
	parent.children = append(parent.children, &childStep{name: name, nav: nav, array: def.IsArray(), choice: def.IsChoice(), node: n})
	return n, nil
}

// attach makes the invariants of typ, a datatype that cannot be boxed as a
// Parameters value (ElementDefinition), part of the tree of every type with
// an element of that type (StructureDefinition.snapshot.element), as if the
// element were a content reference to the datatype.
func (b *treeBuilder) attach(typ string, shapes *shapeIndex, types map[string]bool) error {
	for owner := range shapes.types {
		td, _ := fhir.LookupType(owner)
		for i := range td.Elements {
			e := &td.Elements[i]
			if e.IsChoice() || !slices.Contains(e.Types, typ) {
				continue
			}
			n, err := b.node(e.Path)
			if err != nil {
				return err
			}
			n.ref = typ
			types[owner] = true
		}
	}
	return nil
}

// linkContentRefs adds the elements of typ that reuse the definition of a
// node (Questionnaire.item.item is a Questionnaire.item), until no more
// are found, so that nested items are checked at any depth.
func (b *treeBuilder) linkContentRefs(typ string) error {
	td, ok := fhir.LookupType(typ)
	if !ok {
		return fmt.Errorf("validate: invariants on unknown type %s", typ)
	}
	for added := true; added; {
		added = false
		for i := range td.Elements {
			e := &td.Elements[i]
			if e.ContentRef == "" || b.nodes[e.Path] != nil || b.nodes[e.ContentRef] == nil {
				continue
			}
			if _, err := b.node(e.Path); err != nil {
				return err
			}
			added = true
		}
	}
	return nil
}

// mergeContentRefs gives each content-reference node the constraints and
// children of the element it reuses (keeping its own constraints too).
func (b *treeBuilder) mergeContentRefs() {
	for _, n := range b.nodes {
		if n.ref == "" {
			continue
		}
		target := b.nodes[n.ref]
		for _, c := range target.constraints {
			if !hasKey(n.constraints, c.key) {
				n.constraints = append(n.constraints, c)
			}
		}
		n.children = append(n.children, target.children...)
	}
}

func hasKey(cs []*constraint, key string) bool {
	for _, c := range cs {
		if c.key == key {
			return true
		}
	}
	return false
}
