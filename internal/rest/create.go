package rest

import (
	"net/http"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// create serves POST /fhir/{type} (https://hl7.org/fhir/R4/http.html#create).
func (a *API) create(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("If-None-Exist") != "" {
		a.writeError(w, r, outcome.New(outcome.Invalid, "conditional create (If-None-Exist) needs search, which this server does not offer yet"))
		return
	}
	res, err := readResource(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	v, err := a.svc.Create(r.Context(), a.caller(r), r.PathValue("type"), res)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeVersion(w, r, v, http.StatusCreated)
}
