package deposit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// result is what writing a group of entries answered, by entry index: its
// response entry, and the response of the Provenance recorded with it.
type result struct {
	responses  map[int]map[string]any
	provenance map[int]map[string]any
}

// transaction writes every entry in one transaction of the resource
// service, or refuses the whole Bundle with every entry's issues.
func (d *deposit) transaction(ctx context.Context) (map[string]any, error) {
	if err := d.refused(); err != nil {
		return nil, err
	}
	var group []*item
	for _, it := range d.items {
		if d.writes(it) {
			group = append(group, it)
		}
	}
	res := result{responses: map[int]map[string]any{}, provenance: map[int]map[string]any{}}
	if err := d.write(ctx, group, res); err != nil {
		return nil, err
	}
	return d.response("transaction-response", res), nil
}

// writes reports whether an entry is sent to the resource service: not a
// reason, not a withdrawal of what is not there.
func (d *deposit) writes(it *item) bool {
	return it.role != roleReason && !(it.method == "DELETE" && it.existing == nil)
}

// refused is the error refusing a transaction: every refused entry's
// issues, in entry order, under the gravest kind (invalid, then
// forbidden, then the first).
func (d *deposit) refused() error {
	var all *outcome.Error
	for _, it := range d.items {
		if it.err == nil {
			continue
		}
		if all == nil {
			all = &outcome.Error{Kind: it.err.Kind, Op: "deposit"}
		}
		switch {
		case it.err.Kind == outcome.Invalid:
			all.Kind = outcome.Invalid
		case it.err.Kind == outcome.Forbidden && all.Kind != outcome.Invalid:
			all.Kind = outcome.Forbidden
		}
		all.Issues = append(all.Issues, it.err.Issues...)
	}
	if all == nil {
		return nil
	}
	return all
}

// order sorts entries for writing: Patients (the records' compartments
// follow their links), then records, then Binaries (whose securityContext
// names a record written before them).
func order(group []*item) []*item {
	out := slices.Clone(group)
	slices.SortStableFunc(out, func(a, b *item) int { return int(a.role) - int(b.role) })
	return out
}

// write sends a group of entries, with their Provenances, as one
// transaction of the resource service and records the answers in res.
func (d *deposit) write(ctx context.Context, group []*item, res result) error {
	if len(group) == 0 {
		return nil
	}
	group = order(group)
	var entries []any
	var origin []int // entry index of each internal entry
	var provs []int  // internal indexes of Provenances
	for _, it := range group {
		entries = append(entries, it.request())
		origin = append(origin, it.index)
	}
	for _, it := range group {
		if it.provenance != nil {
			provs = append(provs, len(entries))
			entries = append(entries, map[string]any{"resource": it.provenance, "request": map[string]any{"method": "POST", "url": "Provenance"}})
			origin = append(origin, it.index)
		}
	}
	bundle := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
	out, err := d.s.svc.Bundle(ctx, d.writer(len(provs) > 0), bundle, resource.ReturnMinimal)
	if err != nil {
		return remap(err, origin)
	}
	list, _ := out["entry"].([]any)
	if len(list) != len(entries) {
		return outcome.New(outcome.Internal, "the transaction answered %d entries for %d", len(list), len(entries))
	}
	for k, e := range list {
		m, _ := e.(map[string]any)
		if slices.Contains(provs, k) {
			res.provenance[origin[k]] = m
		} else {
			res.responses[origin[k]] = m
		}
	}
	return nil
}

// request is the entry the resource service gets: a new record POSTed, a
// stored one PUT or DELETEd at its id, If-Match its version read.
func (it *item) request() map[string]any {
	switch {
	case it.existing == nil:
		return map[string]any{"fullUrl": it.fullURL, "resource": it.res, "request": map[string]any{"method": "POST", "url": it.typ}}
	case it.method == "DELETE":
		return map[string]any{"request": map[string]any{"method": "DELETE", "url": it.typ + "/" + it.id, "ifMatch": resource.ETag(it.existing.VersionID)}}
	}
	e := map[string]any{"resource": it.res, "request": map[string]any{"method": "PUT", "url": it.typ + "/" + it.id, "ifMatch": resource.ETag(it.existing.VersionID)}}
	if it.fullURL != "" {
		e["fullUrl"] = it.fullURL
	}
	return e
}

