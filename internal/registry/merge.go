package registry

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// The parameters of $merge and $unmerge (R5's $merge,
// https://hl7.org/fhir/R5/patient-operation-merge.html).
const (
	paramSource  = "source-patient"
	paramTarget  = "target-patient"
	paramResult  = "result-patient"
	paramPreview = "preview"
)

// Merged is what a merge or unmerge did (or, previewed, would do).
type Merged struct {
	Result     map[string]any // the target Patient after a merge, the source after an unmerge
	Moved      []string       // Type/id of every resource re-pointed
	Provenance string         // the Provenance recording it ("" in a preview)
	Issues     []outcome.Issue
}

// mergeRequest is $merge's or $unmerge's parsed input.
type mergeRequest struct {
	source, target string
	result         map[string]any
	preview        bool
}

func (r *Registry) runMerge(ctx context.Context, c resource.Caller, body map[string]any, undo bool) (map[string]any, error) {
	name := OpMerge
	if undo {
		name = OpUnmerge
	}
	if !Operator(c) {
		return nil, outcome.New(outcome.Forbidden, "%s is for the platform operator only", name)
	}
	req, err := parseMerge(body, undo)
	if err != nil {
		return nil, err
	}
	var m Merged
	if undo {
		m, err = r.Unmerge(ctx, c, req.source, req.target)
	} else {
		m, err = r.Merge(ctx, c, req.source, req.target, req.result, req.preview)
	}
	if err != nil {
		return nil, err
	}
	done := fmt.Sprintf("%s: %d resources re-pointed", name, len(m.Moved))
	if req.preview {
		done = "preview, nothing written: " + done
	}
	issues := append([]outcome.Issue{{Severity: outcome.SeverityInformation, Code: "informational", Message: done}}, m.Issues...)
	out := []any{
		"input", map[string]any{"resource": body},
		"outcome", map[string]any{"resource": outcome.Resource(issues)},
		"result", map[string]any{"resource": m.Result},
	}
	if m.Provenance != "" {
		out = append(out, "provenance", map[string]any{"valueReference": ref("Provenance", m.Provenance)})
	}
	return parameters(out...), nil
}

func parseMerge(body map[string]any, undo bool) (mergeRequest, error) {
	known := []string{paramSource, paramTarget, paramResult, paramPreview}
	if undo {
		known = known[:2]
	}
	ps, err := parseParams(body, known...)
	if err != nil {
		return mergeRequest{}, err
	}
	var req mergeRequest
	for _, f := range []struct {
		name string
		id   *string
	}{{paramSource, &req.source}, {paramTarget, &req.target}} {
		p, ok, err := ps.one(f.name)
		if err != nil {
			return req, err
		}
		if !ok {
			return req, outcome.At(outcome.Invalid, "Parameters.parameter", "give %s as a reference Patient/id (identifiers are not taken: they would have to be matched first)", f.name)
		}
		if *f.id, err = p.reference("Patient"); err != nil {
			return req, err
		}
	}
	if req.source == req.target {
		return req, outcome.At(outcome.Invalid, "Parameters.parameter", "source and target are the same Patient")
	}
	if p, ok, err := ps.one(paramResult); err != nil {
		return req, err
	} else if ok {
		if req.result, err = p.resource("Patient"); err != nil {
			return req, err
		}
		if id, _ := req.result["id"].(string); id != req.target {
			return req, outcome.At(outcome.Invalid, p.path()+".resource.id", "the result patient is the target: its id is %s", req.target)
		}
	}
	if p, ok, err := ps.one(paramPreview); err != nil {
		return req, err
	} else if ok {
		if req.preview, err = p.boolean(); err != nil {
			return req, err
		}
	}
	return req, nil
}

// plan is the writes of a merge or unmerge, with what the Provenance
// records: each resource's version before and after.
type plan struct {
	writes []write
	before []string // versioned references, as entity.what
	after  []string // versioned references, as target
	moved  []string
	issues []outcome.Issue
}

// add plans res, read at version v, to be written as version v+1.
func (p *plan) add(typ, id string, v int64, res map[string]any, moved bool) {
	p.writes = append(p.writes, write{typ: typ, id: id, res: res, ifMatch: v})
	p.before = append(p.before, versioned(typ, id, v))
	p.after = append(p.after, versioned(typ, id, v+1))
	if moved {
		p.moved = append(p.moved, typ+"/"+id)
	}
}

func versioned(typ, id string, v int64) string { return fmt.Sprintf("%s/%s/_history/%d", typ, id, v) }

