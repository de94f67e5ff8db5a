package rest

import (
	"mime"
	"net/http"

	"github.com/ehealthplus/ehealth/internal/resource"
)

// patch serves PATCH /fhir/{type}/{id} with a JSON Patch document
// (application/json-patch+json) or a FHIRPath Patch Parameters resource
// (application/fhir+json) (https://hl7.org/fhir/R4/http.html#patch).
func (a *API) patch(w http.ResponseWriter, r *http.Request) {
	match, err := ifMatch(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	format := resource.FHIRPathPatch
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == mimeJSONPatch {
		format = resource.JSONPatch
	}
	body, err := readBody(r, mimeJSONPatch, mimeFHIRJSON, mimeJSON)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	v, err := a.svc.Patch(r.Context(), a.caller(r), r.PathValue("type"), r.PathValue("id"), body, format, match)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeVersion(w, r, v, http.StatusOK)
}
