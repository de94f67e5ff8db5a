package rest

import (
	"net/http"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/store"
)

// create serves POST /fhir/{type} (https://hl7.org/fhir/R4/http.html#create).
// With If-None-Exist it is a conditional create: a matching resource is
// returned (200) instead of creating another, and recorded as a read.
func (a *API) create(w http.ResponseWriter, r *http.Request) {
	res, err := readResource(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if cond := r.Header.Get("If-None-Exist"); cond != "" {
		v, created, err := a.svc.CreateIfNoneExist(r.Context(), a.caller(r), r.PathValue("type"), res, cond)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		} else if err := a.recordServed(r, audit.Event{Interaction: audit.Read, Resource: versionRef(v)}, []store.Version{v}); err != nil {
			// The match found is answered like a read: recorded first.
			a.writeError(w, r, err)
			return
		}
		a.writeVersion(w, r, v, status)
		return
	}
	v, err := a.svc.Create(r.Context(), a.caller(r), r.PathValue("type"), res)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeVersion(w, r, v, http.StatusCreated)
}
