package consent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// SharingPolicy is the policy a sharing Consent refers to.
const SharingPolicy = "https://ehealth.hk/fhir/policy/sharing-consent"

// share serves Patient/{id}/$share: organization, until (a date; none:
// Policy.SharingValidity, else indefinite), and at the clinic accessKey or
// code. The citizen or their SDM gives it in the app; a professional of
// that organisation at the clinic, with the citizen's access key or a code
// from $share-code. One Consent per patient and organisation: giving
// again updates it.
func (o *Operations) share(ctx context.Context, c resource.Caller, patientID string, in params) (map[string]any, error) {
	org, err := in.reference("organization")
	if err != nil {
		return nil, err
	}
	until, err := in.str("until")
	if err != nil {
		return nil, err
	}
	performer, verified, err := o.giver(ctx, c, patientID, in, &org)
	if err != nil {
		return nil, err
	}
	p, ok, err := o.citizen(ctx, patientID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notKnown("Patient", patientID)
	}
	if withdrawn(p) {
		return nil, outcome.New(outcome.Unprocessable, "the citizen has withdrawn from eHealth: no sharing consent can be given")
	}
	end, err := o.sharingEnd(until)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(org, "Organization/") {
		return nil, outcome.At(outcome.Invalid, at("organization"), "organization refers to an Organization")
	}
	if _, _, err := o.read(ctx, "Organization", strings.TrimPrefix(org, "Organization/")); err != nil {
		if missing(err) {
			return nil, outcome.At(outcome.Unprocessable, at("organization"), "%s is not a known provider", org)
		}
		return nil, err
	}
	now := o.now()
	id := stableID("sharing", patientID, org)
	cons := sharingConsent(patientID, org, performer, verified, now, end)
	to, err := o.sdms(ctx, patientID)
	if err != nil {
		return nil, err
	}
	stored, err := o.transact(ctx, write{typ: "Consent", id: id, res: cons},
		o.notice(notify.KindConsentGiven, patientID, append([]string{"Patient/" + patientID}, to...), givenMessage(o.name(ctx, org), end)))
	if err != nil {
		return nil, err
	}
	return parameters("consent", map[string]any{"resource": stored[0]}), nil
}

// giver decides who gives a consent for patientID: the citizen or their
// SDM in the app (the organisation must be named), a professional at the
// clinic for their own organisation (named or implied) with the citizen's
// access key or code, or the operator. It returns the performer and, at
// the clinic, the verification to record.
func (o *Operations) giver(ctx context.Context, c resource.Caller, patientID string, in params, org *string) (string, []any, error) {
	if operator(c) {
		if *org == "" {
			return "", nil, outcome.At(outcome.Invalid, at("organization"), "give the organization the consent is for")
		}
		return "Patient/" + patientID, nil, nil
	}
	if who, ok, err := o.citizenSide(ctx, c, patientID); err != nil || ok {
		if err == nil && *org == "" {
			err = outcome.At(outcome.Invalid, at("organization"), "give the organization the consent is for")
		}
		return who, nil, err
	}
	practitioner, own := professional(c)
	if practitioner == "" || (*org != "" && *org != own) {
		return "", nil, o.refuse(ctx, c, "Patient", patientID,
			"a sharing consent is given by the citizen or their substitute decision maker, or at the clinic of the provider it is for")
	}
	*org = own
	ok, err := o.atClinic(ctx, in, patientID, practitioner)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, o.refuse(ctx, c, "Patient", patientID, "the access key or one-time code is not valid (or has expired)")
	}
	return "Patient/" + patientID, []any{map[string]any{
		"verified": true, "verifiedWith": ref("Patient/" + patientID), "verificationDate": instant(o.now()),
	}}, nil
}

// sharingEnd is when a consent given now with until lapses (zero: never).
func (o *Operations) sharingEnd(until string) (time.Time, error) {
	if until == "" {
		if v := o.policy.SharingValidity; v > 0 {
			return o.now().Add(v), nil
		}
		return time.Time{}, nil
	}
	day, err := time.ParseInLocation(time.DateOnly, until, hongKong)
	if err != nil {
		return time.Time{}, outcome.At(outcome.Invalid, at("until"), "until is a date YYYY-MM-DD")
	}
	end := day.AddDate(0, 0, 1) // valid through that day
	if !end.After(o.now()) {
		return time.Time{}, outcome.At(outcome.Unprocessable, at("until"), "until is in the past")
	}
	return end, nil
}

// sharingConsent is a sharing consent of patientID to org: it permits the
// organisation to view the record (https://hl7.org/fhir/R4/consent.html).
func sharingConsent(patientID, org, performer string, verified []any, now, end time.Time) map[string]any {
	c := platformConsent(CategorySharing, "eHealth sharing consent", patientID, now, "permit", periodOf(now, end),
		[]any{actor("IRCP", org)})
	c["performer"] = []any{ref(performer)}
	c["policy"] = []any{map[string]any{"uri": SharingPolicy}}
	if verified != nil {
		c["verification"] = verified
	}
	return c
}

// platformConsent is the common shape of the Consents the operations
// write: a privacy consent of one of the platform's categories.
func platformConsent(category, display, patientID string, now time.Time, provisionType string, p map[string]any, actors []any) map[string]any {
	provision := map[string]any{"type": provisionType, "period": p}
	if actors != nil {
		provision["actor"] = actors
	}
	return map[string]any{
		"resourceType": "Consent",
		"status":       "active",
		"scope": map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy", "display": "Privacy Consent",
		}}},
		"category": []any{
			map[string]any{"coding": []any{map[string]any{"system": CategorySystem, "code": category, "display": display}}},
			map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}}},
		},
		"patient":   ref("Patient/" + patientID),
		"dateTime":  instant(now),
		"policy":    []any{map[string]any{"uri": "https://ehealth.hk/fhir/policy/" + category}},
		"provision": provision,
	}
}

