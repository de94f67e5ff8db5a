package rest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// cursorParam carries the opaque page cursor in next links.
const cursorParam = "_cursor"

// search serves GET /fhir/{type} (https://hl7.org/fhir/R4/http.html#search).
func (a *API) search(w http.ResponseWriter, r *http.Request) {
	if !fhir.IsResourceType(r.PathValue("type")) {
		a.notFound(w, r)
		return
	}
	a.runSearch(w, r, r.PathValue("type"), r.URL.Query(), "")
}

// systemSearch serves GET /fhir?_type=… across resource types.
func (a *API) systemSearch(w http.ResponseWriter, r *http.Request) {
	a.runSearch(w, r, "", r.URL.Query(), "")
}

// postSearch serves POST /fhir/{type}/_search with a form body: the way to
// search by identity-document numbers without putting them in a URL.
func (a *API) postSearch(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, "application/x-www-form-urlencoded")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		a.writeError(w, r, outcome.New(outcome.Invalid, "the _search body is not a form: %v", err))
		return
	}
	params := r.URL.Query()
	for k, vs := range form {
		params[k] = append(params[k], vs...)
	}
	a.runSearch(w, r, r.PathValue("type"), params, "")
}

// compartmentSearch serves GET /fhir/Patient/{id}/{type}: the resources of
// type in the patient's compartment; type "*" is every type the caller may
// search (https://hl7.org/fhir/R4/http.html#vsearch).
func (a *API) compartmentSearch(w http.ResponseWriter, r *http.Request, typ string) {
	if typ == "*" {
		typ = ""
	}
	if r.PathValue("type") != "Patient" || (typ != "" && !fhir.IsInPatientCompartment(typ)) {
		a.writeError(w, r, outcome.New(outcome.NotFound, "%s is not a compartment search this server offers", r.URL.Path))
		return
	}
	if _, err := a.svc.Read(r.Context(), a.caller(r), "Patient", r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.runSearch(w, r, typ, r.URL.Query(), r.PathValue("id"))
}

func (a *API) runSearch(w http.ResponseWriter, r *http.Request, typ string, params url.Values, patient string) {
	if a.refuseIdentityInURL(w, r) {
		return
	}
	if _, err := responseType(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	base := a.baseURL(r)
	opts := resource.SearchOptions{
		Strict:  strings.Contains(r.Header.Get("Prefer"), "handling=strict"),
		BaseURL: base,
		Cursor:  params.Get(cursorParam),
		Patient: patient,
		Explain: a.cfg.AllowExplain,
	}
	res, err := a.svc.Search(r.Context(), a.caller(r), typ, params, opts)
	if err == nil {
		interaction := audit.SearchType
		if typ == "" {
			interaction = audit.SearchSystem
		}
		err = a.recordServed(r, audit.Event{Interaction: interaction, Resource: typ, Query: queryOf(r)}, res.Matches, res.Included)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, searchBundle(base, r, params, res))
}

// searchBundle renders a page as a searchset Bundle: matches, included
// resources and, when the server ignored something or capped includes, an
// OperationOutcome entry.
func searchBundle(base string, r *http.Request, params url.Values, res resource.SearchResult) map[string]any {
	q := res.Query
	entries := make([]any, 0, len(res.Matches)+len(res.Included)+1)
	for _, v := range res.Matches {
		entries = append(entries, searchEntry(base, v, "match", q.Summary, q.Elements))
	}
	for _, v := range res.Included {
		entries = append(entries, searchEntry(base, v, "include", "", nil))
	}
	issues := res.Issues
	if res.Capped {
		issues = append(issues, outcome.Issue{Severity: outcome.SeverityWarning, Code: "too-costly",
			Message: fmt.Sprintf("_include and _revinclude stopped at %d resources", len(res.Included))})
	}
	if len(issues) > 0 {
		entries = append(entries, map[string]any{"resource": outcome.Resource(issues), "search": map[string]any{"mode": "outcome"}})
	}
	if res.Explain != "" {
		plan := []outcome.Issue{{Severity: outcome.SeverityInformation, Code: "informational", Message: res.Explain}}
		entries = append(entries, map[string]any{"resource": outcome.Resource(plan), "search": map[string]any{"mode": "outcome"}})
	}
	bundle := map[string]any{"resourceType": "Bundle", "type": "searchset", "link": searchLinks(base, r, params, res.Next, res.Previous)}
	if res.Total >= 0 {
		bundle["total"] = res.Total
	}
	if q.Summary != "count" {
		bundle["entry"] = entries
	}
	return bundle
}

func searchEntry(base string, v store.Version, mode, summary string, elements []string) map[string]any {
	e := map[string]any{"fullUrl": base + "/" + v.Type + "/" + v.ID, "search": map[string]any{"mode": mode}}
	var res map[string]any
	var err error
	if v.Contained > 0 {
		// The contained resource itself: its fullUrl is the container's
		// with "#" and its id (https://hl7.org/fhir/R4/search.html#contained).
		var id string
		res, id, err = resource.ContainedMatch(v)
		e["fullUrl"] = e["fullUrl"].(string) + "#" + id
	} else {
		res, err = fhir.Parse(v.Body)
	}
	if err != nil {
		return e
	}
	if summary != "" && summary != "false" {
		res = fhir.Summary(res, summary)
	} else if len(elements) > 0 {
		res = fhir.Elements(res, elements)
	}
	e["resource"] = res
	return e
}

// searchLinks are self, first and, when there are such pages, previous
// and next.
func searchLinks(base string, r *http.Request, params url.Values, next, previous string) []any {
	path := strings.TrimPrefix(r.URL.Path, "/fhir")
	if strings.HasSuffix(path, "/_search") {
		path = strings.TrimSuffix(path, "/_search")
	}
	first := url.Values{}
	for k, vs := range params {
		if k != cursorParam {
			first[k] = vs
		}
	}
	link := func(rel string, p url.Values) map[string]any {
		u := base + path
		if enc := p.Encode(); enc != "" {
			u += "?" + enc
		}
		return map[string]any{"relation": rel, "url": u}
	}
	at := func(cursor string) url.Values {
		p := url.Values{}
		for k, vs := range first {
			p[k] = vs
		}
		p.Set(cursorParam, cursor)
		return p
	}
	links := []any{link("self", params), link("first", first)}
	if previous != "" {
		links = append(links, link("previous", at(previous)))
	}
	if next != "" {
		links = append(links, link("next", at(next)))
	}
	return links
}

// everything serves GET /fhir/Patient/{id}/$everything with _since, _type
// and _count, paged like a search.
func (a *API) everything(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	base := a.baseURL(r)
	res, err := a.svc.Everything(r.Context(), a.caller(r), r.PathValue("id"), params,
		resource.SearchOptions{BaseURL: base, Cursor: params.Get(cursorParam)})
	if err == nil {
		err = a.recordServed(r, audit.Event{Interaction: audit.SearchType, Resource: "Patient", Query: queryOf(r)}, res.Matches, res.Included)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, searchBundle(base, r, params, res))
}
