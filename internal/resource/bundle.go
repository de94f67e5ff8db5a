package resource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Return is what a write answers with (the Prefer header's return=…).
type Return int

// The Prefer return choices (https://hl7.org/fhir/R4/http.html#ops).
const (
	ReturnRepresentation Return = iota // the resource (the default)
	ReturnMinimal                      // nothing
	ReturnOutcome                      // an OperationOutcome
)

// Bundle processes a batch or transaction Bundle and returns the response
// Bundle (https://hl7.org/fhir/R4/http.html#transaction). A transaction is
// all or nothing, in one database transaction; a batch's entries succeed or
// fail on their own.
func (s *Service) Bundle(ctx context.Context, c Caller, bundle map[string]any, ret Return) (map[string]any, error) {
	if rt, _ := bundle["resourceType"].(string); rt != "Bundle" {
		return nil, outcome.At(outcome.Invalid, "resourceType", "POST to the base must be a Bundle, not %q", rt)
	}
	typ, _ := bundle["type"].(string)
	entries, err := parseEntries(bundle)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "transaction":
		return s.transaction(ctx, c, entries, ret)
	case "batch":
		return s.batch(ctx, c, entries, ret), nil
	default:
		return nil, outcome.At(outcome.Invalid, "Bundle.type", "the server processes batch and transaction Bundles, not %q", typ)
	}
}

// transactionOrder is the processing order of a transaction's entries.
var transactionOrder = map[string]int{"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}

func (s *Service) transaction(ctx context.Context, c Caller, entries []*entry, ret Return) (map[string]any, error) {
	s.transactions.Add(1)
	defer s.transactions.Add(-1)
	for _, e := range entries {
		if err := s.resolveConditionals(ctx, c, e); err != nil {
			return nil, err
		}
	}
	if err := s.resolveReferences(ctx, c, entries); err != nil {
		return nil, err
	}
	if err := s.validateEntries(ctx, c, entries); err != nil {
		return nil, err
	}
	order := slices.Clone(entries)
	slices.SortStableFunc(order, func(a, b *entry) int { return transactionOrder[a.method] - transactionOrder[b.method] })
	responses := make([]map[string]any, len(entries))
	var err error
	for attempt := 0; ; attempt++ {
		err = s.write(ctx, func(tx store.Tx) error {
			for _, e := range order {
				r, err := s.process(ctx, tx, c, e, ret)
				if err != nil {
					return entryError(e, err)
				}
				responses[e.index] = r
			}
			return nil
		})
		if !raced(err, entries) || attempt >= maxRaceRetries {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return responseBundle("transaction-response", responses), nil
}

// validateEntries validates and indexes every POST and PUT resource before
// the database transaction opens, reporting all entries' issues together,
// and runs the deposit checks c's writes need there too (precheck), once
// a compartment.
func (s *Service) validateEntries(ctx context.Context, c Caller, entries []*entry) error {
	select {
	case s.preparing <- struct{}{}:
	case <-ctx.Done():
		return outcome.Wrap(outcome.Transient, "validate transaction", ctx.Err())
	}
	defer func() { <-s.preparing }()
	var todo []*entry
	for _, e := range entries {
		if (e.method == "POST" || e.method == "PUT") && e.existing == nil {
			todo = append(todo, e)
		}
	}
	preps, errs := s.prepareAll(ctx, todo)
	var all *outcome.Error
	passed := &prechecked{}
	for i, e := range todo {
		err := errs[i]
		if err == nil {
			e.prep = preps[i]
			s.precheck(ctx, c, e.resource, preps[i], passed)
			continue
		}
		var oe *outcome.Error
		if !errors.As(entryError(e, err), &oe) {
			return err
		}
		if all == nil {
			all = &outcome.Error{Kind: oe.Kind, Op: "validate transaction"}
		}
		if oe.Kind == outcome.Invalid {
			all.Kind = outcome.Invalid
		}
		all.Issues = append(all.Issues, oe.Issues...)
	}
	if all != nil {
		return all
	}
	return nil
}

// entriesPerPreparer is how many entries a Bundle has for each goroutine
// validating and indexing them (prepareAll): fewer are not worth one.
const entriesPerPreparer = 32

// prepareAll validates and indexes the entries' resources — a large
// Bundle's on every processor when it is the only transaction in flight:
// one client's Bundle otherwise leaves the other processors idle (+20–27 %
// for one client on SQLite). With others in flight it keeps to one, as the
// preparing place means to (SQLite's writer loses its processor otherwise:
// −4–9 % for eight clients).
func (s *Service) prepareAll(ctx context.Context, todo []*entry) ([]*prepared, []error) {
	preps, errs := make([]*prepared, len(todo)), make([]error, len(todo))
	prep := func(i int) {
		e := todo[i]
		preps[i], errs[i] = s.prepare(ctx, e.target.typ, e.target.id, e.method == "PUT", e.resource)
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo)/entriesPerPreparer)
	if workers < 2 || s.transactions.Load() > 1 {
		for i := range todo {
			prep(i)
		}
		return preps, errs
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(todo); i = int(next.Add(1)) - 1 {
				prep(i)
			}
		})
	}
	wg.Wait()
	return preps, errs
}

