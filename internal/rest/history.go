package rest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// History page sizes.
const (
	defaultHistoryCount = 50
	maxHistoryCount     = 1000
)

// pageParam carries the opaque history paging cursor.
const pageParam = "_page"

// history serves GET [base]/_history, [type]/_history and
// [type]/[id]/_history (https://hl7.org/fhir/R4/http.html#history).
func (a *API) history(w http.ResponseWriter, r *http.Request) {
	if _, err := responseType(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	q, err := historyQuery(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ctx, c := r.Context(), a.caller(r)
	versions, err := a.svc.History(ctx, c, q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	total, err := a.svc.CountHistory(ctx, c, q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	base := a.baseURL(r)
	page := q.Count - 1 // the query asks for one more row than the page
	entries := make([]any, 0, page)
	var served []store.Version
	var last int64
	more := false
	for v, err := range versions {
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if len(entries) == page {
			more = true
			break
		}
		e, err := historyEntry(base, v)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		entries = append(entries, e)
		served = append(served, versionKey(v))
		last = v.Seq
	}
	if err := a.recordServed(r, historyEvent(q, queryOf(r)), served); err != nil {
		a.writeError(w, r, err)
		return
	}
	links := []any{map[string]any{"relation": "self", "url": base + r.URL.RequestURI()[len("/fhir"):]}}
	if more {
		links = append(links, map[string]any{"relation": "next", "url": nextPage(base, r, last)})
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{
		"resourceType": "Bundle", "type": "history", "total": total, "link": links, "entry": entries,
	})
}

// historyEvent is the audit of a history page: the instance, or the type's
// or system's query (the patients whose versions it serves are added by
// recordServed).
func historyEvent(q store.HistoryQuery, query string) audit.Event {
	e := audit.Event{Interaction: audit.HistorySystem, Query: query}
	switch {
	case q.ID != "":
		e.Interaction, e.Resource, e.Query = audit.HistoryInstance, q.Type+"/"+q.ID, ""
	case q.Type != "":
		e.Interaction, e.Resource = audit.HistoryType, q.Type
	}
	return e
}

// versionKey is v without its body: what an audit needs of it.
func versionKey(v store.Version) store.Version {
	return store.Version{Type: v.Type, ID: v.ID, VersionID: v.VersionID, PatientKey: v.PatientKey}
}

func historyQuery(r *http.Request) (store.HistoryQuery, error) {
	p := r.URL.Query()
	q := store.HistoryQuery{Type: r.PathValue("type"), ID: r.PathValue("id"), Count: defaultHistoryCount}
	if s := p.Get("_count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, outcome.New(outcome.Invalid, "_count=%s must be a positive integer", s)
		}
		q.Count = min(n, maxHistoryCount)
	}
	if s := p.Get("_since"); s != "" {
		t, _, err := resource.DateRange(s)
		if err != nil {
			return q, outcome.New(outcome.Invalid, "_since=%s: %v", s, err)
		}
		q.Since = t
	}
	if s := p.Get("_at"); s != "" {
		from, to, err := resource.DateRange(s)
		if err != nil {
			return q, outcome.New(outcome.Invalid, "_at=%s: %v", s, err)
		}
		q.AtFrom, q.AtTo = from, to
	}
	if s := p.Get(pageParam); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		n, err2 := strconv.ParseInt(string(b), 10, 64)
		if err != nil || err2 != nil || n < 1 {
			return q, outcome.New(outcome.Invalid, "%s is not a paging cursor of this server", pageParam)
		}
		q.Before = n
	}
	// Ask the store for one more than the page, to know whether a next page exists.
	q.Count++
	return q, nil
}

// nextPage is the link to the page after the version with Seq last.
func nextPage(base string, r *http.Request, last int64) string {
	p := r.URL.Query()
	p.Set(pageParam, base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last, 10))))
	path := r.URL.Path[len("/fhir"):]
	return base + path + "?" + p.Encode()
}

// historyEntry is one Bundle.entry of a history Bundle.
func historyEntry(base string, v store.Version) (map[string]any, error) {
	full := fmt.Sprintf("%s/%s/%s", base, v.Type, v.ID)
	e := map[string]any{"fullUrl": full}
	req := map[string]any{"url": v.Type + "/" + v.ID}
	status := "200 OK"
	switch v.Method {
	case store.MethodCreate:
		req["method"], req["url"], status = "POST", v.Type, "201 Created"
	case store.MethodDelete:
		req["method"], status = "DELETE", "204 No Content"
	case store.MethodPatch:
		req["method"] = "PATCH"
	default:
		req["method"] = "PUT"
	}
	if !v.Deleted {
		res, err := fhir.Parse(v.Body)
		if err != nil {
			return nil, outcome.Wrap(outcome.Internal, "decode stored "+full, err)
		}
		e["resource"] = res
	}
	e["request"] = req
	e["response"] = map[string]any{"status": status, "etag": resource.ETag(v.VersionID), "lastModified": resource.FormatInstant(v.Updated)}
	return e, nil
}
