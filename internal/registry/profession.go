package registry

import (
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// SNOMEDSystem is SNOMED CT's code system URI.
const SNOMEDSystem = "http://snomed.info/sct"

// Profession is a registered healthcare profession (DOMAIN.md, "People
// and organisations"), as a PractitionerRole.code records it: the local
// professional-role code (ProfessionalRoleSystem) and, where the built-in
// role-based views (resource/views.json) know one, a SNOMED CT occupation
// code — so the role's view is found whichever coding a configuration
// keys it by.
type Profession struct {
	Code    string // ProfessionalRoleSystem code; views.json's where it has the role
	Display string
	SNOMED  string // SNOMED CT occupation; "" where views.json has none
	Council string // the key of Councils that registers it
}

// Professions are the professions a professional may be registered with,
// by the value of the profession parameter. (assumed) The accredited
// allied health professions are those of the Accredited Registers Scheme
// that care for patients directly.
var Professions = map[string]Profession{
	"doctor":                        {"medical-practitioner", "Medical practitioner", "158965000", "mchk"},
	"dentist":                       {"dentist", "Dentist", "106289002", "dchk"},
	"chinese-medicine-practitioner": {"chinese-medicine-practitioner", "Chinese medicine practitioner", "", "cmchk"},
	"pharmacist":                    {"pharmacist", "Pharmacist", "46255001", "ppbhk"},
	"nurse":                         {"nurse", "Nurse", "106292003", "nchk"},
	"midwife":                       {"midwife", "Midwife", "75271001", "mwchk"},
	"laboratory-technologist":       {"medical-laboratory-technologist", "Medical laboratory technologist", "", "mltb"},
	"radiographer":                  {"radiographer", "Radiographer", "159016003", "rb"},
	"physiotherapist":               {"physiotherapist", "Physiotherapist", "", "ptb"},
	"occupational-therapist":        {"occupational-therapist", "Occupational therapist", "", "otb"},
	"optometrist":                   {"optometrist", "Optometrist", "", "ob"},
	"chiropractor":                  {"chiropractor", "Chiropractor", "", "cchk"},
	"dental-hygienist":              {"dental-hygienist", "Dental hygienist", "26042002", "dhygchk"},
	"audiologist":                   {"audiologist", "Audiologist", "", "ars"},
	"clinical-psychologist":         {"clinical-psychologist", "Clinical psychologist", "", "ars"},
	"dietitian":                     {"dietitian", "Dietitian", "", "ars"},
	"speech-therapist":              {"speech-therapist", "Speech therapist", "", "ars"},
}

// checkProfession checks the profession p is registered with: a known one,
// registered by the council p names. An empty profession is none (the
// role then sees what a role configured nowhere sees).
func checkProfession(p *Professional) error {
	if p.Profession == "" {
		return nil
	}
	prof, ok := Professions[p.Profession]
	if !ok {
		return outcome.At(outcome.Invalid, "profession", "profession %q: want one of %s", p.Profession, professionNames())
	}
	if prof.Council != p.Council {
		return outcome.At(outcome.Invalid, "profession", "a %s is registered with %s (%s), not %q", p.Profession, prof.Council, Councils[prof.Council], p.Council)
	}
	return nil
}

// professionCode is the PractitionerRole.code of a profession: the local
// coding and the SNOMED CT one where there is one.
func professionCode(name string) map[string]any {
	prof := Professions[name]
	codings := []any{map[string]any{"system": ProfessionalRoleSystem, "code": prof.Code, "display": prof.Display}}
	if prof.SNOMED != "" {
		codings = append(codings, map[string]any{"system": SNOMEDSystem, "code": prof.SNOMED})
	}
	return map[string]any{"coding": codings, "text": prof.Display}
}

// professionNames lists Professions' keys, sorted, for messages.
func professionNames() string {
	out := make([]string, 0, len(Professions))
	for k := range Professions {
		out = append(out, k)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
