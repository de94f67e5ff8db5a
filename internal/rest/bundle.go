package rest

import (
	"net/http"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// bundle serves POST /fhir with a batch or transaction Bundle
// (https://hl7.org/fhir/R4/http.html#transaction).
func (a *API) bundle(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	b, err := fhir.Parse(body)
	if err != nil {
		a.writeError(w, r, outcome.New(outcome.Invalid, "the body is not a FHIR JSON Bundle: %v", err))
		return
	}
	resp, err := a.svc.Bundle(r.Context(), a.caller(r), b, preferReturn(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, resp)
}