// writer is the caller the deposit writes as: the client, allowed to
// create the Provenances the deposit records when it records some.
func (d *deposit) writer(provenances bool) resource.Caller {
	c := d.c
	if !provenances || c.Grants == nil {
		return c
	}
	set, err := scope.Parse(c.Grants.Scopes.String() + " system/Provenance.c")
	if err != nil {
		return c
	}
	g := *c.Grants
	g.Scopes = set
	c.Grants = &g
	return c
}

// raced reports whether a deposit failed only because a record it read
// changed before it wrote: run again, it reads the new version.
func (d *deposit) raced(err error) bool {
	if !outcome.Is(err, outcome.PreconditionFailed) && !outcome.Is(err, outcome.Conflict) {
		return false
	}
	for _, it := range d.items {
		if it.ifMatch > 0 || it.err != nil {
			return false
		}
	}
	return true
}

var (
	entryExpr = regexp.MustCompile(`^Bundle\.entry\[(\d+)\]`)
	entryMsg  = regexp.MustCompile(`^entry (\d+) \(`)
)

// remap points the resource service's errors about its internal entries
// at the deposit's entries.
func remap(err error, origin []int) error {
	var oe *outcome.Error
	if !errors.As(err, &oe) || oe.Kind == outcome.Internal {
		return err
	}
	at := func(re *regexp.Regexp, s, format string) string {
		m := re.FindStringSubmatchIndex(s)
		if m == nil {
			return s
		}
		k, _ := strconv.Atoi(s[m[2]:m[3]])
		if k < 0 || k >= len(origin) {
			return s
		}
		return fmt.Sprintf(format, origin[k]) + s[m[1]:]
	}
	out := &outcome.Error{Kind: oe.Kind, Op: "deposit", Err: err}
	for _, is := range oe.Issues {
		is.Expression = at(entryExpr, is.Expression, "Bundle.entry[%d]")
		is.Message = at(entryMsg, is.Message, "entry %d (")
		out.Issues = append(out.Issues, is)
	}
	return out
}

// response is the response Bundle: each entry's answer, with its warnings
// and what it amended in its outcome.
func (d *deposit) response(typ string, res result) map[string]any {
	list := make([]any, len(d.items))
	for _, it := range d.items {
		var e map[string]any
		switch {
		case it.err != nil:
			e = errorEntry(it.err)
		case it.role == roleReason:
			e = d.reasonResponse(it, res)
		case it.method == "DELETE" && it.existing == nil:
			e = map[string]any{"response": map[string]any{"status": "204 No Content"}}
		default:
			e = res.responses[it.index]
			if e == nil {
				e = errorEntry(outcome.New(outcome.Internal, "entry %d was not written", it.index))
			}
			d.annotate(it, e, res.provenance[it.index])
		}
		list[it.index] = e
	}
	return map[string]any{"resourceType": "Bundle", "type": typ, "entry": list}
}

// annotate adds to a written entry's response the profile's warnings and,
// for an amendment or withdrawal, the Provenance recorded.
func (d *deposit) annotate(it *item, e, prov map[string]any) {
	issues := slices.Clone(it.issues)
	if it.changed && prov != nil {
		loc, _ := prov["response"].(map[string]any)["location"].(string)
		what := "amended"
		if it.method == "DELETE" {
			what = "withdrawn"
		}
		issues = append(issues, outcome.Issue{Severity: outcome.SeverityInformation, Code: "informational",
			Message: fmt.Sprintf("%s: %s records the reason", what, strings.TrimSuffix(loc, "/_history/1"))})
	}
	if len(issues) == 0 {
		return
	}
	resp, _ := e["response"].(map[string]any)
	if resp != nil {
		resp["outcome"] = outcome.Resource(issues)
	}
}

// reasonResponse answers a reason Provenance's entry with the Provenance
// recorded for the first change it gave the reason of.
func (d *deposit) reasonResponse(p *item, res result) map[string]any {
	for _, it := range d.items {
		if it.reason == p && it.changed {
			if prov := res.provenance[it.index]; prov != nil {
				return prov
			}
		}
	}
	return map[string]any{"response": map[string]any{"status": "200 OK", "outcome": outcome.Resource([]outcome.Issue{{
		Severity: outcome.SeverityInformation, Code: "informational", Message: "nothing was changed: the records it gives the reason for are as stored"}})}}
}

// errorEntry is a failed entry's response.
func errorEntry(err error) map[string]any {
	oo, status := outcome.OperationOutcome(err, "")
	return map[string]any{"response": map[string]any{
		"status":  fmt.Sprintf("%d %s", status, http.StatusText(status)),
		"outcome": oo,
	}}
}
