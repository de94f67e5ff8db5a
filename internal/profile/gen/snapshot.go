package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// element is one ElementDefinition in JSON form.
type element = map[string]any

// definitions are the base StructureDefinitions by canonical URL.
type definitions map[string]map[string]any

// run reads the base definitions and the differentials and writes the
// snapshots, removing stale ones.
func run(defsDir, igDir, outDir string) error {
	base := definitions{}
	for _, name := range []string{"profiles-types.json.gz", "profiles-resources.json.gz"} {
		if err := base.read(filepath.Join(defsDir, name)); err != nil {
			return err
		}
	}
	diffs, err := readDifferentials(igDir)
	if err != nil {
		return err
	}
	for _, sd := range diffs { // profiles of profiles find their base here
		base[sd["url"].(string)] = sd
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, sd := range diffs {
		full, err := snapshotOf(sd, base)
		if err != nil {
			return fmt.Errorf("%s: %w", sd["id"], err)
		}
		name := "StructureDefinition-" + sd["id"].(string) + ".json"
		want[name] = true
		data, err := encode(full)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(outDir, name), data, 0o644); err != nil {
			return err
		}
	}
	old, _ := filepath.Glob(filepath.Join(outDir, "*.json"))
	for _, p := range old {
		if !want[filepath.Base(p)] {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// encode writes JSON indented, keys sorted (encoding/json sorts map keys),
// so the output is stable.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// read adds the StructureDefinitions of one official bundle.
func (d definitions) read(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var b struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	dec := json.NewDecoder(zr)
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, e := range b.Entry {
		if e.Resource["resourceType"] == "StructureDefinition" {
			d[e.Resource["url"].(string)] = e.Resource
		}
	}
	return nil
}

// readDifferentials reads the StructureDefinitions of the guide, sorted by
// id.
func readDifferentials(dir string) ([]map[string]any, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "StructureDefinition-*.json"))
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var sd map[string]any
		if err := decode(data, &sd); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if sd["derivation"] != "constraint" {
			return nil, fmt.Errorf("%s: derivation is %v, want constraint", p, sd["derivation"])
		}
		out = append(out, sd)
	}
	slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(a["id"].(string), b["id"].(string)) })
	return out, nil
}

// snapshotOf returns sd with its snapshot.
func snapshotOf(sd map[string]any, base definitions) (map[string]any, error) {
	parent := base[str(sd["baseDefinition"])]
	if parent == nil {
		return nil, fmt.Errorf("base %v not found", sd["baseDefinition"])
	}
	if parent["derivation"] == "constraint" && parent["snapshot"] == nil {
		return nil, fmt.Errorf("base %v has no snapshot yet", sd["baseDefinition"])
	}
	s := &snapshot{base: base, url: str(sd["url"])}
	for _, e := range elementsOf(parent, "snapshot") {
		s.els = append(s.els, clean(clone(e).(element)))
	}
	for _, d := range elementsOf(sd, "differential") {
		if err := s.apply(d); err != nil {
			return nil, err
		}
	}
	out := clone(sd).(map[string]any)
	out["snapshot"] = map[string]any{"element": toAny(s.els)}
	return out, nil
}

// clean drops what a snapshot element need not repeat from the base: the
// mappings to other standards (long, and no rule of ours).
func clean(e element) element {
	delete(e, "mapping")
	if _, ok := e["id"]; !ok {
		e["id"] = e["path"]
	}
	return e
}

func elementsOf(sd map[string]any, part string) []element {
	p, _ := sd[part].(map[string]any)
	list, _ := p["element"].([]any)
	out := make([]element, 0, len(list))
	for _, e := range list {
		out = append(out, e.(map[string]any))
	}
	return out
}

// snapshot is a snapshot being built.
type snapshot struct {
	base definitions
	url  string // the profile's, as the source of its constraints
	els  []element
}

// apply merges one differential element.
func (s *snapshot) apply(d element) error {
	id := str(d["id"])
	if id == "" {
		return fmt.Errorf("differential element %v has no id", d["path"])
	}
	i, err := s.ensure(id)
	if err != nil {
		return err
	}
	return s.merge(s.els[i], d)
}

// find returns the index of the element with id, or -1.
func (s *snapshot) find(id string) int {
	return slices.IndexFunc(s.els, func(e element) bool { return e["id"] == id })
}

// end returns the index after the subtree of the element at i: its
// children and slices, at any depth.
func (s *snapshot) end(i int) int {
	id := str(s.els[i]["id"])
	j := i + 1
	for j < len(s.els) {
		o := str(s.els[j]["id"])
		if !strings.HasPrefix(o, id+".") && !strings.HasPrefix(o, id+":") {
			break
		}
		j++
	}
	return j
}

