package journal

import (
	"context"
	"net/url"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// The operations the journal runs on a Patient (rest.Operations).
const (
	OpAccessHistory = "$access-history" // GET (or POST an empty Parameters)
	OpReportAccess  = "$report-access"  // POST Parameters: event, comment
)

// Names lists the journal's operations on typ (both on Patient).
func (s *Service) Names(typ string) []string {
	if typ != "Patient" {
		return nil
	}
	return []string{OpAccessHistory, OpReportAccess}
}

// Run runs a journal operation on a Patient instance. The API has read
// the Patient as c may, so a patient c may not see is already a 404;
// the operations then allow only the citizen, their SDM and the operator.
func (s *Service) Run(ctx context.Context, c resource.Caller, typ, name string, instance map[string]any, query url.Values, body map[string]any) (map[string]any, error) {
	id, _ := instance["id"].(string)
	if typ != "Patient" || id == "" {
		return nil, outcome.New(outcome.NotFound, "%s runs on a Patient: Patient/{id}/%s", name, name)
	}
	switch name {
	case OpAccessHistory:
		return s.AccessHistory(ctx, c, id, query)
	case OpReportAccess:
		if body == nil {
			return nil, outcome.New(outcome.NotAllowed, "%s is POST with a Parameters body", name)
		}
		r, err := s.ReportAccess(ctx, c, id, body)
		if err != nil {
			return nil, err
		}
		return map[string]any{"resourceType": "Parameters", "parameter": []any{
			part("task", "valueReference", map[string]any{"reference": r.Task}),
			part("notice", "valueReference", map[string]any{"reference": r.Notice}),
		}}, nil
	}
	return nil, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ)
}
