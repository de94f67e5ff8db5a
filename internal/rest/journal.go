package rest

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// Journal serves the AuditEvents of the audit journal, as the caller may
// see them (journal.Service does): ids "j-<seq>" (audit.EventID).
type Journal interface {
	ReadEvent(ctx context.Context, c resource.Caller, id string) (audit.Served, error)
	SearchEvents(ctx context.Context, c resource.Caller, params url.Values) (audit.Page, error)
}

// externalAuditTag marks AuditEvents sent by other systems (IHE ATNA
// "record audit event"), stored as ordinary resources outside the journal.
const externalAuditTag = "https://ehealth.hk/fhir/CodeSystem/audit-origin|external"

// journal routes AuditEvent requests between the journal and the store,
// ahead of the mux (whose wildcard patterns AuditEvent/{id} would
// conflict with {type}/_history):
//
//   - GET AuditEvent/j-… and its only version, _history/1: the journal;
//     any other id: the store (AuditEvents sent by other systems).
//   - GET AuditEvent?… and POST AuditEvent/_search: the journal, unless
//     _tag names externalAuditTag, which searches the store's AuditEvents.
//   - PUT, PATCH, DELETE AuditEvent/j-…: 405 for everyone — journal
//     entries are read-only; other ids: the store.
func (a *API) journal(next http.Handler) http.Handler {
	if a.cfg.Journal == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := a.journalHandler(r); h != nil {
			h(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// journalHandler is the handler of a request the journal answers, nil for
// any other.
func (a *API) journalHandler(r *http.Request) http.HandlerFunc {
	rest, ok := strings.CutPrefix(r.URL.Path, "/fhir/AuditEvent")
	if !ok || (rest != "" && rest[0] != '/') {
		return nil
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case segs[0] == "" && get:
		if slices.Contains(r.URL.Query()["_tag"], externalAuditTag) {
			return nil
		}
		return a.journalSearch
	case len(segs) == 1 && segs[0] == "_search" && r.Method == http.MethodPost:
		return a.journalPostSearch
	case !audit.IsEventID(segs[0]):
		return nil
	}
	r.SetPathValue("id", segs[0])
	switch {
	case len(segs) == 1 && get:
		return a.journalRead
	case len(segs) == 1 && (r.Method == http.MethodPut || r.Method == http.MethodPatch || r.Method == http.MethodDelete):
		return a.journalWrite
	case len(segs) == 3 && segs[1] == "_history" && get:
		r.SetPathValue("vid", segs[2])
		return a.journalVRead
	}
	return nil
}

// journalRead serves GET AuditEvent/j-….
func (a *API) journalRead(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := checkReadParams(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	ev, err := a.cfg.Journal.ReadEvent(r.Context(), a.caller(r), id)
	if err == nil {
		err = a.record(r, audit.Event{Interaction: audit.Read, Resource: "AuditEvent/" + id + "/_history/1", Patients: ev.Patients})
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", resource.ETag(1))
	w.Header().Set("Last-Modified", ev.Time.UTC().Format(http.TimeFormat))
	a.writeBody(w, r, http.StatusOK, ev.Body)
}

// journalVRead serves GET AuditEvent/{id}/_history/{vid}: a journal entry
// has one version, 1.
func (a *API) journalVRead(w http.ResponseWriter, r *http.Request) {
	if vid := r.PathValue("vid"); vid != "1" {
		a.writeError(w, r, outcome.New(outcome.NotFound, "AuditEvent/%s/_history/%s is not known", r.PathValue("id"), vid))
		return
	}
	a.journalRead(w, r)
}

// journalSearch serves GET AuditEvent?….
func (a *API) journalSearch(w http.ResponseWriter, r *http.Request) {
	a.runJournalSearch(w, r, r.URL.Query())
}

// journalPostSearch serves POST AuditEvent/_search with a form body.
func (a *API) journalPostSearch(w http.ResponseWriter, r *http.Request) {
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
	if slices.Contains(params["_tag"], externalAuditTag) {
		a.runSearch(w, r, "AuditEvent", params, "")
		return
	}
	a.runJournalSearch(w, r, params)
}

// runJournalSearch answers a search of the journal with a searchset
// Bundle: newest first, a next link while more remain, no total.
func (a *API) runJournalSearch(w http.ResponseWriter, r *http.Request, params url.Values) {
	if _, err := responseType(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	page, err := a.cfg.Journal.SearchEvents(r.Context(), a.caller(r), params)
	if err == nil {
		var patients []string
		for _, ev := range page.Events {
			patients = append(patients, ev.Patients...)
		}
		err = a.record(r, audit.Event{Interaction: audit.SearchType, Resource: "AuditEvent", Query: queryOf(r), Patients: patients})
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	base := a.baseURL(r)
	entries := make([]any, 0, len(page.Events))
	for _, ev := range page.Events {
		res, err := decode(ev.Body)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		entries = append(entries, map[string]any{"fullUrl": base + "/AuditEvent/" + audit.EventID(ev.Seq),
			"resource": res, "search": map[string]any{"mode": "match"}})
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"resourceType": "Bundle", "type": "searchset",
		"link": searchLinks(base, r, params, page.Next, ""), "entry": entries})
}

// journalWrite refuses a write to a journal entry.
func (a *API) journalWrite(w http.ResponseWriter, r *http.Request) {
	a.writeError(w, r, resource.JournalWriteRefused(r.PathValue("id")))
}
