package registry

import (
	"context"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// Registered is what a registration made.
type Registered struct {
	Patient   map[string]any // the master Patient as stored
	AccessKey string         // shown once; only its hash is kept
	Consent   string         // the joining Consent's id
	SDM       string         // the SDM's RelatedPerson id ("" without one)
	// Invitation is the CommunicationRequest inviting a minor to take
	// over at 16 ("" for an adult).
	Invitation string
}

// maxAge rejects birth dates no living citizen has.
const maxAge = 130

// Register registers a citizen for c: checks the rules that need the
// clock (a birth date in the past; an SDM for a citizen under 16 whose
// role may act for them), claims the identity document (409 when it is
// registered already), keeps the new access key's hash and writes the
// master Patient, the joining Consent and, with an SDM, its RelatedPerson
// (and for a minor the invitation to take over at 16) in one transaction.
func (r *Registry) Register(ctx context.Context, c resource.Caller, reg Registration) (Registered, error) {
	now, today := r.now(), r.today()
	if err := r.checkRegistration(reg, today); err != nil {
		return Registered{}, err
	}
	out := Registered{Consent: r.newID()}
	patientID := r.newID()
	if err := r.claim(ctx, reg.Document, patientID); err != nil {
		return Registered{}, err
	}
	key, err := r.issueAccessKey(ctx, patientID)
	if err != nil {
		r.undoRegistration(ctx, reg, patientID)
		return Registered{}, err
	}
	writes := r.registrationWrites(reg, patientID, &out, now, today)
	if link, err := r.linkSDMRecord(ctx, reg, out.SDM); err != nil {
		r.undoRegistration(ctx, reg, patientID)
		return Registered{}, err
	} else if link != nil {
		writes = append(writes, *link)
	}
	stored, err := r.transact(ctx, c, writes)
	if err != nil {
		r.undoRegistration(ctx, reg, patientID)
		return Registered{}, err
	}
	out.Patient, out.AccessKey = stored[0], key
	r.log.Info("citizen registered", "patient", patientID, "document", reg.Document, "minor", out.Invitation != "", "by", c.Writer)
	return out, nil
}

// checkRegistration applies the rules that need today's date.
func (r *Registry) checkRegistration(reg Registration, today time.Time) error {
	const at = "Parameters.parameter"
	if reg.BirthDate.After(today) {
		return outcome.At(outcome.Unprocessable, at, "the birth date is in the future")
	}
	age := Age(reg.BirthDate, today)
	if age > maxAge {
		return outcome.At(outcome.Unprocessable, at, "the birth date is more than %d years ago", maxAge)
	}
	minor := age < AgeOfConsent
	switch {
	case minor && reg.SDM == nil:
		return outcome.At(outcome.Unprocessable, at, "a citizen under %d is registered by a substitute decision maker: give the %q parameter", AgeOfConsent, paramSDM)
	case minor && !reg.SDM.Role.Minor:
		return outcome.At(outcome.Unprocessable, at, "a %s does not act for a citizen under %d", reg.SDM.Role.Display, AgeOfConsent)
	case !minor && reg.SDM != nil && !reg.SDM.Role.Adult:
		return outcome.At(outcome.Unprocessable, at, "a %s acts only for a citizen under %d", reg.SDM.Role.Display, AgeOfConsent)
	}
	if len(reg.Telecom) == 0 && (reg.SDM == nil || len(reg.SDM.Telecom) == 0) {
		return outcome.At(outcome.Unprocessable, at, "give a contact channel (phone, sms or email) of the citizen or the substitute decision maker: notifications go there")
	}
	return nil
}

// undoRegistration gives back what a failed registration took outside its
// transaction: the document's claim and the access key's hash.
func (r *Registry) undoRegistration(ctx context.Context, reg Registration, patientID string) {
	if err := r.release(ctx, reg.Document, patientID); err != nil {
		r.log.Error("registry: release a failed registration's claim", "patient", patientID, "err", err)
	}
	if err := r.keys.DeleteKey(ctx, AccessKeyNS, patientID); err != nil {
		r.log.Error("registry: drop a failed registration's access key", "patient", patientID, "err", err)
	}
}

// registrationWrites builds the resources of a registration: the master
// Patient first, then the joining Consent, the SDM and the invitation.
func (r *Registry) registrationWrites(reg Registration, patientID string, out *Registered, now, today time.Time) []write {
	patient := masterPatient(reg, patientID)
	performer := ref("Patient", patientID)
	writes := []write{{typ: "Patient", id: patientID, res: patient}}
	consentAt := len(writes)
	writes = append(writes, write{typ: "Consent", id: out.Consent})
	if reg.SDM != nil {
		out.SDM = r.newID()
		var end *time.Time
		if Age(reg.BirthDate, today) < AgeOfConsent {
			sixteen := Birthday(reg.BirthDate, AgeOfConsent)
			end = &sixteen
			out.Invitation = r.newID()
			writes = append(writes, write{typ: "CommunicationRequest", id: out.Invitation,
				res: invitation(out.Invitation, patientID, out.SDM, now, sixteen)})
		}
		writes = append(writes, write{typ: "RelatedPerson", id: out.SDM, res: sdmRelatedPerson(out.SDM, patientID, *reg.SDM, now, end)})
		performer = ref("RelatedPerson", out.SDM)
	}
	writes[consentAt].res = joiningConsent(out.Consent, patientID, performer, now)
	return writes
}

// masterPatient is the citizen's master record.
func masterPatient(reg Registration, id string) map[string]any {
	p := map[string]any{
		"resourceType": "Patient",
		"id":           id,
		"meta": map[string]any{"tag": []any{map[string]any{
			"system": MPISystem, "code": TagMaster, "display": "Master patient record of a registered citizen",
		}}},
		"identifier": []any{reg.Document.Identifier()},
		"active":     true,
		"name":       anyList(reg.Names),
		"gender":     reg.Gender,
		"birthDate":  reg.BirthDate.Format(time.DateOnly),
	}
	if len(reg.Telecom) > 0 {
		p["telecom"] = anyList(reg.Telecom)
	}
	if len(reg.Address) > 0 {
		p["address"] = reg.Address
	}
	return p
}

// joiningConsent is the consent given at registration: any participating
// provider may deposit records (https://hl7.org/fhir/R4/consent.html).
func joiningConsent(id, patientID string, performer map[string]any, now time.Time) map[string]any {
	return map[string]any{
		"resourceType": "Consent",
		"id":           id,
		"status":       "active",
		"scope": map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy", "display": "Privacy Consent",
		}}},
		"category": []any{
			map[string]any{"coding": []any{map[string]any{"system": ConsentCategorySystem, "code": CategoryJoining, "display": "eHealth joining consent"}}},
			map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}}},
		},
		"patient":   ref("Patient", patientID),
		"dateTime":  instant(now),
		"performer": []any{performer},
		"policy":    []any{map[string]any{"uri": JoiningPolicy}},
		"provision": map[string]any{
			"type":   "permit",
			"period": map[string]any{"start": instant(now)},
			"action": []any{map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "collect", "display": "Collect",
			}}}},
		},
	}
}

