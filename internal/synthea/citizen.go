package synthea

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/registry"
)

// HKID is the Hong Kong Identity Card number derived from a Synthea
// patient's id: a letter and six digits from the id's SHA-256, with its
// check digit (weights 9 to 2 over a space-padded letter prefix, letters
// valued A=10 … Z=35 and the space 36, 11 minus the sum modulo 11, A for
// 10). The same id always gives the same number; two ids share one with
// odds of about one in 26 million.
func HKID(syntheaID string) string {
	sum := sha256.Sum256([]byte("synthea-hkid|" + syntheaID))
	letter := byte('A' + sum[0]%26)
	digits := fmt.Sprintf("%06d", binary.BigEndian.Uint32(sum[1:5])%1_000_000)
	total := 36*9 + int(letter-'A'+10)*8
	for i := range 6 {
		total += int(digits[i]-'0') * (7 - i)
	}
	check := "0"
	switch r := total % 11; r {
	case 0:
	case 1:
		check = "A"
	default:
		check = fmt.Sprint(11 - r)
	}
	return string(letter) + digits + "(" + check + ")"
}

// citizen builds the registration of the Synthea patient and keeps the
// identity document and names the Patient entry repeats, so the master
// patient index matches it.
func (c *converter) citizen(p map[string]any) (Converted, error) {
	id, _ := p["id"].(string)
	if id == "" {
		return Converted{}, outcome.At(outcome.Invalid, "Patient.id", "synthea: the Patient has no id")
	}
	number := HKID(id)
	doc, err := identity.Parse(identity.HKID, number, "")
	if err != nil {
		return Converted{}, outcome.Wrap(outcome.Internal, "synthea: derived HKID", err)
	}
	c.hkid = doc.Identifier()
	c.names = names(p)
	birth, _ := p["birthDate"].(string)
	gender, _ := p["gender"].(string)
	if birth == "" || len(c.names) == 0 {
		return Converted{}, outcome.At(outcome.Invalid, "Patient", "synthea: the Patient needs a name and a birth date to be registered")
	}
	if gender == "" {
		gender = "unknown"
	}
	phone := mobile(id)
	patient := map[string]any{
		"resourceType": "Patient",
		"identifier":   []any{doc.Identifier()},
		"name":         deepCopy(c.names),
		"birthDate":    birth,
		"gender":       gender,
		"telecom":      []any{map[string]any{"system": "sms", "value": phone}},
	}
	params := []any{map[string]any{"name": "patient", "resource": patient}}
	born, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		return Converted{}, outcome.At(outcome.Invalid, "Patient.birthDate", "synthea: birthDate %q is not a date", birth)
	}
	if registry.Age(born, c.opts.Today) < registry.AgeOfConsent {
		params = append(params, map[string]any{"name": "substitute-decision-maker", "resource": parent(p, phone)})
	}
	return Converted{
		SyntheaID:    id,
		HKID:         doc.Number,
		Registration: map[string]any{"resourceType": "Parameters", "parameter": params},
	}, nil
}

// parent is the substitute decision maker who registers a minor: a
// parent, named after the mother's maiden name Synthea gives when it does.
func parent(p map[string]any, phone string) map[string]any {
	family, given := "Parent", "Synthea"
	if exts, ok := p["extension"].([]any); ok {
		for _, e := range exts {
			m, _ := e.(map[string]any)
			if m["url"] == "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName" {
				if s, _ := m["valueString"].(string); s != "" {
					parts := strings.Fields(clean(s))
					if len(parts) >= 2 {
						given, family = parts[0], parts[len(parts)-1]
					}
				}
			}
		}
	}
	return map[string]any{
		"resourceType": "RelatedPerson",
		"relationship": []any{map[string]any{"coding": []any{map[string]any{"system": registry.SDMRoleSystem, "code": "parent"}}}},
		"name":         []any{map[string]any{"family": family, "given": []any{given}}},
		"telecom":      []any{map[string]any{"system": "sms", "value": phone}},
	}
}

// names are the patient's official (else first) name, family and given
// names without Synthea's digits.
func names(p map[string]any) []any {
	list, _ := p["name"].([]any)
	var chosen map[string]any
	for _, n := range list {
		m, _ := n.(map[string]any)
		if chosen == nil || m["use"] == "official" {
			chosen = m
		}
	}
	if chosen == nil {
		return nil
	}
	name := map[string]any{}
	if f, _ := chosen["family"].(string); clean(f) != "" {
		name["family"] = clean(f)
	}
	var given []any
	gs, _ := chosen["given"].([]any)
	for _, g := range gs {
		if s, _ := g.(string); clean(s) != "" {
			given = append(given, clean(s))
		}
	}
	if given != nil {
		name["given"] = given
	}
	if len(name) == 0 {
		return nil
	}
	return []any{name}
}

// clean drops the digits Synthea appends to names.
func clean(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return -1
		}
		return r
	}, s))
}

// mobile is a Hong Kong mobile number derived from the Synthea id: 9
// and seven digits.
func mobile(id string) string {
	sum := sha256.Sum256([]byte("synthea-mobile|" + id))
	return fmt.Sprintf("9%07d", binary.BigEndian.Uint32(sum[:4])%10_000_000)
}