// parseVersioned reads "Type/id/_history/n".
func parseVersioned(s string) (typ, id string, v int64, ok bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 || parts[2] != "_history" {
		return "", "", 0, false
	}
	n, err := strconv.ParseInt(parts[3], 10, 64)
	return parts[0], parts[1], n, err == nil && n > 0
}

// Merge merges Patient source into Patient target when one citizen has
// two records (a corrected identity document, a duplicate registration):
// every resource of the source's compartment and every provider record
// linked to it is re-pointed to the target; the source becomes inactive
// with a link "replaced-by" to the target, the target gets "replaces" back
// and the source's identifiers with use "old" (or result, when given, as
// its new content); a Provenance records each resource's version before
// and after. All in one transaction. Identity-document claims follow the
// target's identifiers not marked old; documents only the source held are
// released. Provenance and AuditEvent are not re-pointed: they record what
// happened to the source, and audit views follow the merge Provenance from
// source to target.
func (r *Registry) Merge(ctx context.Context, c resource.Caller, source, target string, result map[string]any, preview bool) (Merged, error) {
	var m Merged
	var p plan
	err := retried(func() error {
		var err error
		p, m, err = r.planMerge(ctx, source, target, result)
		if err != nil || preview {
			return err
		}
		m.Provenance = r.newID()
		writes := append(p.writes, write{typ: "Provenance", id: m.Provenance, res: r.provenance(c, TagMerge, p, nil)})
		stored, err := r.transact(ctx, c, writes)
		if err == nil {
			m.Result = stored[0]
		}
		return err
	})
	if err != nil || preview {
		return m, err
	}
	if err := r.moveClaims(ctx, source, target, m.Result); err != nil {
		return m, err
	}
	r.log.Info("patients merged", "source", source, "target", target, "moved", len(m.Moved), "provenance", m.Provenance, "by", c.Writer)
	return m, nil
}

// planMerge reads both Patients and what is to move, and plans the writes:
// the target first, then the source, then the moved resources.
func (r *Registry) planMerge(ctx context.Context, source, target string, result map[string]any) (plan, Merged, error) {
	var p plan
	src, err := r.read(ctx, "Patient", source)
	if err != nil {
		return p, Merged{}, err
	}
	tgt, err := r.read(ctx, "Patient", target)
	if err != nil {
		return p, Merged{}, err
	}
	if len(linked(src.res, "replaced-by")) > 0 {
		return p, Merged{}, outcome.New(outcome.Unprocessable, "Patient/%s is merged already", source)
	}
	if len(linked(tgt.res, "replaced-by")) > 0 {
		return p, Merged{}, outcome.New(outcome.Unprocessable, "Patient/%s is merged into another record; merge into that one", target)
	}
	moved, err := r.search(ctx, "", url.Values{"_type": {strings.Join(compartmentTypes(), ",")}, "_count": {"1000"}}, source)
	if err != nil {
		return p, Merged{}, err
	}
	locals, err := r.search(ctx, "Patient", url.Values{"link": {"Patient/" + source}}, "")
	if err != nil {
		return p, Merged{}, err
	}
	newTarget := mergedTarget(tgt.res, src.res, result)
	if err := r.checkClaims(ctx, newTarget, source, target); err != nil {
		return p, Merged{}, err
	}
	addLink(newTarget, source, "replaces")
	newSource := clone(src.res)
	newSource["active"] = false
	keepLinks(newSource, func(id, typ string) bool { return typ != "seealso" })
	addLink(newSource, target, "replaced-by")
	p.add("Patient", target, tgt.v.VersionID, newTarget, false)
	p.add("Patient", source, src.v.VersionID, newSource, false)
	for _, l := range locals {
		if l.v.ID == source || l.v.ID == target {
			continue
		}
		repoint(l.res, source, target)
		if linkTo(newTarget, l.v.ID) == "" {
			addLink(newTarget, l.v.ID, "seealso")
		}
		p.add("Patient", l.v.ID, l.v.VersionID, l.res, true)
	}
	for _, f := range moved {
		if repoint(f.res, source, target) > 0 {
			p.add(f.v.Type, f.v.ID, f.v.VersionID, f.res, true)
		}
	}
	return p, Merged{Result: newTarget, Moved: p.moved}, nil
}

// mergedTarget is the target's new content: result when given (keeping
// the target's MPI tags and links), else the target with the source's
// identifiers it lacks, marked old.
func mergedTarget(tgt, src, result map[string]any) map[string]any {
	if result != nil {
		out := clone(result)
		out["meta"] = clone(tgt)["meta"]
		if l, ok := tgt["link"]; ok {
			out["link"] = l
		}
		return out
	}
	out := clone(tgt)
	ids, _ := out["identifier"].([]any)
	for _, item := range asList(src["identifier"]) {
		id, _ := item.(map[string]any)
		if id == nil || hasIdentifier(ids, id) {
			continue
		}
		old := clone(id)
		old["use"] = "old"
		ids = append(ids, old)
	}
	if len(ids) > 0 {
		out["identifier"] = ids
	}
	return out
}

