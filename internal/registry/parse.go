package registry

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Registration is a parsed $register request.
type Registration struct {
	Document  identity.Document
	Names     []map[string]any // HumanNames, each carrying its language extension
	BirthDate time.Time        // midnight in Hong Kong
	Gender    string
	Telecom   []map[string]any // ContactPoints: phone, sms or email
	Address   []any
	SDM       *SDM // who registers for the citizen; required under 16
}

// SDM is the substitute decision maker who registers a citizen.
type SDM struct {
	Role     Role
	Names    []map[string]any
	Telecom  []map[string]any
	Document *identity.Document // optional
}

// The parameters of $register.
const (
	paramPatient = "patient"
	paramSDM     = "substitute-decision-maker"
)

// maxNames bounds the names and contact points one registration gives.
const maxNames = 8

// ParseRegistration reads the Parameters of POST Patient/$register:
//
//   - patient (Patient, required): exactly one identity document in
//     identifier (the systems of package identity; HKID with its check
//     digit, birth certificate, Certificate of Exemption, passport with its
//     issuing country in the system), name (one HumanName per language,
//     English and/or Chinese), birthDate (YYYY-MM-DD), gender, telecom
//     (phone, sms or email) and optionally address;
//   - substitute-decision-maker (RelatedPerson): who registers for a
//     citizen under 16 or unable to consent — relationship coded in
//     SDMRoleSystem, name, telecom, optionally their identity document.
//
// Errors point at the parameter and element at fault and never quote an
// identity number.
func ParseRegistration(p *identity.Parser, body map[string]any) (Registration, error) {
	ps, err := parseParams(body, paramPatient, paramSDM)
	if err != nil {
		return Registration{}, err
	}
	pp, ok, err := ps.one(paramPatient)
	if err != nil {
		return Registration{}, err
	}
	if !ok {
		return Registration{}, outcome.At(outcome.Invalid, "Parameters.parameter", "$register needs a parameter %q holding the citizen's Patient", paramPatient)
	}
	patient, err := pp.resource("Patient")
	if err != nil {
		return Registration{}, err
	}
	reg, err := parsePatient(p, patient, pp.path()+".resource")
	if err != nil {
		return Registration{}, err
	}
	sp, ok, err := ps.one(paramSDM)
	if err != nil || !ok {
		return reg, err
	}
	rp, err := sp.resource("RelatedPerson")
	if err != nil {
		return Registration{}, err
	}
	sdm, err := parseSDM(p, rp, sp.path()+".resource")
	if err != nil {
		return Registration{}, err
	}
	reg.SDM = &sdm
	return reg, nil
}

// parsePatient reads the citizen from the patient parameter.
func parsePatient(p *identity.Parser, patient map[string]any, path string) (Registration, error) {
	var reg Registration
	docs, err := documents(p, patient, path)
	if err != nil {
		return reg, err
	}
	if len(docs) != 1 {
		return reg, outcome.At(outcome.Unprocessable, path+".identifier",
			"a registration gives exactly one identity document (HKID, Hong Kong birth certificate, Certificate of Exemption or passport), not %d", len(docs))
	}
	reg.Document = docs[0]
	if reg.Names, err = parseNames(patient, path); err != nil {
		return reg, err
	}
	birth, _ := patient["birthDate"].(string)
	if reg.BirthDate, err = parseDate(birth); err != nil {
		return reg, outcome.At(outcome.Invalid, path+".birthDate", "birthDate: %v", err)
	}
	switch reg.Gender, _ = patient["gender"].(string); reg.Gender {
	case "male", "female", "other", "unknown":
	default:
		return reg, outcome.At(outcome.Invalid, path+".gender", "gender is required: male, female, other or unknown")
	}
	if reg.Telecom, err = parseTelecom(patient, path); err != nil {
		return reg, err
	}
	if a, ok := patient["address"].([]any); ok {
		reg.Address = a
	}
	return reg, nil
}

