package profile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhirpath"
)

// profile is one compiled StructureDefinition of the guide.
type profile struct {
	url, id string
	typ     string // the constrained type: a resource type, or Extension
	record  RecordType
	// selectable: chosen by resource type (the record and registry
	// profiles; not the extensions, nor profiles only referred to).
	selectable bool
	// selector is, for a type with several profiles, the category
	// patterns a resource must match for this one to be chosen; nil for
	// the type's default profile.
	selector []any
	root     *node
	nodes    []*node // every node, for linking
	expected []expectedRule
}

// node is an element of a profile that carries a rule of the profile, or
// leads to one that does. Only the rules the differential states are
// checked: what the base says, internal/validate checks already.
type node struct {
	id     string // element id: "Observation.identifier:source.system"
	name   string // FHIRPath name of the element: "value" for value[x]
	nav    *fhirpath.Expression
	array  bool // repeats in the base: its values have indexes
	choice bool

	card     bool // min/max differ from the base's, or a slice: check them
	min, max int  // max -1 for *
	types    []string
	targets  []string // the target profiles of a Reference, as the snapshot says
	// targetTypes are the resource types targets allow (Link sets it);
	// nil: any.
	targetTypes []string
	profiles    []string // the guide's profiles the values (Extension) or referenced contained resources must meet
	fixed       any
	pattern     any
	binding     *binding
	rules       []*constraint
	mustSup     bool
	slicing     *slicing
	slice       string // the slice name of a slice node
	children    []*node
}

type binding struct{ strength, valueSet string }

type constraint struct {
	key, severity, human string
	expr                 *fhirpath.Expression
}

// slicing is how the values of a sliced element are split into slices.
type slicing struct {
	discs   []discriminator
	rules   string // closed, open, openAtEnd
	ordered bool
	slices  []*node
	// by slice, by discriminator: what the slice's element at the path says
	at [][]discValue
}

type discriminator struct {
	typ  string // value, pattern, type, exists, profile
	path string
	nav  *fhirpath.Expression // nil for $this
}

// discValue is what one slice requires at one discriminator's path.
type discValue struct {
	fixed, pattern any
	valueSet       string // a required binding
	rules          []*constraint
	types          []string
	exists         int // 1 must exist, -1 must not, 0 no say
}

// compiler builds the nodes of one profile.
type compiler struct {
	p     *profile
	snap  map[string]map[string]any // snapshot elements by id
	diff  map[string]map[string]any // differential elements by id
	nodes map[string]*node
	exprs map[string]*fhirpath.Expression
}

// compile turns a StructureDefinition with its snapshot into a profile.
func compile(sd map[string]any) (*profile, error) {
	p := &profile{url: str(sd["url"]), id: str(sd["id"]), typ: str(sd["type"])}
	for _, k := range list(sd["keyword"]) {
		if k, _ := k.(map[string]any); k["system"] == RecordTypeSystem {
			p.selectable = true
			if c := str(k["code"]); c != registryKeyword {
				p.record = RecordType(c)
			}
		}
	}
	c := &compiler{p: p, snap: map[string]map[string]any{}, diff: map[string]map[string]any{},
		nodes: map[string]*node{}, exprs: map[string]*fhirpath.Expression{}}
	for _, e := range elements(sd, "snapshot") {
		c.snap[str(e["id"])] = e
	}
	diffIDs := []string{}
	for _, e := range elements(sd, "differential") {
		id := str(e["id"])
		if c.snap[id] == nil {
			return nil, fmt.Errorf("differential element %s not in the snapshot (go generate ./internal/profile)", id)
		}
		c.diff[id] = e
		diffIDs = append(diffIDs, id)
	}
	var err error
	if p.root, err = c.node(p.typ); err != nil {
		return nil, err
	}
	for _, id := range diffIDs {
		if _, err := c.node(id); err != nil {
			return nil, err
		}
	}
	for _, n := range c.nodes {
		if n.slicing != nil {
			if err := c.discriminate(n); err != nil {
				return nil, err
			}
		}
	}
	p.selector = selector(p.root)
	return p, nil
}

