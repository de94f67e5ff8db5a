package rest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Operations runs FHIR operations beyond the core interactions
// (https://hl7.org/fhir/R4/operations.html), e.g. the terminology
// service's $lookup and $expand.
type Operations interface {
	// Names lists the operations (with their $) offered on a resource type.
	Names(typ string) []string
	// Run runs operation name on typ for caller c, at type level (instance
	// nil) or on a stored instance (already read as c may), with parameters
	// from the query (GET) or a Parameters body (POST). The provider decides
	// what c may do: operations that write or reach across compartments
	// check it themselves.
	Run(ctx context.Context, c resource.Caller, typ, name string, instance map[string]any, query url.Values, body map[string]any) (map[string]any, error)
}

// InstanceDecider is an Operations provider whose instance operations
// decide themselves who may reach the instance: a professional at the
// clinic asks for a sharing consent for a citizen they cannot see yet.
// For those, the API reads nothing first and passes an instance that
// holds only resourceType and id; the provider reads it and answers a
// caller who may not act on it exactly as for one that does not exist.
type InstanceDecider interface {
	DecidesInstance(typ, name string) bool
}

// Negotiator is an Operations provider some of whose answers follow the
// request's content negotiation and hold stored records, such as a
// patient summary document in the reader's language or as a printable
// PDF. Before Run the API hands it the request's headers (Accept,
// Accept-Language …) and this server's FHIR base, for fullUrls (Negotiate
// returns the context Run runs in); after Run it asks which stored
// versions the answer holds (Served, from that context), so the audit
// names their patients and marks restricted and emergency accesses as it
// does for a search. An answer that is a Binary is served as its content
// when the client asked for no FHIR format
// (https://hl7.org/fhir/R4/binary.html#rest).
type Negotiator interface {
	Negotiate(ctx context.Context, typ, name string, header http.Header, base string) context.Context
	Served(ctx context.Context) []store.Version
}

// OperationSet offers the operations of several providers together: Names
// lists them all, and Run goes to the first provider naming the operation
// on the type.
type OperationSet []Operations

