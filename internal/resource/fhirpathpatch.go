package resource

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/fhirpath"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// patchPaths caches the FHIRPath expressions of FHIRPath Patch operations.
var patchPaths fhirpath.Cache

// patchOp is one operation of a FHIRPath Patch
// (https://hl7.org/fhir/R4/fhirpatch.html).
type patchOp struct {
	index       int
	typ         string // add, insert, delete, replace, move
	path        string
	name        string
	value       any
	valueType   string // the FHIR type of value, from its value[x] key
	hasValue    bool
	at          int // insert: index
	source, dst int // move
}

// applyFHIRPathPatch applies a FHIRPath Patch Parameters resource to res in
// place, operation by operation.
func applyFHIRPathPatch(ctx context.Context, res, params map[string]any) error {
	ops, err := parsePatch(params)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if err := op.apply(ctx, res); err != nil {
			return err
		}
	}
	return nil
}

func parsePatch(params map[string]any) ([]patchOp, error) {
	if rt, _ := params["resourceType"].(string); rt != "Parameters" {
		return nil, outcome.New(outcome.Invalid, "a FHIRPath Patch is a Parameters resource, not %q", rt)
	}
	list, _ := params["parameter"].([]any)
	var ops []patchOp
	for i, p := range list {
		m, _ := p.(map[string]any)
		if name, _ := m["name"].(string); name != "operation" {
			return nil, outcome.At(outcome.Invalid, fmt.Sprintf("Parameters.parameter[%d].name", i), "a FHIRPath Patch parameter is named operation, not %q", name)
		}
		op, err := parseOp(i, m)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return nil, outcome.At(outcome.Invalid, "Parameters.parameter", "the FHIRPath Patch has no operation")
	}
	return ops, nil
}

func parseOp(i int, m map[string]any) (patchOp, error) {
	op := patchOp{index: i, at: -1, source: -1, dst: -1}
	parts, _ := m["part"].([]any)
	for _, p := range parts {
		part, _ := p.(map[string]any)
		name, _ := part["name"].(string)
		switch name {
		case "type":
			op.typ, _ = part["valueCode"].(string)
		case "path":
			op.path, _ = part["valueString"].(string)
		case "name":
			op.name, _ = part["valueString"].(string)
		case "value":
			op.value, op.valueType, op.hasValue = partValue(part)
		case "index", "source", "destination":
			n, err := partInteger(part)
			if err != nil {
				return op, outcome.At(outcome.Invalid, op.expr(), "%s: %v", name, err)
			}
			*map[string]*int{"index": &op.at, "source": &op.source, "destination": &op.dst}[name] = n
		default:
			return op, outcome.At(outcome.Invalid, op.expr(), "unknown operation part %q", name)
		}
	}
	return op, op.check()
}

func (op patchOp) expr() string { return fmt.Sprintf("Parameters.parameter[%d]", op.index) }

// check says what each operation type needs.
func (op patchOp) check() error {
	need := map[string][]bool{ // path, name, value, index, source+destination
		"add":     {true, true, true, false, false},
		"insert":  {true, false, true, true, false},
		"delete":  {true, false, false, false, false},
		"replace": {true, false, true, false, false},
		"move":    {true, false, false, false, true},
	}[op.typ]
	if need == nil {
		return outcome.At(outcome.Invalid, op.expr(), "operation type %q is not add, insert, delete, replace or move", op.typ)
	}
	missing := func(what string) error {
		return outcome.At(outcome.Invalid, op.expr(), "a %s operation needs %s", op.typ, what)
	}
	switch {
	case need[0] && op.path == "":
		return missing("a path")
	case need[1] && op.name == "":
		return missing("a name")
	case need[2] && !op.hasValue:
		return missing("a value")
	case need[3] && op.at < 0:
		return missing("an index")
	case need[4] && (op.source < 0 || op.dst < 0):
		return missing("a source and a destination")
	}
	return nil
}

// partValue reads a part's value: its value[x] (with the FHIR type the key
// names) or, for anonymous complex values, its own parts as an object.
func partValue(part map[string]any) (any, string, bool) {
	for k, v := range part {
		if t, ok := strings.CutPrefix(k, "value"); ok && t != "" {
			return v, t, true
		}
	}
	sub, ok := part["part"].([]any)
	if !ok {
		return nil, "", false
	}
	obj := map[string]any{}
	for _, p := range sub {
		m, _ := p.(map[string]any)
		name, _ := m["name"].(string)
		if v, typ, ok := partValue(m); ok && name != "" {
			if _, isChoice := fhirChoiceSuffix(typ); isChoice && strings.HasSuffix(name, "[x]") {
				name = strings.TrimSuffix(name, "[x]") + typ
			}
			obj[name] = v
		}
	}
	return obj, "", true
}

