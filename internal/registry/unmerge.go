package registry

import (
	"context"
	"fmt"
	"net/url"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// Unmerge undoes the merge of Patient source into Patient target, from the
// Provenance that recorded it: every resource still at the version the
// merge wrote gets its content from before the merge back (as a new
// version); one changed since keeps its changes and has its references to
// the target pointed back at the source (a warning says which). The
// source is active again, the claims of its documents return to it, and a
// Provenance records the unmerge. All writes in one transaction.
func (r *Registry) Unmerge(ctx context.Context, c resource.Caller, source, target string) (Merged, error) {
	var m Merged
	err := retried(func() error {
		p, merge, err := r.planUnmerge(ctx, source, target)
		if err != nil {
			return err
		}
		m = Merged{Moved: p.moved, Issues: p.issues, Provenance: r.newID()}
		writes := append(p.writes, write{typ: "Provenance", id: m.Provenance, res: r.provenance(c, TagUnmerge, p, &merge)})
		stored, err := r.transact(ctx, c, writes)
		if err == nil {
			m.Result = stored[0]
		}
		return err
	})
	if err != nil {
		return m, err
	}
	for _, doc := range currentDocuments(r.parser, m.Result) {
		if err := r.assign(ctx, doc, source); err != nil {
			return m, err
		}
	}
	r.log.Info("patients unmerged", "source", source, "target", target, "moved", len(m.Moved), "provenance", m.Provenance, "by", c.Writer)
	return m, nil
}

// planUnmerge finds the merge's Provenance and plans the restoring writes:
// the source first.
func (r *Registry) planUnmerge(ctx context.Context, source, target string) (plan, string, error) {
	var p plan
	src, err := r.read(ctx, "Patient", source)
	if err != nil {
		return p, "", err
	}
	if linkTo(src.res, target) != "replaced-by" {
		return p, "", outcome.New(outcome.Unprocessable, "Patient/%s is not merged into Patient/%s", source, target)
	}
	merge, err := r.lastMerge(ctx, source, target)
	if err != nil {
		return p, "", err
	}
	after := map[string]string{} // Type/id → the version the merge wrote
	for _, t := range asList(merge.res["target"]) {
		s, _ := t.(map[string]any)["reference"].(string)
		if typ, id, _, ok := parseVersioned(s); ok {
			after[typ+"/"+id] = s
		}
	}
	u := undo{source: source, target: target, sourceIDs: asList(src.res["identifier"])}
	var befores []string
	for _, e := range asList(merge.res["entity"]) {
		what, _ := e.(map[string]any)["what"].(map[string]any)
		before, _ := what["reference"].(string)
		if typ, id, _, ok := parseVersioned(before); ok {
			befores = append(befores, before)
			if typ == "Patient" && id != source && id != target {
				u.locals = append(u.locals, id)
			}
		}
	}
	// The target first, the source second, then the moved resources, in
	// the order the merge recorded them.
	for i, before := range befores {
		typ, id, _, _ := parseVersioned(before)
		if err := r.planRestore(ctx, &p, typ, id, before, after[typ+"/"+id], u, i > 1); err != nil {
			return p, "", err
		}
	}
	if len(p.writes) < 2 || p.writes[1].id != source {
		return p, "", outcome.New(outcome.Internal, "registry: the merge Provenance/%s does not record Patient/%s", merge.v.ID, source)
	}
	p.writes[0], p.writes[1] = p.writes[1], p.writes[0]
	p.before[0], p.before[1] = p.before[1], p.before[0]
	p.after[0], p.after[1] = p.after[1], p.after[0]
	return p, merge.v.ID, nil
}

// planRestore plans typ/id's content from before the merge (version
// before), or, when it changed after the merge wrote version after, its
// current content with the merge's re-pointing undone.
func (r *Registry) planRestore(ctx context.Context, p *plan, typ, id, before, after string, u undo, moved bool) error {
	cur, err := r.read(ctx, typ, id)
	if outcome.Is(err, outcome.Gone) {
		p.issues = append(p.issues, warning("%s/%s was deleted after the merge and stays deleted", typ, id))
		return nil
	}
	if err != nil {
		return err
	}
	var res map[string]any
	if versioned(typ, id, cur.v.VersionID) == after {
		_, _, v, _ := parseVersioned(before)
		old, err := r.svc.VRead(ctx, resource.Caller{}, typ, id, v)
		if err != nil {
			return err
		}
		if res, err = fhir.Parse(old.Body); err != nil {
			return outcome.Wrap(outcome.Internal, "registry: decode "+before, err)
		}
	} else {
		res = cur.res
		p.issues = append(p.issues, warning("%s/%s changed after the merge: its changes are kept and its references pointed back", typ, id))
		u.apply(res, id, moved)
	}
	p.add(typ, id, cur.v.VersionID, res, moved)
	return nil
}

// undo is what a merge did, for reversing its edits on a resource changed
// since: the two Patients, the providers' records it moved and the
// source's identifiers (which the target got marked old).
type undo struct {
	source, target string
	locals         []string
	sourceIDs      []any
}

// apply reverses the merge's edits on res (Patient id, or a moved resource).
func (u undo) apply(res map[string]any, id string, moved bool) {
	switch {
	case moved:
		repoint(res, u.target, u.source)
	case id == u.source:
		res["active"] = true
		keepLinks(res, func(other, t string) bool { return !(other == u.target && t == "replaced-by") })
		for _, l := range u.locals {
			if linkTo(res, l) == "" {
				addLink(res, l, "seealso")
			}
		}
	case id == u.target:
		keepLinks(res, func(other, t string) bool { return other != u.source && !contains(u.locals, other) })
		var ids []any
		for _, item := range asList(res["identifier"]) {
			m, _ := item.(map[string]any)
			if m["use"] == "old" && hasIdentifier(u.sourceIDs, m) {
				continue
			}
			ids = append(ids, item)
		}
		res["identifier"] = ids
		if len(ids) == 0 {
			delete(res, "identifier")
		}
	}
}

// lastMerge finds the Provenance of the latest merge of source into
// target.
func (r *Registry) lastMerge(ctx context.Context, source, target string) (found, error) {
	q := url.Values{"target": {"Patient/" + source}, "_tag": {MPISystem + "|" + TagMerge}}
	list, err := r.search(ctx, "Provenance", q, "")
	if err != nil {
		return found{}, err
	}
	var best found
	for _, f := range list {
		targets := asList(f.res["target"])
		if len(targets) == 0 {
			continue
		}
		first, _ := targets[0].(map[string]any)
		s, _ := first["reference"].(string)
		if id, ok := localID(s, "Patient"); !ok || id != target {
			continue
		}
		if best.res == nil || f.v.Updated.After(best.v.Updated) {
			best = f
		}
	}
	if best.res == nil {
		return found{}, outcome.New(outcome.Unprocessable, "no record of the merge of Patient/%s into Patient/%s was found", source, target)
	}
	return best, nil
}

func warning(format string, args ...any) outcome.Issue {
	return outcome.Issue{Severity: outcome.SeverityWarning, Code: "informational", Message: fmt.Sprintf(format, args...)}
}