// parseSDM reads the substitute decision maker.
func parseSDM(p *identity.Parser, rp map[string]any, path string) (SDM, error) {
	role, ok := sdmRole(rp)
	if !ok {
		codes := make([]string, len(Ladder))
		for i, r := range Ladder {
			codes[i] = r.Code
		}
		return SDM{}, outcome.At(outcome.Invalid, path+".relationship",
			"the substitute decision maker's relationship needs a code of %s: %s", SDMRoleSystem, strings.Join(codes, ", "))
	}
	sdm := SDM{Role: role}
	var err error
	if sdm.Names, err = parseNames(rp, path); err != nil {
		return SDM{}, err
	}
	if sdm.Telecom, err = parseTelecom(rp, path); err != nil {
		return SDM{}, err
	}
	docs, err := documents(p, rp, path)
	if err != nil {
		return SDM{}, err
	}
	if len(docs) > 0 {
		sdm.Document = &docs[0]
	}
	return sdm, nil
}

// documents validates every identifier of res in an identity document's
// system; identifiers of other systems are not documents and are skipped.
func documents(p *identity.Parser, res map[string]any, path string) ([]identity.Document, error) {
	list, _ := res["identifier"].([]any)
	var out []identity.Document
	for i, item := range list {
		id, ok := item.(map[string]any)
		if !ok {
			return nil, outcome.At(outcome.Invalid, fmt.Sprintf("%s.identifier[%d]", path, i), "an identifier must be an object")
		}
		doc, err := p.FromIdentifier(id)
		if errors.Is(err, identity.ErrIdentifier) {
			if _, hasSystem := id["system"].(string); hasSystem {
				continue
			}
		}
		if err != nil {
			return nil, outcome.At(outcome.Unprocessable, fmt.Sprintf("%s.identifier[%d]", path, i), "not a valid identity document: %v", err)
		}
		out = append(out, doc)
	}
	return out, nil
}

// parseNames checks res's names and gives each its language extension.
func parseNames(res map[string]any, path string) ([]map[string]any, error) {
	list, _ := res["name"].([]any)
	if len(list) == 0 || len(list) > maxNames {
		return nil, outcome.At(outcome.Invalid, path+".name", "give the name in English and/or Chinese: 1 to %d HumanNames", maxNames)
	}
	out := make([]map[string]any, 0, len(list))
	for i, item := range list {
		n, ok := item.(map[string]any)
		if !ok || fold(nameText(n)) == "" {
			return nil, outcome.At(outcome.Invalid, fmt.Sprintf("%s.name[%d]", path, i), "a name needs family, given or text")
		}
		out = append(out, withLanguage(n))
	}
	return out, nil
}

// parseTelecom checks res's contact points: phone, sms or email, each with
// a plausible value.
func parseTelecom(res map[string]any, path string) ([]map[string]any, error) {
	list, _ := res["telecom"].([]any)
	if len(list) > maxNames {
		return nil, outcome.At(outcome.Invalid, path+".telecom", "at most %d contact points", maxNames)
	}
	out := make([]map[string]any, 0, len(list))
	for i, item := range list {
		at := fmt.Sprintf("%s.telecom[%d]", path, i)
		cp, ok := item.(map[string]any)
		if !ok {
			return nil, outcome.At(outcome.Invalid, at, "a contact point must be an object")
		}
		sys, _ := cp["system"].(string)
		value, _ := cp["value"].(string)
		if err := checkContact(sys, value); err != nil {
			return nil, outcome.At(outcome.Invalid, at, "%v", err)
		}
		out = append(out, cp)
	}
	return out, nil
}

// checkContact checks one contact channel's value.
func checkContact(system, value string) error {
	if len(value) == 0 || len(value) > 254 {
		return errors.New("a contact point needs a value of at most 254 characters")
	}
	switch system {
	case "phone", "sms":
		digits := 0
		for _, r := range value {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case r == '+' || r == ' ' || r == '-':
			default:
				return fmt.Errorf("a phone number has digits, spaces, + and - only")
			}
		}
		if digits < 8 || digits > 15 {
			return fmt.Errorf("a phone number has 8 to 15 digits, not %d", digits)
		}
	case "email":
		local, domain, ok := strings.Cut(value, "@")
		if !ok || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(value, " \t\r\n") {
			return errors.New("an email address looks like name@example.hk")
		}
	default:
		return fmt.Errorf("contact channels are phone, sms or email, not %q", system)
	}
	return nil
}
