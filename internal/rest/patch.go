package rest

import "net/http"

// patch serves PATCH /fhir/{type}/{id} with a JSON Patch document
// (https://hl7.org/fhir/R4/http.html#patch).
func (a *API) patch(w http.ResponseWriter, r *http.Request) {
	match, err := ifMatch(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	body, err := readBody(r, mimeJSONPatch)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	v, err := a.svc.Patch(r.Context(), a.caller(r), r.PathValue("type"), r.PathValue("id"), body, match)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeVersion(w, r, v, http.StatusOK)
}
