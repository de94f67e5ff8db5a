package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// AgeOfConsent is the age at which a citizen decides for themself: before
// it a substitute decision maker registers and consents for them, and at
// it the SDM's authority ends (the Electronic Health Record Sharing System Ordinance, Cap. 625).
const AgeOfConsent = 16

// Role is a rung of the substitute decision maker's ladder: who may act
// for a citizen who cannot, in order of precedence (rank 1 first).
type Role struct {
	Code    string // in SDMRoleSystem
	Rank    int
	Display string
	// Minor and Adult say for whom the role may act: a citizen under 16,
	// and one of 16 or more unable to give consent.
	Minor, Adult bool
}

// Ladder is the SDM ladder of DOMAIN.md, by rank. (assumed) The adult
// column follows the Ordinance's list for a person unable to give consent;
// make it data when a programme needs another.
var Ladder = []Role{
	{"parent", 1, "Parent", true, false},
	{"guardian", 2, "Guardian", true, true},
	{"court-appointed", 3, "Person appointed by the court", true, true},
	{"family-member", 4, "Family member or person residing with the citizen", true, true},
	{"healthcare-provider", 5, "Healthcare provider giving care to the citizen", true, true},
}

// RoleOf returns the ladder's role with code.
func RoleOf(code string) (Role, bool) {
	for _, r := range Ladder {
		if r.Code == code {
			return r, true
		}
	}
	return Role{}, false
}

// Age is how many whole years someone born on birth has lived on day (both
// dates; the time of day is ignored). A citizen born on 29 February turns a
// year older on 1 March in other years.
func Age(birth, day time.Time) int {
	years := day.Year() - birth.Year()
	if day.Before(Birthday(birth, years)) {
		years--
	}
	return years
}

// Birthday is the day someone born on birth turns years old, in Hong Kong
// time: 29 February becomes 1 March in a common year.
func Birthday(birth time.Time, years int) time.Time {
	return time.Date(birth.Year()+years, birth.Month(), birth.Day(), 0, 0, 0, 0, HongKong)
}

// parseDate reads a FHIR date of full precision (YYYY-MM-DD) as midnight in
// Hong Kong.
func parseDate(s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, HongKong)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a full date YYYY-MM-DD, got %q", s)
	}
	return t, nil
}

// Authority reports whether rp, a RelatedPerson, may act at the instant at
// as a substitute decision maker, and in which role: it must be active
// (not false), carry a role of the ladder in relationship, and at must
// fall within its period — a minor's SDM has period.end at the 16th
// birthday, so the authority ends by itself then. Consent code calls it on
// every decision an SDM makes; nothing has to run at the birthday.
func Authority(rp map[string]any, at time.Time) (Role, bool) {
	if rt, _ := rp["resourceType"].(string); rt != "RelatedPerson" {
		return Role{}, false
	}
	if active, ok := rp["active"].(bool); ok && !active {
		return Role{}, false
	}
	role, ok := sdmRole(rp)
	if !ok {
		return Role{}, false
	}
	period, _ := rp["period"].(map[string]any)
	if s, _ := period["start"].(string); s != "" {
		start, err := parseInstant(s)
		if err != nil || at.Before(start) {
			return Role{}, false
		}
	}
	if s, _ := period["end"].(string); s != "" {
		end, err := parseInstant(s)
		if err != nil || !at.Before(end) {
			return Role{}, false
		}
	}
	return role, true
}

// ActsFor reports for which patient RelatedPerson/id may act as a
// substitute decision maker now (the registry's clock), and in which
// role: consent code asks it when an SDM's token gives or revokes consent
// or opens the record. ok is false once the authority has ended — at a
// minor's 16th birthday — or for a RelatedPerson who is no SDM, or whom
// the registry did not record.
func (r *Registry) ActsFor(ctx context.Context, id string) (patient string, role Role, ok bool, err error) {
	f, err := r.read(ctx, "RelatedPerson", id)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		return "", Role{}, false, nil
	}
	if err != nil {
		return "", Role{}, false, err
	}
	// Only an SDM the registry recorded (at registration, tagged as its
	// own: no token can write that tag) has the authority; a RelatedPerson
	// a provider wrote with an SDM role code has none.
	if !resource.HasTag(f.res, resource.RegistryOriginSystem, resource.RegistryOriginRegistry) {
		return "", Role{}, false, nil
	}
	if role, ok = Authority(f.res, r.now()); !ok {
		return "", Role{}, false, nil
	}
	pm, _ := f.res["patient"].(map[string]any)
	s, _ := pm["reference"].(string)
	patient, ok = localID(s, "Patient")
	return patient, role, ok, nil
}

// sdmRole finds the ladder's code in rp.relationship.
func sdmRole(rp map[string]any) (Role, bool) {
	rels, _ := rp["relationship"].([]any)
	for _, rel := range rels {
		cc, _ := rel.(map[string]any)
		codings, _ := cc["coding"].([]any)
		for _, c := range codings {
			m, _ := c.(map[string]any)
			if sys, _ := m["system"].(string); sys == SDMRoleSystem {
				code, _ := m["code"].(string)
				if role, ok := RoleOf(code); ok {
					return role, true
				}
			}
		}
	}
	return Role{}, false
}

// parseInstant reads a FHIR dateTime: with a time and zone, or a date
// (its start, in Hong Kong).
func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return parseDate(s)
}

// sdmRelatedPerson builds a minor's or an adult's SDM: its role and rank,
// and, for a minor, the period ending at the 16th birthday.
func sdmRelatedPerson(id, patientID string, sdm SDM, start time.Time, end *time.Time) map[string]any {
	rp := map[string]any{
		"resourceType": "RelatedPerson",
		"id":           id,
		"active":       true,
		"patient":      ref("Patient", patientID),
		"relationship": []any{map[string]any{
			"coding": []any{map[string]any{"system": SDMRoleSystem, "code": sdm.Role.Code, "display": sdm.Role.Display}},
		}},
		"extension": []any{map[string]any{"url": SDMRankExtension, "valuePositiveInt": sdm.Role.Rank}},
		"name":      anyList(sdm.Names),
	}
	period := map[string]any{"start": instant(start)}
	if end != nil {
		period["end"] = end.Format(time.RFC3339)
	}
	rp["period"] = period
	if len(sdm.Telecom) > 0 {
		rp["telecom"] = anyList(sdm.Telecom)
	}
	if sdm.Document != nil {
		rp["identifier"] = []any{sdm.Document.Identifier()}
	}
	registered(rp) // who acts for the citizen is the registry's to say
	return rp
}

func anyList(ms []map[string]any) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}
