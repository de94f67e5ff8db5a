package rest

import (
	"net/http"

	"github.com/ehealthplus/ehealth/internal/deposit"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// bundle serves POST /fhir with a batch or transaction Bundle
// (https://hl7.org/fhir/R4/http.html#transaction). A provider's system
// client deposits (Config.Deposit); other callers' Bundles run as they are.
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
	c := a.caller(r)
	var resp map[string]any
	if a.cfg.Deposit != nil && deposit.IsSystemClient(c) {
		resp, err = a.cfg.Deposit.Deposit(r.Context(), c, b)
	} else {
		resp, err = a.svc.Bundle(r.Context(), c, b, preferReturn(r))
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, resp)
}
