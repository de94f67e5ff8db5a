package rest

import (
	"net/http"

	"github.com/ehealthplus/ehealth/internal/fhir"
)

// capabilities serves GET /fhir/metadata: a CapabilityStatement stating
// exactly what this server implements (https://hl7.org/fhir/R4/http.html#capabilities).
func (a *API) capabilities(w http.ResponseWriter, r *http.Request) {
	if _, err := responseType(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, a.capabilityStatement(a.baseURL(r)))
}

func (a *API) capabilityStatement(base string) map[string]any {
	interactions := []any{}
	for _, code := range []string{"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"} {
		interactions = append(interactions, map[string]any{"code": code})
	}
	validate := map[string]any{"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}
	resources := []any{}
	for _, t := range fhir.ResourceTypes() {
		ops := []any{validate}
		if a.cfg.Operations != nil {
			for _, name := range a.cfg.Operations.Names(t) {
				ops = append(ops, map[string]any{
					"name":       name[1:],
					"definition": "http://hl7.org/fhir/OperationDefinition/" + t + "-" + name[1:],
				})
			}
		}
		params := []any{}
		for _, p := range a.svc.SearchParameters(t) {
			sp := map[string]any{"name": p.Name, "type": p.Type}
			if p.Definition != "" {
				sp["definition"] = p.Definition
			}
			params = append(params, sp)
		}
		resources = append(resources, map[string]any{
			"type":              t,
			"searchParam":       params,
			"searchInclude":     []any{"*"},
			"searchRevInclude":  []any{"*"},
			"profile":           "http://hl7.org/fhir/StructureDefinition/" + t,
			"interaction":       interactions,
			"versioning":        "versioned-update",
			"readHistory":       true,
			"updateCreate":      false, // the operator may; a token creates with POST (see resource.Service.Update)
			"conditionalCreate": true,
			"conditionalRead":   "modified-since",
			"conditionalUpdate": true,
			"conditionalDelete": "single",
			"operation":         ops,
		})
	}
	version := a.cfg.Version
	if version == "" {
		version = "dev"
	}
	return map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         "2026-11-29",
		"publisher":    "eHealth+",
		"kind":         "instance",
		"software":     map[string]any{"name": "eHealth+", "version": version},
		"implementation": map[string]any{
			"description": "eHealth+ FHIR R4 server",
			"url":         base,
		},
		"fhirVersion": "4.0.1",
		"format":      []any{"application/fhir+json", "json"},
		"patchFormat": []any{"application/json-patch+json", "application/fhir+json"},
		"rest": []any{map[string]any{
			"mode":          "server",
			"documentation": totalsDocumentation,
			"resource":      resources,
			"interaction": []any{
				map[string]any{"code": "transaction"},
				map[string]any{"code": "batch"},
				map[string]any{"code": "history-system"},
				map[string]any{"code": "search-system"},
			},
		}},
	}
}

// totalsDocumentation tells clients when a searchset carries Bundle.total
// (https://hl7.org/fhir/R4/search.html#total; the server chooses when
// _total is not given). It is what sqlsearch does (semi.go).
const totalsDocumentation = "Search totals: `_total=accurate` and `_summary=count` always count exactly; `_total=none` gives no total. " +
	"Without `_total`, a search with a chain or `_has` counts exactly only up to 100 matches (or when the first page holds them all) and " +
	"otherwise leaves `Bundle.total` out, so its pages stay as fast as the page itself; every other search counts exactly. " +
	"`_total=estimate` on such a search gives, beyond 100 matches, the database planner's estimate where it has one (PostgreSQL), else no total."
