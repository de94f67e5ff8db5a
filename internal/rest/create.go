package rest

import "net/http"

// create serves POST /fhir/{type} (https://hl7.org/fhir/R4/http.html#create).
// With If-None-Exist it is a conditional create: a matching resource is
// returned (200) instead of creating another.
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