// invitation asks the notification outbox to invite a minor, on their 16th
// birthday, to take over their record from the SDM.
func invitation(id, patientID, sdmID string, now, sixteen time.Time) map[string]any {
	return map[string]any{
		"resourceType": "CommunicationRequest",
		"id":           id,
		"status":       "active",
		"category": []any{map[string]any{"coding": []any{map[string]any{
			"system": CommunicationCategorySystem, "code": "sdm-handover", "display": "Invitation to take over one's eHealth record at 16",
		}}}},
		"subject":            ref("Patient", patientID),
		"recipient":          []any{ref("Patient", patientID)},
		"about":              []any{ref("RelatedPerson", sdmID)},
		"authoredOn":         instant(now),
		"occurrenceDateTime": sixteen.Format(time.RFC3339),
		"payload": []any{
			map[string]any{"contentString": "You are 16: from today you decide who sees your eHealth record. Sign in to the eHealth App to take it over from your substitute decision maker."},
			map[string]any{"contentString": "你已年滿16歲：由今天起，你可自行決定誰可查閱你的醫健通記錄。請登入醫健通流動應用程式，從代決人接管你的記錄。"},
		},
	}
}

// ref is a Reference to typ/id.
func ref(typ, id string) map[string]any { return map[string]any{"reference": typ + "/" + id} }

// linkSDMRecord is the write that links a substitute decision maker's own
// master record, when they are a registered citizen (found by the identity
// document they gave), to the RelatedPerson sdmID that makes them the SDM:
// Patient.link seealso → RelatedPerson, as the authorization server's
// patient picker reads it, so the SDM signing in as themself can choose
// the citizen they act for. nil when there is nothing to link.
func (r *Registry) linkSDMRecord(ctx context.Context, reg Registration, sdmID string) (*write, error) {
	if reg.SDM == nil || reg.SDM.Document == nil || sdmID == "" {
		return nil, nil
	}
	held, err := r.holder(ctx, *reg.SDM.Document)
	if err != nil || held.Patient == "" {
		return nil, err
	}
	own, err := r.read(ctx, "Patient", held.Patient)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	links, _ := own.res["link"].([]any)
	own.res["link"] = append(links, map[string]any{"other": ref("RelatedPerson", sdmID), "type": "seealso"})
	return &write{typ: "Patient", id: held.Patient, res: own.res, ifMatch: own.v.VersionID}, nil
}