// Names lists every provider's operations on typ.
func (set OperationSet) Names(typ string) []string {
	var out []string
	for _, ops := range set {
		for _, n := range ops.Names(typ) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// DecidesInstance reports whether the provider running name on typ reads
// the instance itself.
func (set OperationSet) DecidesInstance(typ, name string) bool {
	for _, ops := range set {
		if slices.Contains(ops.Names(typ), name) {
			d, ok := ops.(InstanceDecider)
			return ok && d.DecidesInstance(typ, name)
		}
	}
	return false
}

// Negotiate hands the request's headers and base to the provider running
// name on typ, when it is a Negotiator.
func (set OperationSet) Negotiate(ctx context.Context, typ, name string, header http.Header, base string) context.Context {
	for _, ops := range set {
		if slices.Contains(ops.Names(typ), name) {
			if neg, ok := ops.(Negotiator); ok {
				return neg.Negotiate(ctx, typ, name, header, base)
			}
			return ctx
		}
	}
	return ctx
}

// Served lists what the Negotiators among the providers served in ctx.
func (set OperationSet) Served(ctx context.Context) []store.Version {
	var out []store.Version
	for _, ops := range set {
		if neg, ok := ops.(Negotiator); ok {
			out = append(out, neg.Served(ctx)...)
		}
	}
	return out
}

// Run runs name on the first provider offering it on typ.
func (set OperationSet) Run(ctx context.Context, c resource.Caller, typ, name string, instance map[string]any, query url.Values, body map[string]any) (map[string]any, error) {
	for _, ops := range set {
		if slices.Contains(ops.Names(typ), name) {
			return ops.Run(ctx, c, typ, name, instance, query, body)
		}
	}
	return nil, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ)
}

// typeOperation serves POST /fhir/{type}/${operation}.
func (a *API) typeOperation(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("op") {
	case "$validate":
		a.validate(w, r, nil)
		return
	case "_search":
		a.postSearch(w, r)
		return
	}
	a.operation(w, r, r.PathValue("op"), nil)
}

// instanceOperation serves GET and POST /fhir/{type}/{id}/${operation}.
func (a *API) instanceOperation(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("op")
	if (fhir.IsResourceType(name) || name == "*") && r.Method == http.MethodGet {
		a.compartmentSearch(w, r, name)
		return
	}
	if !strings.HasPrefix(name, "$") {
		a.notFound(w, r)
		return
	}
	if name == "$everything" && r.PathValue("type") == "Patient" && r.Method == http.MethodGet {
		a.everything(w, r)
		return
	}
	if name == "$validate" {
		a.validateInstance(w, r)
		return
	}
	if !a.offers(r.PathValue("type"), name) {
		a.writeError(w, r, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, r.PathValue("type")))
		return
	}
	if d, ok := a.cfg.Operations.(InstanceDecider); ok && d.DecidesInstance(r.PathValue("type"), name) {
		a.operation(w, r, name, map[string]any{"resourceType": r.PathValue("type"), "id": r.PathValue("id")})
		return
	}
	v, err := a.svc.Read(r.Context(), a.caller(r), r.PathValue("type"), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	instance, err := decode(v.Body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.operation(w, r, name, instance)
}

// offers reports whether operation name runs on typ.
func (a *API) offers(typ, name string) bool {
	return a.cfg.Operations != nil && slices.Contains(a.cfg.Operations.Names(typ), name)
}

// operation runs a type or instance operation and answers with its result.
func (a *API) operation(w http.ResponseWriter, r *http.Request, name string, instance map[string]any) {
	typ := r.PathValue("type")
	if !a.offers(typ, name) {
		a.writeError(w, r, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ))
		return
	}
	var body map[string]any
	if r.Method == http.MethodPost {
		var err error
		if body, err = readResource(r); err != nil {
			a.writeError(w, r, err)
			return
		}
		if rt, _ := body["resourceType"].(string); rt != "Parameters" {
			a.writeError(w, r, outcome.At(outcome.Invalid, "resourceType", "the body of %s is a Parameters resource, not %q", name, rt))
			return
		}
	}
	ctx := r.Context()
	neg, _ := a.cfg.Operations.(Negotiator)
	if neg != nil {
		ctx = neg.Negotiate(ctx, typ, name, r.Header, a.baseURL(r))
	}
	out, err := a.cfg.Operations.Run(ctx, a.caller(r), typ, name, instance, r.URL.Query(), body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var served []store.Version
	if neg != nil {
		served = neg.Served(ctx)
	}
	// The operation's writes are in the journal with their transaction;
	// the call itself — what it answered, about which patient — is
	// recorded before the answer, like a read.
	e := audit.Event{Interaction: audit.Operation, Resource: typ, Query: strings.TrimPrefix(r.URL.RequestURI(), "/fhir/")}
	if id, _ := instance["id"].(string); id != "" {
		e.Resource = typ + "/" + id
		if typ == "Patient" {
			e.Patients = []string{id}
		}
	}
	if err := a.recordServed(r, e, served); err != nil {
		a.writeError(w, r, err)
		return
	}
	if ct, data, ok := binaryContent(r, out); ok {
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(data)
		}
		return
	}
	a.writeJSON(w, r, http.StatusOK, out)
}

// binaryContent is the content of an operation's Binary answer when the
// client asked for no FHIR format (https://hl7.org/fhir/R4/binary.html#rest).
func binaryContent(r *http.Request, out map[string]any) (string, []byte, bool) {
	if rt, _ := out["resourceType"].(string); rt != "Binary" {
		return "", nil, false
	}
	if _, err := responseType(r); err == nil {
		return "", nil, false
	}
	ct, _ := out["contentType"].(string)
	data, err := base64.StdEncoding.DecodeString(fmt.Sprint(out["data"]))
	if ct == "" || err != nil {
		return "", nil, false
	}
	return ct, data, true
}

// validate serves POST /fhir/{type}/$validate and, with stored nil,
// POST /fhir/{type}/{id}/$validate
// (https://hl7.org/fhir/R4/resource-operation-validate.html): the body is
// the resource, or a Parameters with a "resource" parameter; the profile
// to check it against too comes from ?profile= or a "profile" parameter.
// GET /fhir/{type}/{id}/$validate validates the stored instance (stored).
// The answer is an OperationOutcome listing every issue, 200 when
// validation ran.
func (a *API) validate(w http.ResponseWriter, r *http.Request, stored map[string]any) {
	profile := r.URL.Query().Get("profile")
	res := stored
	if res == nil {
		var err error
		if res, err = readResource(r); err != nil {
			a.writeError(w, r, err)
			return
		}
		if rt, _ := res["resourceType"].(string); rt == "Parameters" && r.PathValue("type") != "Parameters" {
			params := res
			if res, err = resourceParameter(params); err != nil {
				a.writeError(w, r, err)
				return
			}
			if p := profileParameter(params); p != "" {
				profile = p
			}
		}
	}
	issues, err := a.svc.ValidateAgainst(r.Context(), r.PathValue("type"), res, profile)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, outcome.Resource(issues))
}

// validateInstance serves $validate on an instance: a POST validates its
// body as an update of it would be, a GET the stored resource (read as the
// caller may).
func (a *API) validateInstance(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		a.validate(w, r, nil)
		return
	}
	v, err := a.svc.Read(r.Context(), a.caller(r), r.PathValue("type"), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	stored, err := decode(v.Body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.validate(w, r, stored)
}

// profileParameter is the "profile" parameter of a $validate Parameters
// body (valueUri or valueCanonical), or "".
func profileParameter(params map[string]any) string {
	list, _ := params["parameter"].([]any)
	for _, p := range list {
		m, _ := p.(map[string]any)
		if name, _ := m["name"].(string); name == "profile" {
			for _, k := range [...]string{"valueCanonical", "valueUri", "valueString"} {
				if v, ok := m[k].(string); ok {
					return v
				}
			}
		}
	}
	return ""
}

// resourceParameter takes the "resource" parameter out of a Parameters body.
func resourceParameter(params map[string]any) (map[string]any, error) {
	list, _ := params["parameter"].([]any)
	for _, p := range list {
		m, _ := p.(map[string]any)
		if name, _ := m["name"].(string); name == "resource" {
			if res, ok := m["resource"].(map[string]any); ok {
				return res, nil
			}
		}
	}
	return nil, outcome.At(outcome.Invalid, "Parameters.parameter", "$validate needs a parameter named resource holding the resource")
}
