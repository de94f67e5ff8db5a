package terminology

import (
	"context"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Below returns code and every code below it in the hierarchy of system,
// for token search with :below (http://hl7.org/fhir/R4/search.html#token):
// match a token whose system is system and whose code is in the list (an
// SQL IN-list). ok is false when we do not hold the system or it lacks the
// code; then search falls back to matching code itself.
func (t *Tables) Below(system, code string) (codes []string, ok bool) {
	return t.related(system, code, children)
}

// Above returns code and every code above it in the hierarchy of system,
// for token search with :above; ok as for Below.
func (t *Tables) Above(system, code string) (codes []string, ok bool) {
	return t.related(system, code, parents)
}

func (t *Tables) related(system, code string, next func(*CodeConcept) []int32) ([]string, bool) {
	cs, ok := t.systems.get(system, "")
	if !ok {
		return nil, false
	}
	root, ok := cs.find(code)
	if !ok {
		return nil, false
	}
	out := []string{cs.Concepts[root].Code}
	for _, i := range cs.walk(root, next) {
		out = append(out, cs.Concepts[i].Code)
	}
	return out, true
}

// InValueSet returns the codes of the value set at url (|version optional)
// by system, for token search with :in and :not-in: match a token when its
// system is a key and its code is in that key's list. The error is an
// *outcome.Error: NotFound for an unknown value set, TooCostly when the
// value set cannot be enumerated (then the search cannot be done with
// lists; CheckCode still answers for single codes).
func (t *Tables) InValueSet(url string) (map[string][]string, error) {
	vs := t.expansion(url)
	if vs == nil {
		return nil, outcome.New(outcome.NotFound, "value set %s is not known here", url)
	}
	if !vs.Enumerable() {
		return nil, outcome.New(outcome.TooCostly, "value set %s cannot be enumerated: %s", url, vs.NotEnumerable)
	}
	out := map[string][]string{}
	for _, c := range vs.Codes() {
		out[c.System] = append(out[c.System], c.Code)
	}
	return out, nil
}

// Operation runs the terminology operation name ("$lookup", "$subsumes",
// "$validate-code", "$expand", "$translate") on resource type typ
// (CodeSystem, ValueSet or ConceptMap) with the request's Parameters,
// returning the response resource: what a REST handler for
// [base]/[type]/$[name] needs. For an instance-level call
// ([type]/[id]/$name) add the stored resource's url as the "url" (for
// $lookup and $subsumes the "system") parameter first, or use
// InstanceParameters. The error is an *outcome.Error; NotAllowed for an
// operation the type does not have.
func (s *Service) Operation(ctx context.Context, typ, name string, in map[string]any) (map[string]any, error) {
	switch typ + "/" + name {
	case "CodeSystem/$lookup":
		return s.Lookup(ctx, in)
	case "CodeSystem/$subsumes":
		return s.Subsumes(ctx, in)
	case "CodeSystem/$validate-code":
		return s.ValidateCodeInCodeSystem(ctx, in)
	case "ValueSet/$validate-code":
		return s.ValidateCode(ctx, in)
	case "ValueSet/$expand":
		return s.Expand(ctx, in)
	case "ConceptMap/$translate":
		return s.Translate(ctx, in)
	}
	return nil, outcome.New(outcome.NotAllowed, "operation %s is not supported on %s", name, typ)
}

// InstanceParameters returns in with the parameter an instance-level
// operation on the stored resource res implies: its url (and version) as
// "url", or as "system" (and "version") for $lookup and $subsumes. in may
// be nil (a GET without parameters); it is not modified.
func InstanceParameters(name string, res, in map[string]any) map[string]any {
	url, _ := res["url"].(string)
	version, _ := res["version"].(string)
	var given []any
	if in != nil {
		given, _ = in["parameter"].([]any)
	}
	var list []any
	urlParam, versionParam := "url", ""
	switch name {
	case "$lookup", "$subsumes":
		urlParam, versionParam = "system", "version"
	case "$expand", "$validate-code":
		if rt, _ := res["resourceType"].(string); rt == "ValueSet" {
			versionParam = "valueSetVersion"
		}
	case "$translate":
		versionParam = "conceptMapVersion"
	}
	if url != "" {
		list = append(list, map[string]any{"name": urlParam, "valueUri": url})
	}
	if version != "" && versionParam != "" {
		list = append(list, map[string]any{"name": versionParam, "valueString": version})
	}
	// The instance's url comes first, so it wins over one in the request.
	list = append(list, given...)
	return map[string]any{"resourceType": "Parameters", "parameter": list}
}
