package notify

import "time"

// KindSystem is the code system of a notice's kind (Communication.category).
const KindSystem = "https://ehealth.hk/fhir/CodeSystem/notice-kind"

// The kinds of notice the platform sends a citizen.
const (
	KindConsentGiven     = "consent-given"     // a sharing consent was given
	KindConsentRevoked   = "consent-revoked"   // a sharing consent was revoked
	KindFirstAccess      = "first-access"      // a provider opened the record for the first time
	KindEmergencyAccess  = "emergency-access"  // a professional used emergency access
	KindRestrictedAccess = "restricted-access" // a restricted record was opened
	KindOneTimeCode      = "one-time-code"     // a code to authorise something
	KindAccessReported   = "access-reported"   // the citizen reported an access
)

// LanguageExtension marks a payload's language on Communication.payload
// (the standard R4 extension is not defined on payload, so the platform's
// own, with a BCP-47 code: "en", "zh-Hant").
const LanguageExtension = "https://ehealth.hk/fhir/StructureDefinition/payload-language"

// Message is what a notice says, in English and Traditional Chinese.
type Message struct {
	English, Chinese string
}

// Notice is the outbox entry of one notice: a FHIR Communication in
// status "preparation" about patient (a Patient id), addressed to the
// recipients ("Patient/ID", "RelatedPerson/ID"; the patient when none),
// to be written in the same transaction as the event it tells of. The
// delivery worker picks it up, sends it through the recipients' chosen
// channels and marks it completed (or stopped when every retry failed).
func Notice(kind, patient string, recipients []string, m Message, now time.Time) map[string]any {
	if len(recipients) == 0 {
		recipients = []string{"Patient/" + patient}
	}
	to := make([]any, len(recipients))
	for i, r := range recipients {
		to[i] = map[string]any{"reference": r}
	}
	return map[string]any{
		"resourceType": "Communication",
		"status":       "preparation",
		"category": []any{map[string]any{"coding": []any{
			map[string]any{"system": KindSystem, "code": kind},
		}}},
		"subject":   map[string]any{"reference": "Patient/" + patient},
		"recipient": to,
		"sent":      now.UTC().Format(time.RFC3339),
		"payload": []any{
			map[string]any{"contentString": m.English, "extension": []any{
				map[string]any{"url": LanguageExtension, "valueCode": "en"}}},
			map[string]any{"contentString": m.Chinese, "extension": []any{
				map[string]any{"url": LanguageExtension, "valueCode": "zh-Hant"}}},
		},
	}
}
