package rest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/bulkdata"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// exportStatusPath is where an export's status is polled, below the base;
// its files are at exportStatusPath/{job}/file/{name}.
const exportStatusPath = "$export-status"

// exportRoutes serves FHIR Bulk Data export and import (Config.Export):
// the kick-offs at $export (system), Patient/$export, Group/{id}/$export
// and $import on mux, and the statuses and files below $export-status and
// $import-status, which the returned handler routes before mux (their
// paths look like a resource's to mux's patterns).
func (a *API) exportRoutes(mux *http.ServeMux) http.Handler {
	for _, m := range []string{"GET", "POST"} {
		mux.HandleFunc(m+" /fhir/$export", a.exportKickOff(bulkdata.System))
		mux.HandleFunc(m+" /fhir/Patient/$export", a.exportKickOff(bulkdata.Patient))
		mux.HandleFunc(m+" /fhir/Group/{id}/$export", a.exportKickOff(bulkdata.Group))
	}
	mux.HandleFunc("POST /fhir/$import", a.importKickOff)
	jobs := http.NewServeMux()
	jobs.HandleFunc("GET /fhir/"+exportStatusPath+"/{job}", a.exportStatus)
	jobs.HandleFunc("DELETE /fhir/"+exportStatusPath+"/{job}", a.exportCancel)
	jobs.HandleFunc("GET /fhir/"+exportStatusPath+"/{job}/file/{name}", a.exportFile)
	jobs.HandleFunc("/fhir/"+exportStatusPath+"/", a.notFound)
	jobs.HandleFunc("GET /fhir/"+importStatusPath+"/{job}", a.importStatus)
	jobs.HandleFunc("DELETE /fhir/"+importStatusPath+"/{job}", a.exportCancel)
	jobs.HandleFunc("/fhir/"+importStatusPath+"/", a.notFound)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/fhir/"+exportStatusPath+"/") || strings.HasPrefix(r.URL.Path, "/fhir/"+importStatusPath+"/") {
			jobs.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// exportOwner is who an export belongs to: the token's client and user.
// Only they poll it, download it or cancel it (requiresAccessToken).
func exportOwner(r *http.Request) string {
	claims, _ := r.Context().Value(claimsKey{}).(token.Claims)
	if claims.Operator {
		return "operator|" + claims.Subject
	}
	return claims.ClientID + "|" + claims.Subject
}

// exportKickOff starts an export: Prefer: respond-async is required, and
// the answer is 202 with the status URL in Content-Location.
func (a *API) exportKickOff(level bulkdata.Level) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Prefer"), "respond-async") {
			a.writeError(w, r, outcome.New(outcome.Invalid, "$export runs asynchronously: send Prefer: respond-async"))
			return
		}
		if accept := r.Header.Get("Accept"); accept != "" && !strings.Contains(accept, mimeFHIRJSON) && !strings.Contains(accept, "*/*") && !strings.Contains(accept, mimeJSON) {
			a.writeError(w, r, outcome.New(outcome.NotAcceptable, "the kick-off's Accept is application/fhir+json, not %q", accept))
			return
		}
		params := r.URL.Query()
		if r.Method == http.MethodPost {
			var err error
			if params, err = exportParameters(r); err != nil {
				a.writeError(w, r, err)
				return
			}
		}
		req, err := bulkdata.ParseRequest(level, r.PathValue("id"), params)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		base := a.baseURL(r)
		c := a.caller(r)
		resourceName := ""
		switch level {
		case bulkdata.Patient:
			resourceName = "Patient"
		case bulkdata.Group:
			resourceName = "Group/" + req.Group
		}
		kickOff := base + strings.TrimPrefix(r.URL.Path, "/fhir")
		if r.URL.RawQuery != "" {
			kickOff += "?" + r.URL.RawQuery
		}
		id, err := a.cfg.Export.Start(r.Context(), c, exportOwner(r), kickOff, req, base)
		if err == nil {
			err = a.record(r, audit.Event{Interaction: audit.Operation, Resource: resourceName, Query: queryOf(r)})
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Location", base+"/"+exportStatusPath+"/"+id)
		a.writeJSON(w, r, http.StatusAccepted, map[string]any{"resourceType": "OperationOutcome", "issue": []any{
			map[string]any{"severity": "information", "code": "informational", "diagnostics": "the export has started; poll the Content-Location for its status"},
		}})
	}
}