// raced reports whether a transaction failed only because a concurrent
// writer got in first on an unconditional write, so running it again is right.
func raced(err error, entries []*entry) bool {
	if !outcome.Is(err, outcome.Conflict) {
		return false
	}
	for _, e := range entries {
		if e.ifMatch > 0 {
			return false
		}
	}
	return true
}

func (s *Service) batch(ctx context.Context, c Caller, entries []*entry, ret Return) map[string]any {
	responses := make([]map[string]any, len(entries))
	for _, e := range entries {
		var r map[string]any
		var err error
		err = s.resolveConditionals(ctx, c, e)
		for attempt := 0; err == nil; attempt++ {
			err = s.write(ctx, func(tx store.Tx) error {
				var err error
				r, err = s.process(ctx, tx, c, e, ret)
				return err
			})
			if e.ifMatch > 0 || !outcome.Is(err, outcome.Conflict) || attempt >= maxRaceRetries {
				break
			}
		}
		if err != nil {
			r = errorResponse(entryError(e, err))
		}
		responses[e.index] = r
	}
	return responseBundle("batch-response", responses)
}

// process runs one entry inside tx and returns its response entry.
func (s *Service) process(ctx context.Context, tx store.Tx, c Caller, e *entry, ret Return) (map[string]any, error) {
	switch e.method {
	case "POST":
		if e.existing != nil {
			res, err := decodeBody(*e.existing)
			return versionResponse(*e.existing, http.StatusOK, res, ret, true), err
		}
		id := e.target.id
		if id == "" {
			id = s.newID()
		}
		v, err := s.create(ctx, tx, c, e.target.typ, id, e.resource, e.prep)
		return versionResponse(v, http.StatusCreated, e.resource, ret, true), err
	case "PUT":
		if e.fresh {
			v, err := s.create(ctx, tx, c, e.target.typ, e.target.id, e.resource, e.prep)
			return versionResponse(v, http.StatusCreated, e.resource, ret, true), err
		}
		v, created, err := s.update(ctx, tx, c, e.target.typ, e.target.id, e.resource, e.ifMatch, e.prep)
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		return versionResponse(v, status, e.resource, ret, true), err
	case "PATCH":
		return s.processPatch(ctx, tx, c, e, ret)
	case "DELETE":
		if e.noop {
			return map[string]any{"response": map[string]any{"status": "204 No Content"}}, nil
		}
		_, err := s.delete(ctx, tx, c, e.target.typ, e.target.id, e.ifMatch)
		return map[string]any{"response": map[string]any{"status": "204 No Content"}}, err
	default:
		return s.processRead(ctx, tx, c, e)
	}
}

