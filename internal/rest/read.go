package rest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// read serves GET /fhir/{type}/{id} (https://hl7.org/fhir/R4/http.html#read).
func (a *API) read(w http.ResponseWriter, r *http.Request) {
	if name := r.PathValue("id"); strings.HasPrefix(name, "$") {
		a.operation(w, r, name, nil) // GET [type]/$operation
		return
	}
	if err := checkReadParams(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	v, err := a.svc.Read(r.Context(), a.caller(r), r.PathValue("type"), r.PathValue("id"))
	if err == nil {
		err = a.recordServed(r, audit.Event{Interaction: audit.Read, Resource: v.Type + "/" + v.ID + "/_history/" + strconv.FormatInt(v.VersionID, 10)},
			[]store.Version{v})
	}
	a.answerRead(w, r, v, err)
}

// vread serves GET /fhir/{type}/{id}/_history/{vid} (https://hl7.org/fhir/R4/http.html#vread).
func (a *API) vread(w http.ResponseWriter, r *http.Request) {
	if err := checkReadParams(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	vid, err := strconv.ParseInt(r.PathValue("vid"), 10, 64)
	if err != nil {
		a.writeError(w, r, outcome.New(outcome.NotFound, "version %q is not a version id", r.PathValue("vid")))
		return
	}
	v, err := a.svc.VRead(r.Context(), a.caller(r), r.PathValue("type"), r.PathValue("id"), vid)
	if err == nil {
		err = a.recordServed(r, audit.Event{Interaction: audit.VRead, Resource: v.Type + "/" + v.ID + "/_history/" + strconv.FormatInt(v.VersionID, 10)},
			[]store.Version{v})
	}
	a.answerRead(w, r, v, err)
}

func (a *API) answerRead(w http.ResponseWriter, r *http.Request, v store.Version, err error) {
	if err != nil {
		if outcome.Is(err, outcome.Gone) {
			setVersionHeaders(w, v)
		}
		a.writeError(w, r, err)
		return
	}
	if resource.NotModified(v, r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")) {
		setVersionHeaders(w, v)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	setVersionHeaders(w, v)
	a.writeBody(w, r, http.StatusOK, v.Body)
}

// checkReadParams rejects read parameters with values the server cannot honour.
func checkReadParams(r *http.Request) error {
	if _, err := responseType(r); err != nil {
		return err
	}
	switch s := r.URL.Query().Get("_summary"); s {
	case "", "true", "false", "text", "data":
		return nil
	default:
		return outcome.New(outcome.Invalid, "_summary=%s is not allowed on a read; use true, text, data or false", s)
	}
}
