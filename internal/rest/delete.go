package rest

import "net/http"

// delete serves DELETE /fhir/{type}/{id} (https://hl7.org/fhir/R4/http.html#delete).
// The resource's history keeps every version; later reads answer 410.
func (a *API) delete(w http.ResponseWriter, r *http.Request) {
	match, err := ifMatch(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	v, err := a.svc.Delete(r.Context(), a.caller(r), r.PathValue("type"), r.PathValue("id"), match)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", `W/"`+itoa(v.VersionID)+`"`)
	w.WriteHeader(http.StatusNoContent)
}

// conditionalDelete serves DELETE /fhir/{type}?criteria: the one matching
// resource is deleted; none is a no-op; several are a 412
// (https://hl7.org/fhir/R4/http.html#3.1.0.7.1).
func (a *API) conditionalDelete(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawQuery == "" {
		a.notFound(w, r)
		return
	}
	if err := a.svc.DeleteWhere(r.Context(), a.caller(r), r.PathValue("type"), r.URL.RawQuery); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