func (s *Service) processPatch(ctx context.Context, tx store.Tx, c Caller, e *entry, ret Return) (map[string]any, error) {
	patch, format, err := entryPatch(e.resource)
	if err != nil {
		return nil, outcome.At(outcome.Invalid, e.path()+".resource", "%v", err)
	}
	v, err := s.patch(ctx, tx, c, e.target.typ, e.target.id, patch, format, e.ifMatch)
	if err != nil {
		return nil, err
	}
	res, err := decodeBody(v)
	return versionResponse(v, http.StatusOK, res, ret, true), err
}

func (s *Service) processRead(ctx context.Context, tx store.Tx, c Caller, e *entry) (map[string]any, error) {
	t := e.target
	if t.metadata || (t.history && t.versionID == 0) || t.id == "" {
		return nil, outcome.At(outcome.NotAllowed, e.path()+".request.url", "this server answers reads and vreads inside a Bundle; search, history and metadata are asked for directly")
	}
	v, err := s.readAs(ctx, tx, c, t.typ, t.id, t.versionID)
	if err != nil {
		return nil, err
	}
	noteRead(tx, v)
	if NotModified(v, e.ifNone, e.ifSince) {
		return map[string]any{"response": map[string]any{"status": "304 Not Modified", "etag": ETag(v.VersionID)}}, nil
	}
	res, err := decodeBody(v)
	if err != nil {
		return nil, err
	}
	r := versionResponse(v, http.StatusOK, res, ReturnRepresentation, false)
	if e.method == "HEAD" {
		delete(r, "resource")
	}
	return r, nil
}

// versionResponse is a response entry for a written or read version;
// written ones carry their location.
func versionResponse(v store.Version, status int, res map[string]any, ret Return, written bool) map[string]any {
	resp := map[string]any{
		"status":       fmt.Sprintf("%d %s", status, http.StatusText(status)),
		"etag":         ETag(v.VersionID),
		"lastModified": FormatInstant(v.Updated),
	}
	if written {
		resp["location"] = fmt.Sprintf("%s/%s/_history/%d", v.Type, v.ID, v.VersionID)
	}
	r := map[string]any{"response": resp}
	switch ret {
	case ReturnRepresentation:
		if res != nil {
			r["resource"] = res
		}
	case ReturnOutcome:
		resp["outcome"] = outcome.Resource(nil)
	}
	return r
}

func errorResponse(err error) map[string]any {
	oo, status := outcome.OperationOutcome(err, "")
	return map[string]any{"response": map[string]any{
		"status":  fmt.Sprintf("%d %s", status, http.StatusText(status)),
		"outcome": oo,
	}}
}

func responseBundle(typ string, responses []map[string]any) map[string]any {
	list := make([]any, len(responses))
	for i, r := range responses {
		list[i] = r
	}
	return map[string]any{"resourceType": "Bundle", "type": typ, "entry": list}
}

// entryError points err's issues at the entry: an expression such as
// "Patient.name[0]" becomes "Bundle.entry[3].resource.name[0]".
func entryError(e *entry, err error) error {
	var oe *outcome.Error
	if !errors.As(err, &oe) {
		return outcome.Wrap(outcome.Internal, e.path(), err)
	}
	out := &outcome.Error{Kind: oe.Kind, Op: e.path(), Err: err}
	for _, is := range oe.Issues {
		is.Expression = entryExpression(e, is.Expression)
		if !strings.HasPrefix(is.Message, "entry ") {
			is.Message = fmt.Sprintf("entry %d (%s %s): %s", e.index, e.method, e.target.typ, is.Message)
		}
		out.Issues = append(out.Issues, is)
	}
	return out
}

func entryExpression(e *entry, expr string) string {
	switch {
	case expr == "":
		return e.path()
	case strings.HasPrefix(expr, "Bundle.entry["):
		return expr
	case e.resource != nil:
		typ, _ := e.resource["resourceType"].(string)
		if expr == typ {
			return e.path() + ".resource"
		}
		if rest, ok := strings.CutPrefix(expr, typ+"."); ok {
			return e.path() + ".resource." + rest
		}
		if expr == "resourceType" {
			return e.path() + ".resource.resourceType"
		}
	}
	return e.path() + "." + expr
}