// fhirChoiceSuffix returns typ as the suffix a choice element's key takes.
func fhirChoiceSuffix(typ string) (string, bool) {
	if typ == "" {
		return "", false
	}
	return strings.ToUpper(typ[:1]) + typ[1:], true
}

func partInteger(part map[string]any) (int, error) {
	v, ok := part["valueInteger"]
	if !ok {
		return 0, fmt.Errorf("must be a valueInteger")
	}
	n, err := strconv.Atoi(fmt.Sprint(v))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%v is not a non-negative integer", v)
	}
	return n, nil
}

// lastStep splits "X.name" or "X.name[3]" into the parent expression, the
// element name and the index (-1 when none).
var lastStep = regexp.MustCompile(`^(.+)\.([A-Za-z][A-Za-z0-9_]*)(?:\[(\d+)\])?$`)

// location is where a path points in the JSON tree: an element of parent.
type location struct {
	parent map[string]any
	key    string // the JSON key in parent
	index  int    // index in the array at key, -1 for a single value
	path   string // the parent's model path, e.g. "Patient.contact"
}

func (op patchOp) apply(ctx context.Context, res map[string]any) error {
	switch op.typ {
	case "add":
		parent, path, err := op.single(ctx, res, op.path)
		if err != nil {
			return err
		}
		return op.add(parent, path)
	case "delete", "replace":
		return op.deleteOrReplace(ctx, res)
	default: // insert, move
		t, err := op.locate(ctx, res)
		if err != nil {
			return err
		}
		return op.reorder(t)
	}
}

// single evaluates expr and requires exactly one complex element.
func (op patchOp) single(ctx context.Context, res map[string]any, expr string) (map[string]any, string, error) {
	c, err := op.eval(ctx, res, expr)
	if err != nil {
		return nil, "", err
	}
	if len(c) != 1 {
		return nil, "", outcome.At(outcome.Unprocessable, op.expr(), "%s: path %q matches %d elements, not one", op.typ, expr, len(c))
	}
	m, ok := c[0].JSON().(map[string]any)
	if !ok {
		return nil, "", outcome.At(outcome.Unprocessable, op.expr(), "%s: path %q is not a complex element", op.typ, expr)
	}
	return m, c[0].ElementPath(), nil
}

func (op patchOp) eval(ctx context.Context, res map[string]any, expr string) (fhirpath.Collection, error) {
	e, err := patchPaths.Compile(expr)
	if err != nil {
		return nil, outcome.At(outcome.Invalid, op.expr(), "path %q: %v", expr, err)
	}
	c, err := e.Evaluate(ctx, res, &fhirpath.Options{Resource: res, RootResource: res})
	if err != nil {
		return nil, outcome.At(outcome.Unprocessable, op.expr(), "path %q: %v", expr, err)
	}
	return c, nil
}

// add sets a new child name of the element at parentPath: appended when the
// element repeats, set when it does not exist yet.
func (op patchOp) add(parent map[string]any, parentPath string) error {
	key, isArray, err := op.childKey(parentPath, op.name)
	if err != nil {
		return err
	}
	if isArray {
		list, _ := parent[key].([]any)
		parent[key] = append(list, op.value)
		return nil
	}
	if _, exists := parent[key]; exists {
		return outcome.At(outcome.Unprocessable, op.expr(), "add: %s already has a %s; use replace", parentPath, op.name)
	}
	parent[key] = op.value
	return nil
}

// childKey is the JSON key of element name under parentPath, and whether it repeats.
func (op patchOp) childKey(parentPath, name string) (string, bool, error) {
	if parentPath == "" {
		return "", false, outcome.At(outcome.Unprocessable, op.expr(), "%s: the path does not name a FHIR element", op.typ)
	}
	if def, _, ok := fhir.LookupElement(parentPath + "." + name); ok && !def.IsChoice() {
		return name, def.IsArray(), nil
	}
	if suffix, ok := fhirChoiceSuffix(op.valueType); ok {
		if def, _, ok := fhir.LookupElement(parentPath + "." + name + suffix); ok {
			return name + suffix, def.IsArray(), nil
		}
	}
	return "", false, outcome.At(outcome.Unprocessable, op.expr(), "%s has no element %q", parentPath, name)
}

