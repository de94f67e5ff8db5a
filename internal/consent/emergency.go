package consent

import (
	"context"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// The operator's review queue: Tasks of this code, status requested.
const (
	TaskCodeSystem        = "https://ehealth.hk/fhir/CodeSystem/task-code"
	TaskEmergencyReview   = "emergency-access-review"
	emergencyAccessReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
)

// emergency serves Patient/{id}/$emergency-access (reason): break-glass,
// when Policy.Emergency is on. A professional acting for a provider
// states a reason and may see the patient for Policy.EmergencyWindow; the
// Consent recording it, a review Task for the operator and the citizen's
// notice are written in one transaction.
func (o *Operations) emergency(ctx context.Context, c resource.Caller, patientID string, in params) (map[string]any, error) {
	if !o.policy.Emergency {
		return nil, outcome.New(outcome.Forbidden, "emergency access is switched off on this platform")
	}
	practitioner, org := professional(c)
	if practitioner == "" {
		return nil, o.refuse(ctx, c, "Patient", patientID, "emergency access is for a healthcare professional acting for a provider")
	}
	reason, err := in.required("reason", "why the record must be opened in an emergency")
	if err != nil {
		return nil, err
	}
	if _, ok, err := o.citizen(ctx, patientID); err != nil || !ok {
		if err == nil {
			err = notKnown("Patient", patientID)
		}
		return nil, err
	}
	now := o.now()
	end := now.Add(o.policy.emergencyWindow())
	consentID, taskID := o.newID(), o.newID()
	cons := platformConsent(CategoryEmergency, "Emergency access", patientID, now, "permit", periodOf(now, end),
		[]any{actor("PRCP", practitioner)})
	cons["provision"].(map[string]any)["purpose"] = []any{map[string]any{"system": emergencyAccessReason, "code": "ETREAT"}}
	task := map[string]any{
		"resourceType": "Task",
		"meta":         resource.PlatformOriginMeta(),
		"status":       "requested",
		"intent":       "order",
		"code": map[string]any{"coding": []any{map[string]any{
			"system": TaskCodeSystem, "code": TaskEmergencyReview, "display": "Review an emergency access",
		}}},
		"focus":      ref("Consent/" + consentID),
		"for":        ref("Patient/" + patientID),
		"authoredOn": instant(now),
		"requester":  ref(practitioner),
		"reasonCode": map[string]any{"text": reason},
		"note":       []any{map[string]any{"text": "provider: " + org}},
	}
	to, err := o.sdms(ctx, patientID)
	if err != nil {
		return nil, err
	}
	who, where := o.name(ctx, practitioner), o.name(ctx, org)
	stored, err := o.transact(ctx, write{typ: "Consent", id: consentID, res: cons}, write{typ: "Task", id: taskID, res: task},
		o.notice(notify.KindEmergencyAccess, patientID, append([]string{"Patient/" + patientID}, to...), notify.Message{
			English: fmt.Sprintf("%s of %s opened your eHealth record in an emergency on %s, for access until %s. Reason given: %s. The platform operator reviews every emergency access.",
				who, where, when(now), when(end), reason),
			Chinese: fmt.Sprintf("%s（%s）於%s以緊急方式查閱你的醫健通記錄，有效至%s。所述原因：%s。平台營運者會審視每次緊急查閱。",
				who, where, when(now), when(end), reason),
		}))
	if err != nil {
		return nil, err
	}
	return parameters("consent", map[string]any{"resource": stored[0]}, "task", map[string]any{"valueReference": ref("Task/" + taskID)}), nil
}

// review serves Task/{id}/$review (outcome; status completed, the default,
// or rejected when the access was not justified): the operator closes an
// emergency access review. Anyone else is answered as for a Task that
// does not exist.
func (o *Operations) review(ctx context.Context, c resource.Caller, taskID string, in params) (map[string]any, error) {
	if !operator(c) {
		return nil, notKnown("Task", taskID)
	}
	text, err := in.required("outcome", "what the review found")
	if err != nil {
		return nil, err
	}
	status, err := in.str("status")
	if err != nil {
		return nil, err
	}
	switch status {
	case "":
		status = "completed"
	case "completed", "rejected":
	default:
		return nil, outcome.At(outcome.Invalid, at("status"), "a review ends completed or rejected")
	}
	v, task, err := o.read(ctx, "Task", taskID)
	if err != nil {
		if missing(err) {
			return nil, notKnown("Task", taskID)
		}
		return nil, err
	}
	if !hasCoding(task["code"], TaskCodeSystem, TaskEmergencyReview) {
		return nil, outcome.New(outcome.Unprocessable, "Task/%s is not an emergency access review", taskID)
	}
	if task["status"] != "requested" {
		return nil, outcome.New(outcome.Conflict, "Task/%s was reviewed already (%v)", taskID, task["status"])
	}
	task["status"] = status
	task["lastModified"] = instant(o.now())
	task["output"] = []any{map[string]any{"type": map[string]any{"text": "review outcome"}, "valueString": text}}
	stored, err := o.transact(ctx, write{typ: "Task", id: taskID, res: task, ifMatch: v.VersionID})
	if err != nil {
		return nil, err
	}
	return parameters("task", map[string]any{"resource": stored[0]}), nil
}

// hasCoding reports whether a CodeableConcept (decoded JSON) has a coding
// of system and code.
func hasCoding(cc any, system, code string) bool {
	m, _ := cc.(map[string]any)
	list, _ := m["coding"].([]any)
	for _, x := range list {
		cd, _ := x.(map[string]any)
		if cd["system"] == system && cd["code"] == code {
			return true
		}
	}
	return false
}