// node returns the node of element id, making it and its ancestors.
func (c *compiler) node(id string) (*node, error) {
	if n := c.nodes[id]; n != nil {
		return n, nil
	}
	e := c.snap[id]
	if e == nil {
		return nil, fmt.Errorf("element %s not in the snapshot", id)
	}
	n := &node{id: id}
	c.nodes[id] = n
	c.p.nodes = append(c.p.nodes, n)
	if err := c.rulesOf(n, e, c.diff[id]); err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	dot := strings.LastIndexByte(id, '.')
	if dot < 0 {
		return n, nil // the root
	}
	parentID, last := id[:dot], id[dot+1:]
	name, slice, isSlice := strings.Cut(last, ":")
	n.name = strings.TrimSuffix(name, "[x]")
	n.choice = strings.HasSuffix(name, "[x]")
	base, _ := e["base"].(map[string]any)
	n.array = str(base["max"]) != "1" && str(base["max"]) != "0"
	nav, err := c.compile("`" + n.name + "`")
	if err != nil {
		return nil, err
	}
	n.nav = nav
	if isSlice {
		sliced, err := c.node(parentID + "." + name)
		if err != nil {
			return nil, err
		}
		if sliced.slicing == nil {
			return nil, fmt.Errorf("slice %s of an element with no slicing", id)
		}
		n.slice, n.card = slice, true
		sliced.slicing.slices = append(sliced.slicing.slices, n)
		return n, nil
	}
	parent, err := c.node(parentID)
	if err != nil {
		return nil, err
	}
	parent.children = append(parent.children, n)
	return n, nil
}

// rulesOf sets the rules of n from its snapshot element e and
// differential element d (nil when the differential does not name it).
func (c *compiler) rulesOf(n *node, e, d map[string]any) error {
	n.min, n.max = num(e["min"]), maxOf(str(e["max"]))
	if sl, ok := e["slicing"].(map[string]any); ok {
		n.slicing = &slicing{rules: str(sl["rules"]), ordered: sl["ordered"] == true}
		for _, x := range list(sl["discriminator"]) {
			x, _ := x.(map[string]any)
			dc := discriminator{typ: str(x["type"]), path: str(x["path"])}
			if dc.path != "$this" {
				nav, err := c.compile(dc.path)
				if err != nil {
					return err
				}
				dc.nav = nav
			}
			n.slicing.discs = append(n.slicing.discs, dc)
		}
	}
	if d == nil {
		return nil
	}
	base, _ := e["base"].(map[string]any)
	n.card = n.min != num(base["min"]) || n.max != maxOf(str(base["max"]))
	n.mustSup = d["mustSupport"] == true
	if _, ok := d["type"]; ok {
		for _, t := range list(e["type"]) {
			t, _ := t.(map[string]any)
			n.types = append(n.types, str(t["code"]))
			for _, u := range list(t["profile"]) {
				n.profiles = append(n.profiles, str(u))
			}
			for _, u := range list(t["targetProfile"]) {
				u := str(u)
				if strings.HasPrefix(u, Base) {
					n.profiles = append(n.profiles, u)
				}
				n.targets = append(n.targets, u)
			}
		}
	}
	for k, v := range d {
		switch {
		case strings.HasPrefix(k, "fixed"):
			n.fixed = v
		case strings.HasPrefix(k, "pattern"):
			n.pattern = v
		}
	}
	if b, ok := d["binding"].(map[string]any); ok {
		n.binding = &binding{strength: str(b["strength"]), valueSet: canonical(str(b["valueSet"]))}
	}
	rules, err := c.constraints(e)
	n.rules = rules
	return err
}