// periodOf is a FHIR Period from start to end (open when end is zero).
func periodOf(start, end time.Time) map[string]any {
	p := map[string]any{"start": instant(start)}
	if !end.IsZero() {
		p["end"] = instant(end)
	}
	return p
}

// actor is a Consent provision actor in a v3 participation role.
func actor(role, reference string) map[string]any {
	return map[string]any{
		"role": map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": role,
		}}},
		"reference": ref(reference),
	}
}

// givenMessage tells the citizen a provider may now view their record.
func givenMessage(org string, end time.Time) notify.Message {
	if end.IsZero() {
		return notify.Message{
			English: fmt.Sprintf("You gave %s your sharing consent: its healthcare professionals caring for you may view your eHealth record until you revoke it.", org),
			Chinese: fmt.Sprintf("你已向%s給予互通同意：該機構照顧你的醫護人員可查閱你的醫健通記錄，直至你撤回同意。", org),
		}
	}
	last := end.Add(-time.Second).In(hongKong).Format(time.DateOnly)
	return notify.Message{
		English: fmt.Sprintf("You gave %s your sharing consent: its healthcare professionals caring for you may view your eHealth record until %s.", org, last),
		Chinese: fmt.Sprintf("你已向%s給予互通同意：該機構照顧你的醫護人員可查閱你的醫健通記錄，有效期至%s。", org, last),
	}
}

// shareCode serves Patient/{id}/$share-code: a professional at the clinic
// has a one-time code sent to the citizen (or their SDM) to give as
// $share's or $care-relationship's code. The answer is the same whether
// or not the citizen exists; a code is sent only to a registered citizen.
func (o *Operations) shareCode(ctx context.Context, c resource.Caller, patientID string, _ params) (map[string]any, error) {
	practitioner, org := professional(c)
	if practitioner == "" {
		return nil, o.refuse(ctx, c, "Patient", patientID, "a one-time code is asked for by a healthcare professional at the clinic")
	}
	p, ok, err := o.citizen(ctx, patientID)
	if err != nil {
		return nil, err
	}
	if ok && !withdrawn(p) {
		name := o.name(ctx, org)
		err = o.sendCode(ctx, purposeClinic, patientID, practitioner, org, "", func(code string, expires time.Time) notify.Message {
			return notify.Message{
				English: fmt.Sprintf("Your eHealth one-time code for %s is %s (valid until %s). Give it to the clinic only if you agree to share your record with it.", name, code, when(expires)),
				Chinese: fmt.Sprintf("你給%s的醫健通一次性密碼是%s（有效至%s）。只在你同意與該機構互通記錄時才提供此密碼。", name, code, when(expires)),
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return parameters("outcome", informational(fmt.Sprintf(
		"if Patient/%s is a registered citizen, a one-time code was sent to them (or to their substitute decision maker); it lasts %s",
		patientID, o.policy.codeTTL()))), nil
}

// revoke serves Patient/{id}/$revoke-sharing (organization): the citizen,
// their SDM or the operator ends a sharing consent. The consent becomes
// inactive (a new version: the history keeps it), so the grants go in the
// same transaction and the provider loses access on its next request.
func (o *Operations) revoke(ctx context.Context, c resource.Caller, patientID string, in params) (map[string]any, error) {
	org, err := in.reference("organization")
	if err != nil {
		return nil, err
	}
	if org == "" {
		return nil, outcome.At(outcome.Invalid, at("organization"), "give the organization whose consent is revoked")
	}
	if !operator(c) {
		if _, ok, err := o.citizenSide(ctx, c, patientID); err != nil {
			return nil, err
		} else if !ok {
			return nil, o.refuse(ctx, c, "Patient", patientID, "a sharing consent is revoked by the citizen, their substitute decision maker or the operator")
		}
	}
	if _, ok, err := o.citizen(ctx, patientID); err != nil || !ok {
		if err == nil {
			err = notKnown("Patient", patientID)
		}
		return nil, err
	}
	id := stableID("sharing", patientID, org)
	v, cons, err := o.read(ctx, "Consent", id)
	if missing(err) || (err == nil && cons["status"] != "active") {
		return nil, outcome.At(outcome.Unprocessable, at("organization"), "there is no sharing consent to %s to revoke", org)
	}
	if err != nil {
		return nil, err
	}
	cons["status"] = "inactive"
	to, err := o.sdms(ctx, patientID)
	if err != nil {
		return nil, err
	}
	name := o.name(ctx, org)
	stored, err := o.transact(ctx, write{typ: "Consent", id: id, res: cons, ifMatch: v.VersionID},
		o.notice(notify.KindConsentRevoked, patientID, append([]string{"Patient/" + patientID}, to...), notify.Message{
			English: fmt.Sprintf("You revoked your sharing consent to %s: it can no longer view your eHealth record.", name),
			Chinese: fmt.Sprintf("你已撤回給予%s的互通同意：該機構不能再查閱你的醫健通記錄。", name),
		}))
	if err != nil {
		return nil, err
	}
	return parameters("consent", map[string]any{"resource": stored[0]}), nil
}