// ensure returns the index of the element with id, making it when the
// base has it only as a slice to cut or a datatype to expand.
func (s *snapshot) ensure(id string) (int, error) {
	if i := s.find(id); i >= 0 {
		return i, nil
	}
	dot := strings.LastIndexByte(id, '.')
	if dot < 0 {
		return -1, fmt.Errorf("element %s not in the base", id)
	}
	parentID, last := id[:dot], id[dot+1:]
	if name, slice, ok := strings.Cut(last, ":"); ok {
		return s.slice(parentID+"."+name, slice)
	}
	p, err := s.ensure(parentID)
	if err != nil {
		return -1, err
	}
	if !s.hasChildren(p) {
		if err := s.expand(p); err != nil {
			return -1, fmt.Errorf("%s: %w", id, err)
		}
	}
	if i := s.find(id); i >= 0 {
		return i, nil
	}
	return -1, fmt.Errorf("element %s not in the base", id)
}

// hasChildren reports whether the element at i has child elements.
func (s *snapshot) hasChildren(i int) bool {
	return i+1 < len(s.els) && strings.HasPrefix(str(s.els[i+1]["id"]), str(s.els[i]["id"])+".")
}

// slice makes slice name of the element with id sliced.
func (s *snapshot) slice(sliced, name string) (int, error) {
	i, err := s.ensure(sliced)
	if err != nil {
		return -1, err
	}
	if s.els[i]["slicing"] == nil {
		return -1, fmt.Errorf("slice %s of %s, which has no slicing", name, sliced)
	}
	e := clone(s.els[i]).(element)
	delete(e, "slicing")
	e["id"] = sliced + ":" + name
	e["sliceName"] = name
	at := s.end(i)
	s.els = slices.Insert(s.els, at, e)
	return at, nil
}

// expand inserts the elements of the datatype of the element at i as its
// children.
func (s *snapshot) expand(i int) error {
	e := s.els[i]
	types, _ := e["type"].([]any)
	if len(types) != 1 {
		return fmt.Errorf("cannot expand %v: %d types", e["id"], len(types))
	}
	code := str(types[0].(map[string]any)["code"])
	def := s.base["http://hl7.org/fhir/StructureDefinition/"+code]
	if def == nil || def["kind"] != "complex-type" {
		return fmt.Errorf("cannot expand %v of type %s", e["id"], code)
	}
	var kids []element
	for _, k := range elementsOf(def, "snapshot")[1:] {
		k = clean(clone(k).(element))
		k["id"] = str(e["id"]) + strings.TrimPrefix(str(k["id"]), code)
		k["path"] = str(e["path"]) + strings.TrimPrefix(str(k["path"]), code)
		kids = append(kids, k)
	}
	s.els = slices.Insert(s.els, i+1, kids...)
	return nil
}

// merge applies the differential element d onto e, refusing what would
// loosen the base: a lower min, a higher max, a type the base does not
// allow.
func (s *snapshot) merge(e, d element) error {
	id := str(d["id"])
	for k, v := range d {
		switch k {
		case "id", "path":
		case "min":
			if n, m := num(v), num(e["min"]); n < m {
				return fmt.Errorf("%s: min %d below the base's %d", id, n, m)
			}
			e[k] = v
		case "max":
			if maxOf(str(v)) > maxOf(str(e["max"])) {
				return fmt.Errorf("%s: max %v above the base's %v", id, v, e["max"])
			}
			e[k] = v
		case "type":
			if err := narrower(id, v.([]any), e["type"]); err != nil {
				return err
			}
			e[k] = v
		case "constraint":
			list, _ := e[k].([]any)
			for _, c := range v.([]any) {
				c := clone(c).(map[string]any)
				c["source"] = s.url
				list = append(list, c)
			}
			e[k] = list
		default:
			e[k] = clone(v)
		}
	}
	if num(e["min"]) > maxOf(str(e["max"])) {
		return fmt.Errorf("%s: min %v above max %v", id, e["min"], e["max"])
	}
	return nil
}

// narrower checks that every type code of a differential is one of the
// base's.
func narrower(id string, types []any, base any) error {
	have := map[string]bool{}
	bt, _ := base.([]any)
	for _, t := range bt {
		have[str(t.(map[string]any)["code"])] = true
	}
	for _, t := range types {
		if c := str(t.(map[string]any)["code"]); !have[c] {
			return fmt.Errorf("%s: type %s is not one of the base's", id, c)
		}
	}
	return nil
}

func maxOf(s string) int {
	if s == "*" {
		return 1 << 30
	}
	n, _ := strconv.Atoi(s)
	return n
}

func num(v any) int {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case float64:
		return int(n)
	}
	return 0
}

func str(v any) string { s, _ := v.(string); return s }

// clone deep-copies JSON.
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = clone(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = clone(x)
		}
		return l
	}
	return v
}

func toAny(els []element) []any {
	out := make([]any, len(els))
	for i, e := range els {
		out[i] = e
	}
	return out
}
