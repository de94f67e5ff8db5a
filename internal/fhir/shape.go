package fhir

import (
	"maps"
	"strings"
)

// subsettedSystem and subsettedCode make the meta.tag marking a subsetted
// resource (https://hl7.org/fhir/R4/search.html#summary).
const (
	subsettedSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
	subsettedCode   = "SUBSETTED"
)

// Summary returns the resource as _summary=mode asks
// (https://hl7.org/fhir/R4/search.html#summary): "true" keeps the elements
// marked isSummary (filtering backbone elements the same way) plus the
// mandatory top-level ones; "text" keeps text, id, meta and the mandatory
// top-level elements; "data" removes text. The result carries the SUBSETTED
// tag. Any other mode ("false", "count", unknown) and resources of unknown
// type return res itself. res is never modified.
func Summary(res map[string]any, mode string) map[string]any {
	n := resourceNode(res)
	if n == nil {
		return res
	}
	var out map[string]any
	switch mode {
	case "true":
		out = summaryObject(res, n, true)
	case "text":
		out = keepTop(res, n, func(key string, _ *field) bool {
			return key == "text" || key == "id" || key == "meta"
		})
	case "data":
		out = keepTop(res, n, func(key string, _ *field) bool { return key != "text" })
	default:
		return res
	}
	return withSubsettedTag(out)
}

// Elements returns the resource restricted to the named top-level elements
// as _elements asks (https://hl7.org/fhir/R4/search.html#elements), keeping
// id, meta and the mandatory elements too, and adds the SUBSETTED tag. A
// name may be a JSON key ("valueQuantity"), a choice name ("value" or
// "value[x]") or prefixed by the type ("Patient.name"). res is never modified.
func Elements(res map[string]any, names []string) map[string]any {
	n := resourceNode(res)
	if n == nil {
		return res
	}
	rt, _ := res["resourceType"].(string)
	want := map[string]bool{"id": true, "meta": true}
	for _, name := range names {
		name = strings.TrimPrefix(strings.TrimSpace(name), rt+".")
		want[strings.TrimSuffix(name, "[x]")] = true
	}
	out := keepTop(res, n, func(key string, f *field) bool {
		return want[key] || (f != nil && want[strings.TrimSuffix(f.elem.Name(), "[x]")])
	})
	return withSubsettedTag(out)
}

func resourceNode(res map[string]any) *node {
	rt, _ := res["resourceType"].(string)
	if !IsResourceType(rt) {
		return nil
	}
	return index().nodes[rt]
}

// keepTop copies the top level of res, keeping resourceType, mandatory
// elements and those keep accepts; f is nil for unknown keys.
func keepTop(res map[string]any, n *node, keep func(key string, f *field) bool) map[string]any {
	out := make(map[string]any, len(res))
	for k, v := range res {
		f := n.fields[k]
		if k == "resourceType" || (f != nil && f.elem.Min > 0) || keep(k, f) {
			out[k] = v
		}
	}
	return out
}

// summaryObject keeps the summary and mandatory elements of obj, recursing
// into backbone elements (whose nodes are named by path, not by type).
func summaryObject(obj map[string]any, n *node, top bool) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		f := n.fields[k]
		switch {
		case k == "resourceType" && top:
			out[k] = v
		case f == nil || !(f.elem.Summary || f.elem.Min > 0):
		case f.child != nil && strings.Contains(f.child.name, "."):
			out[k] = summaryValue(v, f.child)
		default:
			out[k] = v
		}
	}
	return out
}

func summaryValue(v any, n *node) any {
	switch v := v.(type) {
	case map[string]any:
		return summaryObject(v, n, false)
	case []any:
		items := make([]any, len(v))
		for i, it := range v {
			items[i] = summaryValue(it, n)
		}
		return items
	}
	return v
}

// withSubsettedTag adds the SUBSETTED tag to a copy of out's meta.
func withSubsettedTag(out map[string]any) map[string]any {
	meta := map[string]any{}
	if m, ok := out["meta"].(map[string]any); ok {
		meta = maps.Clone(m)
	}
	tags, _ := meta["tag"].([]any)
	for _, t := range tags {
		if tag, ok := t.(map[string]any); ok && tag["system"] == subsettedSystem && tag["code"] == subsettedCode {
			out["meta"] = meta
			return out
		}
	}
	meta["tag"] = append(tags[:len(tags):len(tags)], map[string]any{"system": subsettedSystem, "code": subsettedCode})
	out["meta"] = meta
	return out
}
