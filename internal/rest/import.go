package rest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/bulkdata"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// importStatusPath is where an import's status is polled, below the base.
const importStatusPath = "$import-status"

// importKickOff starts a Bulk Data import (the operator's only: it writes
// anything anywhere, as `ehealth import` does): Prefer: respond-async, a
// Parameters body naming NDJSON inputs; 202 with the status URL.
func (a *API) importKickOff(w http.ResponseWriter, r *http.Request) {
	claims, _ := r.Context().Value(claimsKey{}).(token.Claims)
	if !claims.Operator {
		a.writeError(w, r, outcome.New(outcome.Forbidden, "$import is the platform operator's"))
		return
	}
	if !strings.Contains(r.Header.Get("Prefer"), "respond-async") {
		a.writeError(w, r, outcome.New(outcome.Invalid, "$import runs asynchronously: send Prefer: respond-async"))
		return
	}
	body, err := readResource(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	inputs, err := a.cfg.Export.ParseImport(body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	base := a.baseURL(r)
	id, err := a.cfg.Export.StartImport(r.Context(), exportOwner(r), base+"/$import", inputs)
	if err == nil {
		err = a.record(r, audit.Event{Interaction: audit.Operation, Query: queryOf(r)})
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Location", base+"/"+importStatusPath+"/"+id)
	a.writeJSON(w, r, http.StatusAccepted, map[string]any{"resourceType": "OperationOutcome", "issue": []any{
		map[string]any{"severity": "information", "code": "informational", "diagnostics": "the import has started; poll the Content-Location for its status"},
	}})
}

// importStatus answers a poll: 202 with X-Progress while it runs, the
// result per input when complete, an OperationOutcome when it failed.
func (a *API) importStatus(w http.ResponseWriter, r *http.Request) {
	job, err := a.cfg.Export.Status(r.Context(), exportOwner(r), r.PathValue("job"))
	if err != nil || len(job.Inputs) == 0 { // an export's id is not an import's
		if err == nil {
			err = outcome.New(outcome.NotFound, "no import job %q", r.PathValue("job"))
		}
		a.writeError(w, r, err)
		return
	}
	switch job.State {
	case bulkdata.InProgress:
		w.Header().Set("X-Progress", fmt.Sprintf("%d resources loaded", job.Written))
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusAccepted)
		return
	case bulkdata.Failed:
		a.writeError(w, r, outcome.New(outcome.Unprocessable, "%s", job.Problem))
		return
	}
	output, errs := []any{}, []any{}
	for _, in := range job.Inputs {
		output = append(output, map[string]any{"type": in.Type, "inputUrl": in.URL, "count": in.Loaded})
		if in.Rejected > 0 {
			errs = append(errs, map[string]any{"type": in.Type, "inputUrl": in.URL, "count": in.Rejected, "problems": in.Problems})
		}
	}
	body, err := fhir.Marshal(map[string]any{"transactionTime": job.Started.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		"request": job.Request, "requiresAccessToken": true, "output": output, "error": errs})
	if err != nil {
		a.writeError(w, r, outcome.Wrap(outcome.Internal, "import result", err))
		return
	}
	w.Header().Set("Content-Type", mimeJSON)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
