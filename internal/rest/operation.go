package rest

import (
	"net/http"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// typeOperation serves POST /fhir/{type}/${operation}.
func (a *API) typeOperation(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("op") {
	case "$validate":
		a.validate(w, r)
	default:
		a.writeError(w, r, outcome.New(outcome.NotFound, "operation %q is not known on %s", r.PathValue("op"), r.PathValue("type")))
	}
}

// validate serves POST /fhir/{type}/$validate
// (https://hl7.org/fhir/R4/resource-operation-validate.html): the body is
// the resource, or a Parameters with a "resource" parameter. The answer is
// an OperationOutcome listing every issue, 200 when validation ran.
func (a *API) validate(w http.ResponseWriter, r *http.Request) {
	res, err := readResource(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if rt, _ := res["resourceType"].(string); rt == "Parameters" && r.PathValue("type") != "Parameters" {
		if res, err = resourceParameter(res); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	issues, err := a.svc.Validate(r.PathValue("type"), res)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, outcome.Resource(issues))
}

// resourceParameter takes the "resource" parameter out of a Parameters body.
func resourceParameter(params map[string]any) (map[string]any, error) {
	list, _ := params["parameter"].([]any)
	for _, p := range list {
		m, _ := p.(map[string]any)
		if name, _ := m["name"].(string); name == "resource" {
			if res, ok := m["resource"].(map[string]any); ok {
				return res, nil
			}
		}
	}
	return nil, outcome.At(outcome.Invalid, "Parameters.parameter", "$validate needs a parameter named resource holding the resource")
}
