package journal

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// Task codes. (assumed) eHealth+ has no published implementation guide;
// the URL is the platform's own.
const (
	// TaskCodeSystem codes the platform's Tasks.
	TaskCodeSystem = "https://ehealth.hk/fhir/CodeSystem/task-code"
	// TaskAccessReport is the Task of a reported access: for the accessing
	// provider (owner) and the operator.
	TaskAccessReport = "access-report"
	// maxComment bounds the citizen's comment.
	maxComment = 4000
)

// Report is what ReportAccess did: the case opened and the notice.
type Report struct {
	Task, Notice string // "Task/ID", "Communication/ID"
}

// ReportAccess serves POST Patient/{id}/$report-access (Parameters: event,
// the AuditEvent reported — a reference "AuditEvent/j-…" or its id — and
// comment): it opens a case, a Task in status requested coded
// access-report, focused on the event, for the patient, owned by the
// provider that accessed (none for the operator's or a provider-less
// access: the operator's queue), with the comment as a note; and the
// notice confirming it to whoever reported — in one transaction, written
// as the platform. Only the citizen, their SDM or the operator may; only
// an event in the citizen's own history may be reported: any other
// answers as an AuditEvent that does not exist.
func (s *Service) ReportAccess(ctx context.Context, c resource.Caller, patient string, body map[string]any) (Report, error) {
	keys, err := s.subjectKeys(ctx, c, patient)
	if err != nil {
		return Report{}, err
	}
	id, comment, err := parseReport(body)
	if err != nil {
		return Report{}, err
	}
	seq, ok := audit.ParseEventID(id)
	if !ok {
		return Report{}, notKnown("AuditEvent", id)
	}
	e, found, err := s.entry(ctx, seq)
	if err != nil || !found || !about(e, keys) {
		return Report{}, orNotKnown(err, "AuditEvent", id)
	}
	ev, err := parse(e)
	if err != nil {
		return Report{}, err
	}
	n := s.names(ctx)
	l := n.line(ev, ownRefs(keys, c.Who.FHIRUser))
	if n.err != nil {
		return Report{}, n.err
	}
	return s.openCase(ctx, c, patient, l, comment)
}

// openCase writes the Task and the notice in one transaction.
func (s *Service) openCase(ctx context.Context, c resource.Caller, patient string, l line, comment string) (Report, error) {
	now := s.now()
	taskURL := "urn:uuid:" + uuid.NewString()
	task := map[string]any{
		"resourceType": "Task",
		"meta":         resource.PlatformOriginMeta(),
		"status":       "requested",
		"intent":       "order",
		"code": map[string]any{"coding": []any{map[string]any{
			"system": TaskCodeSystem, "code": TaskAccessReport, "display": "Access reported by the citizen"}}},
		"description": "Reported: " + l.sentence().en,
		"focus":       map[string]any{"reference": "AuditEvent/" + audit.EventID(l.ev.seq)},
		"for":         map[string]any{"reference": "Patient/" + patient},
		"authoredOn":  now.UTC().Format("2006-01-02T15:04:05Z"),
	}
	if reporter := c.Who.FHIRUser; strings.HasPrefix(reporter, "Patient/") || strings.HasPrefix(reporter, "RelatedPerson/") {
		task["requester"] = map[string]any{"reference": reporter}
	}
	if l.ev.org != "" {
		task["owner"] = map[string]any{"reference": l.ev.org}
	}
	if comment != "" {
		task["note"] = []any{map[string]any{"text": comment, "time": now.UTC().Format("2006-01-02T15:04:05Z")}}
	}
	var recipients []string
	if r := c.Who.FHIRUser; r != "" && r != "Patient/"+patient && (strings.HasPrefix(r, "Patient/") || strings.HasPrefix(r, "RelatedPerson/")) {
		recipients = []string{r}
	}
	notice := notify.Notice(notify.KindAccessReported, patient, recipients, confirmation(l), now)
	notice["about"] = []any{map[string]any{"reference": taskURL}}
	bundle := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": taskURL, "resource": task, "request": map[string]any{"method": "POST", "url": "Task"}},
		map[string]any{"resource": notice, "request": map[string]any{"method": "POST", "url": "Communication"}},
	}}
	writer := c.Writer
	if writer == "" {
		writer = "ehealth-journal"
	}
	resp, err := s.svc.Bundle(ctx, resource.Caller{Writer: writer}, bundle, resource.ReturnMinimal)
	if err != nil {
		return Report{}, err
	}
	var made []string
	for _, e := range list(resp["entry"]) {
		// "Task/ID/_history/1" → "Task/ID"
		ref, _, _ := strings.Cut(str(e, "response", "location"), "/_history/")
		made = append(made, ref)
	}
	if len(made) != 2 {
		return Report{}, outcome.New(outcome.Internal, "journal: the report's transaction answered %d entries", len(made))
	}
	return Report{Task: made[0], Notice: made[1]}, nil
}

// confirmation is the notice's message.
func confirmation(l line) notify.Message {
	t := l.ev.time.In(registry.HongKong)
	return notify.Message{
		English: "We have received your report about this access to your record: " + l.sentence().en +
			" (" + t.Format("2 Jan 2006, 15:04") + "). The provider and the eHealth operator will look into it.",
		Chinese: "我們已收到你就以下存取你的紀錄的舉報：" + l.sentence().zh + "。醫療服務提供者及醫健通營運者會跟進。",
	}
}

// parseReport reads $report-access's Parameters: event (required) and
// comment.
func parseReport(body map[string]any) (id, comment string, err error) {
	for i, p := range list(body["parameter"]) {
		switch name := str(p, "name"); name {
		case "event":
			id = str(p, "valueReference", "reference")
			if id == "" {
				id = str(p, "valueString")
			}
			if id == "" {
				id = str(p, "valueId")
			}
			id = strings.TrimPrefix(id, "AuditEvent/")
		case "comment":
			comment = str(p, "valueString")
		default:
			return "", "", outcome.At(outcome.Invalid, fmt.Sprintf("Parameters.parameter[%d]", i), "$report-access takes event and comment, not %q", name)
		}
	}
	if id == "" {
		return "", "", outcome.At(outcome.Invalid, "Parameters.parameter", "$report-access needs event: the AuditEvent reported (valueReference AuditEvent/j-…)")
	}
	if len(comment) > maxComment {
		return "", "", outcome.At(outcome.Invalid, "Parameters.parameter", "the comment is longer than %d bytes", maxComment)
	}
	return id, comment, nil
}