// exportParameters reads a POST kick-off's Parameters into the values a
// GET would carry.
func exportParameters(r *http.Request) (url.Values, error) {
	res, err := readResource(r)
	if err != nil {
		return nil, err
	}
	if res["resourceType"] != "Parameters" {
		return nil, outcome.At(outcome.Invalid, "resourceType", "a POST $export carries a Parameters resource")
	}
	out := url.Values{}
	ps, _ := res["parameter"].([]any)
	for i, p := range ps {
		pm, _ := p.(map[string]any)
		name, _ := pm["name"].(string)
		var val string
		for _, k := range []string{"valueString", "valueInstant", "valueCode", "valueDateTime", "valueUri"} {
			if v, ok := pm[k].(string); ok {
				val = v
			}
		}
		if name == "" || val == "" {
			return nil, outcome.At(outcome.Invalid, fmt.Sprintf("Parameters.parameter[%d]", i), "each parameter has a name and a string, code, uri or instant value")
		}
		out.Add(name, val)
	}
	return out, nil
}

// exportStatus answers a poll: 202 with X-Progress while it runs, the
// manifest when complete, an OperationOutcome when it failed.
func (a *API) exportStatus(w http.ResponseWriter, r *http.Request) {
	job, err := a.cfg.Export.Status(r.Context(), exportOwner(r), r.PathValue("job"))
	if err != nil || len(job.Inputs) > 0 { // an import's id is not an export's
		if err == nil {
			err = outcome.New(outcome.NotFound, "no export job %q", r.PathValue("job"))
		}
		a.writeError(w, r, err)
		return
	}
	switch job.State {
	case bulkdata.InProgress:
		w.Header().Set("X-Progress", fmt.Sprintf("%d resources written", job.Written))
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusAccepted)
	case bulkdata.Failed:
		a.writeError(w, r, outcome.New(outcome.Internal, "%s", job.Problem))
	default:
		a.writeManifest(w, r, job)
	}
}

// writeManifest writes a complete job's manifest.
func (a *API) writeManifest(w http.ResponseWriter, r *http.Request, job bulkdata.Job) {
	base := a.baseURL(r)
	files := func(fs []bulkdata.File) []any {
		out := []any{}
		for _, f := range fs {
			out = append(out, map[string]any{"type": f.Type, "url": base + "/" + exportStatusPath + "/" + job.ID + "/file/" + f.Name(), "count": f.Count})
		}
		return out
	}
	body, err := fhir.Marshal(map[string]any{
		"transactionTime":     job.Started.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		"request":             job.Request,
		"requiresAccessToken": true,
		"output":              files(job.Files),
		"error":               files(job.Errors),
	})
	if err != nil {
		a.writeError(w, r, outcome.Wrap(outcome.Internal, "export manifest", err))
		return
	}
	w.Header().Set("Content-Type", mimeJSON)
	w.Header().Set("Expires", job.Started.Add(bulkdata.DefaultTTL).UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// exportCancel stops and deletes a job (202).
func (a *API) exportCancel(w http.ResponseWriter, r *http.Request) {
	if err := a.cfg.Export.Cancel(r.Context(), exportOwner(r), r.PathValue("job")); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// exportFile streams one file of a finished job, recorded first in the
// audit journal of every patient whose records it holds.
func (a *API) exportFile(w http.ResponseWriter, r *http.Request) {
	f, keys, err := a.cfg.Export.Open(r.Context(), exportOwner(r), r.PathValue("job"), r.PathValue("name"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer f.Close()
	held := make([]store.Version, len(keys))
	for i, k := range keys {
		held[i] = store.Version{PatientKey: k}
	}
	typ, _, _ := strings.Cut(r.PathValue("name"), "-")
	if err := a.recordServed(r, audit.Event{Interaction: audit.SearchSystem, Resource: typ, Query: queryOf(r)}, held); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/fhir+ndjson")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, f); err != nil {
		a.log.Warn("export: sending a file", "request_id", requestID(r.Context()), "err", err)
	}
}
