package rest

import "net/http"

// update serves PUT /fhir/{type}/{id}, creating the resource at a
// client-assigned id when it does not exist
// (https://hl7.org/fhir/R4/http.html#update).
func (a *API) update(w http.ResponseWriter, r *http.Request) {
	match, err := ifMatch(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := readResource(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	v, created, err := a.svc.Update(r.Context(), a.caller(r), r.PathValue("type"), r.PathValue("id"), res, match)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	a.writeVersion(w, r, v, status)
}

// conditionalUpdate serves PUT /fhir/{type}?criteria: the one matching
// resource is updated, or the resource created when none matches
// (https://hl7.org/fhir/R4/http.html#cond-update).
func (a *API) conditionalUpdate(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawQuery == "" {
		a.notFound(w, r)
		return
	}
	match, err := ifMatch(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := readResource(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	v, created, err := a.svc.UpdateWhere(r.Context(), a.caller(r), r.PathValue("type"), r.URL.RawQuery, res, match)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	a.writeVersion(w, r, v, status)
}