// constraints compiles the constraints of e that the guide added (the
// base's are checked by internal/validate).
func (c *compiler) constraints(e map[string]any) ([]*constraint, error) {
	var out []*constraint
	for _, k := range list(e["constraint"]) {
		k, _ := k.(map[string]any)
		if !strings.HasPrefix(str(k["source"]), Base) {
			continue
		}
		x, err := c.compile(str(k["expression"]))
		if err != nil {
			return nil, fmt.Errorf("constraint %s: %w", k["key"], err)
		}
		sev := "error"
		if k["severity"] == "warning" {
			sev = "warning"
		}
		out = append(out, &constraint{key: str(k["key"]), severity: sev, human: str(k["human"]), expr: x})
	}
	return out, nil
}

func (c *compiler) compile(src string) (*fhirpath.Expression, error) {
	if x := c.exprs[src]; x != nil {
		return x, nil
	}
	x, err := fhirpath.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("FHIRPath %q: %w", src, err)
	}
	c.exprs[src] = x
	return x, nil
}

// discriminate reads, for each slice of n and each discriminator, what the
// slice's element at the discriminator's path requires.
func (c *compiler) discriminate(n *node) error {
	sl := n.slicing
	for _, s := range sl.slices {
		var row []discValue
		for _, dc := range sl.discs {
			id := s.id
			if dc.path != "$this" {
				id += "." + dc.path
			}
			var dv discValue
			if e := c.snap[id]; e != nil {
				if err := c.discValueOf(&dv, e); err != nil {
					return err
				}
			}
			if dc.path == "url" && dv.fixed == nil && len(s.profiles) == 1 {
				dv.fixed = s.profiles[0] // an extension slice: its url is its profile's
			}
			row = append(row, dv)
		}
		sl.at = append(sl.at, row)
	}
	return nil
}

func (c *compiler) discValueOf(dv *discValue, e map[string]any) error {
	for k, v := range e {
		switch {
		case strings.HasPrefix(k, "fixed"):
			dv.fixed = v
		case strings.HasPrefix(k, "pattern"):
			dv.pattern = v
		}
	}
	if b, ok := e["binding"].(map[string]any); ok && b["strength"] == "required" {
		dv.valueSet = canonical(str(b["valueSet"]))
	}
	for _, t := range list(e["type"]) {
		t, _ := t.(map[string]any)
		dv.types = append(dv.types, str(t["code"]))
	}
	switch {
	case num(e["min"]) > 0:
		dv.exists = 1
	case str(e["max"]) == "0":
		dv.exists = -1
	}
	rules, err := c.constraints(e)
	dv.rules = rules
	return err
}

// selector returns the category patterns a resource must match for the
// profile to be chosen: those of the required slices of category.
func selector(root *node) []any {
	var out []any
	for _, ch := range root.children {
		if ch.name != "category" || ch.slicing == nil {
			continue
		}
		for _, s := range ch.slicing.slices {
			if s.min > 0 && s.pattern != nil {
				out = append(out, s.pattern)
			}
		}
	}
	return out
}

func elements(sd map[string]any, part string) []map[string]any {
	p, _ := sd[part].(map[string]any)
	var out []map[string]any
	for _, e := range list(p["element"]) {
		if e, ok := e.(map[string]any); ok {
			out = append(out, e)
		}
	}
	return out
}

func list(v any) []any { l, _ := v.([]any); return l }

func str(v any) string { s, _ := v.(string); return s }

func num(v any) int {
	n, _ := strconv.Atoi(fmt.Sprint(v))
	return n
}

func maxOf(s string) int {
	if s == "*" {
		return -1
	}
	n, _ := strconv.Atoi(s)
	return n
}

// typeOfTarget is the resource type a target profile constrains: the
// guide's profiles say it, core ones end with it.
func typeOfTarget(url string, set map[string]*profile) string {
	if p := set[url]; p != nil {
		return p.typ
	}
	return url[strings.LastIndexByte(url, '/')+1:]
}

// sortedTargets returns the target types of n.
func sortedTargets(n *node, set map[string]*profile) []string {
	var out []string
	for _, u := range n.targets {
		if t := typeOfTarget(u, set); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}