// checkClaims refuses a result carrying an identity document registered
// to a third citizen.
func (r *Registry) checkClaims(ctx context.Context, target map[string]any, source, targetID string) error {
	for _, doc := range currentDocuments(r.parser, target) {
		held, err := r.holder(ctx, doc)
		if err != nil {
			return err
		}
		if held.Patient != "" && held.Patient != source && held.Patient != targetID {
			return outcome.New(outcome.Conflict, "an identity document of the result is registered to another citizen")
		}
	}
	return nil
}

// moveClaims makes the claims follow a merge: the target holds the
// documents it carries (not marked old); the source's others are released.
func (r *Registry) moveClaims(ctx context.Context, source, target string, result map[string]any) error {
	kept := currentDocuments(r.parser, result)
	for _, doc := range kept {
		if err := r.assign(ctx, doc, target); err != nil {
			return err
		}
	}
	src, err := r.read(ctx, "Patient", source)
	if err != nil {
		return err
	}
	for _, doc := range currentDocuments(r.parser, src.res) {
		if !containsDoc(kept, doc) {
			if err := r.release(ctx, doc, source); err != nil {
				return err
			}
		}
	}
	return nil
}

// currentDocuments lists the valid identity documents of a Patient whose
// identifier is not marked old.
func currentDocuments(p *identity.Parser, res map[string]any) []identity.Document {
	var out []identity.Document
	for _, item := range asList(res["identifier"]) {
		id, _ := item.(map[string]any)
		if use, _ := id["use"].(string); id == nil || use == "old" {
			continue
		}
		if doc, err := p.FromIdentifier(id); err == nil {
			out = append(out, doc)
		}
	}
	return out
}

func containsDoc(list []identity.Document, d identity.Document) bool {
	for _, x := range list {
		if claimKey(x) == claimKey(d) {
			return true
		}
	}
	return false
}

func hasIdentifier(list []any, id map[string]any) bool {
	for _, item := range list {
		m, _ := item.(map[string]any)
		if m["system"] == id["system"] && m["value"] == id["value"] {
			return true
		}
	}
	return false
}

// keepLinks keeps the Patient's links for which keep is true.
func keepLinks(p map[string]any, keep func(id, typ string) bool) {
	var out []any
	for _, l := range links(p) {
		other, _ := l["other"].(map[string]any)
		s, _ := other["reference"].(string)
		id, _ := localID(s, "Patient")
		typ, _ := l["type"].(string)
		if keep(id, typ) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		delete(p, "link")
		return
	}
	p["link"] = out
}

// provenance records a merge or unmerge
// (https://hl7.org/fhir/R4/provenance.html): target the versions written
// (the target Patient first, so the record sits in its compartment),
// entity the versions they replace (role revision) and, for an unmerge,
// the merge it undoes (role source).
func (r *Registry) provenance(c resource.Caller, activity string, p plan, undoes *string) map[string]any {
	targets := make([]any, len(p.after))
	for i, a := range p.after {
		targets[i] = map[string]any{"reference": a}
	}
	var entities []any
	for _, b := range p.before {
		entities = append(entities, map[string]any{"role": "revision", "what": map[string]any{"reference": b}})
	}
	if undoes != nil {
		entities = append(entities, map[string]any{"role": "source", "what": ref("Provenance", *undoes)})
	}
	return map[string]any{
		"resourceType": "Provenance",
		"meta": map[string]any{"tag": []any{map[string]any{"system": MPISystem, "code": activity},
			map[string]any{"system": resource.ProvenanceOriginSystem, "code": resource.ProvenanceOriginServer}}},
		"target":   targets,
		"recorded": instant(r.now()),
		"activity": map[string]any{"coding": []any{map[string]any{"system": MPISystem, "code": activity}}},
		"agent": []any{map[string]any{
			"type": map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "performer",
			}}},
			"who": map[string]any{"display": "platform operator (" + system(c).Writer + ")"},
		}},
		"entity": entities,
	}
}

// clone deep-copies generic FHIR JSON.
func clone(m map[string]any) map[string]any {
	out, _ := cloneValue(m).(map[string]any)
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = cloneValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cloneValue(x)
		}
		return out
	}
	return v
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