func (op patchOp) deleteOrReplace(ctx context.Context, res map[string]any) error {
	if m := lastStep.FindStringSubmatch(op.path); m != nil {
		t, err := op.locate(ctx, res)
		if err != nil {
			return err
		}
		return op.change(t)
	}
	// A path ending in a function (where, first …): the elements it selects
	// are objects, found in the tree by identity.
	c, err := op.eval(ctx, res, op.path)
	if err != nil {
		return err
	}
	if len(c) == 0 && op.typ == "delete" {
		return nil
	}
	if len(c) != 1 {
		return outcome.At(outcome.Unprocessable, op.expr(), "%s: path %q matches %d elements, not one", op.typ, op.path, len(c))
	}
	obj, ok := c[0].JSON().(map[string]any)
	if !ok {
		return outcome.At(outcome.Unprocessable, op.expr(), "%s: path %q must end in an element name", op.typ, op.path)
	}
	t, found := findObject(res, obj)
	if !found {
		return outcome.At(outcome.Unprocessable, op.expr(), "%s: path %q does not select an element of the resource", op.typ, op.path)
	}
	return op.change(t)
}

// locate resolves a path of the form X.name or X.name[i].
func (op patchOp) locate(ctx context.Context, res map[string]any) (location, error) {
	m := lastStep.FindStringSubmatch(op.path)
	if m == nil {
		return location{}, outcome.At(outcome.Unprocessable, op.expr(), "%s: path %q must end in an element name", op.typ, op.path)
	}
	parent, path, err := op.single(ctx, res, m[1])
	if err != nil {
		return location{}, err
	}
	t := location{parent: parent, key: m[2], index: -1, path: path}
	if _, ok := parent[t.key]; !ok {
		// A choice element is named without its type: valueQuantity for value.
		for k := range parent {
			if strings.HasPrefix(k, t.key) && len(k) > len(t.key) && k[len(t.key)] >= 'A' && k[len(t.key)] <= 'Z' {
				t.key = k
				break
			}
		}
	}
	if m[3] != "" {
		t.index, _ = strconv.Atoi(m[3])
	}
	return t, nil
}

// change deletes or replaces the element at t.
func (op patchOp) change(t location) error {
	cur, exists := t.parent[t.key]
	list, isList := cur.([]any)
	if t.index >= 0 {
		if !isList || t.index >= len(list) {
			if op.typ == "delete" {
				return nil
			}
			return outcome.At(outcome.Unprocessable, op.expr(), "replace: %s has no element %d", t.key, t.index)
		}
		if op.typ == "replace" {
			list[t.index] = op.value
			return nil
		}
		t.parent[t.key] = slices.Delete(list, t.index, t.index+1)
		if len(list) == 1 {
			delete(t.parent, t.key)
		}
		return nil
	}
	if op.typ == "delete" {
		delete(t.parent, t.key)
		delete(t.parent, "_"+t.key)
		return nil
	}
	if !exists {
		return outcome.At(outcome.Unprocessable, op.expr(), "replace: there is no %s to replace; use add", t.key)
	}
	if isList && len(list) != 1 {
		return outcome.At(outcome.Unprocessable, op.expr(), "replace: %s has %d elements; name one, e.g. %s[0]", t.key, len(list), t.key)
	}
	if isList {
		list[0] = op.value
		return nil
	}
	t.parent[t.key] = op.value
	return nil
}

// reorder runs insert and move on the list at t.
func (op patchOp) reorder(t location) error {
	list, _ := t.parent[t.key].([]any)
	if op.typ == "insert" {
		if op.at > len(list) {
			return outcome.At(outcome.Unprocessable, op.expr(), "insert: index %d is past the end of %s (%d elements)", op.at, t.key, len(list))
		}
		t.parent[t.key] = slices.Insert(list, op.at, op.value)
		return nil
	}
	if op.source >= len(list) || op.dst >= len(list) {
		return outcome.At(outcome.Unprocessable, op.expr(), "move: %s has %d elements", t.key, len(list))
	}
	item := list[op.source]
	list = slices.Delete(list, op.source, op.source+1)
	t.parent[t.key] = slices.Insert(list, op.dst, item)
	return nil
}

// findObject finds where obj (by identity) sits in the tree under node.
func findObject(node map[string]any, obj map[string]any) (location, bool) {
	for k, v := range node {
		switch c := v.(type) {
		case map[string]any:
			if sameMap(c, obj) {
				return location{parent: node, key: k, index: -1}, true
			}
			if t, ok := findObject(c, obj); ok {
				return t, true
			}
		case []any:
			for i, item := range c {
				m, ok := item.(map[string]any)
				if !ok {
					continue
				}
				if sameMap(m, obj) {
					return location{parent: node, key: k, index: i}, true
				}
				if t, ok := findObject(m, obj); ok {
					return t, true
				}
			}
		}
	}
	return location{}, false
}

// sameMap reports whether a and b are the same map (not equal ones).
func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
