package journal

import (
	"context"
	"strings"
	"unicode"

	"github.com/ehealthplus/ehealth/internal/registry"
)

// text is something said in English and in Traditional Chinese.
type text struct{ en, zh string }

// or is t with each empty language filled from the other.
func (t text) or() text {
	if t.en == "" {
		t.en = t.zh
	}
	if t.zh == "" {
		t.zh = t.en
	}
	return t
}

// translationExtension is the core extension carrying a translation of a
// primitive value (on Organization._name).
const translationExtension = "http://hl7.org/fhir/StructureDefinition/translation"

// names reads the people and providers a page of history names, each
// once, as the platform: a professional's name is not the citizen's to
// see by consent, but who opened their record is.
type names struct {
	s     *Service
	ctx   context.Context
	cache map[string]map[string]any
	err   error // the first read that failed
}

func (s *Service) names(ctx context.Context) *names {
	return &names{s: s, ctx: ctx, cache: map[string]map[string]any{}}
}

// res reads ref ("Practitioner/1"), nil when it is not known.
func (n *names) res(ref string) map[string]any {
	if r, ok := n.cache[ref]; ok {
		return r
	}
	typ, id, ok := strings.Cut(ref, "/")
	if !ok || n.err != nil {
		return nil
	}
	r, err := n.s.read(n.ctx, typ, id)
	if err != nil {
		n.err = err
	}
	n.cache[ref] = r
	return r
}

// person is the name of a Practitioner, RelatedPerson or Patient: the
// HumanName in each language (its language extension, else Chinese when
// written in Han characters).
func (n *names) person(ref string) text {
	var t text
	for _, hn := range list(n.res(ref)["name"]) {
		s := nameText(hn)
		if s == "" {
			continue
		}
		if chinese(hn, s) {
			if t.zh == "" {
				t.zh = strings.ReplaceAll(s, " ", "")
			}
		} else if t.en == "" {
			t.en = s
		}
	}
	return t.or()
}

// org is a provider's name: Organization.name, its Chinese from a
// translation extension on the name or a Han-character alias.
func (n *names) org(ref string) text {
	o := n.res(ref)
	t := text{en: str(o, "name")}
	for _, x := range list(get(o, "_name", "extension")) {
		if str(x, "url") != translationExtension {
			continue
		}
		var lang, content string
		for _, p := range list(get(x, "extension")) {
			switch str(p, "url") {
			case "lang":
				lang = str(p, "valueCode")
			case "content":
				content = str(p, "valueString")
			}
		}
		if strings.HasPrefix(lang, "zh") && content != "" {
			t.zh = content
		}
	}
	for _, a := range list(o["alias"]) {
		if s, _ := a.(string); t.zh == "" && hasHan(s) {
			t.zh = s
		}
	}
	if hasHan(t.en) {
		t.en, t.zh = "", t.en
	}
	return t.or()
}

// profession is what a Practitioner is registered as, from the council
// that registered them (registry.RegistrationSystemPrefix).
func (n *names) profession(practitioner string) profession {
	for _, id := range list(n.res(practitioner)["identifier"]) {
		if council, ok := strings.CutPrefix(str(id, "system"), registry.RegistrationSystemPrefix); ok {
			if p, ok := professions[council]; ok {
				return p
			}
		}
	}
	return professions[""]
}

// roleName is what a PractitionerRole's code says (other than the plain
// healthcare professional every role is).
func (n *names) roleName(ref string) string {
	for _, c := range list(n.res(ref)["code"]) {
		for _, cd := range list(get(c, "coding")) {
			if str(cd, "system") == registry.ProfessionalRoleSystem && str(cd, "code") != "healthcare-professional" {
				return str(cd, "display")
			}
		}
		if s := str(c, "text"); s != "" {
			return s
		}
	}
	return ""
}

// profession is how a professional is named: a title before the English
// name ("Dr"), a word after the Chinese one (醫生), and the role itself.
type profession struct {
	title, suffix string
	role          text
}

// professions by council code (registry.Councils); "" for anyone else.
var professions = map[string]profession{
	"mchk":    {"Dr", "醫生", text{"Doctor", "醫生"}},
	"dchk":    {"Dr", "牙醫", text{"Dentist", "牙醫"}},
	"cmchk":   {"Chinese medicine practitioner", "中醫師", text{"Chinese medicine practitioner", "中醫師"}},
	"ppbhk":   {"Pharmacist", "藥劑師", text{"Pharmacist", "藥劑師"}},
	"nchk":    {"Nurse", "護士", text{"Nurse", "護士"}},
	"mwchk":   {"Midwife", "助產士", text{"Midwife", "助產士"}},
	"mltb":    {"Medical laboratory technologist", "醫務化驗師", text{"Medical laboratory technologist", "醫務化驗師"}},
	"rb":      {"Radiographer", "放射技師", text{"Radiographer", "放射技師"}},
	"ptb":     {"Physiotherapist", "物理治療師", text{"Physiotherapist", "物理治療師"}},
	"otb":     {"Occupational therapist", "職業治療師", text{"Occupational therapist", "職業治療師"}},
	"ob":      {"Optometrist", "視光師", text{"Optometrist", "視光師"}},
	"cchk":    {"Chiropractor", "脊醫", text{"Chiropractor", "脊醫"}},
	"dhygchk": {"Dental hygienist", "牙齒衞生員", text{"Dental hygienist", "牙齒衞生員"}},
	"":        {"", "", text{"Healthcare professional", "醫護人員"}},
}

// nameText is a HumanName as written: text, else family then given.
func nameText(hn any) string {
	if s := str(hn, "text"); s != "" {
		return s
	}
	parts := []string{}
	if f := str(hn, "family"); f != "" {
		parts = append(parts, f)
	}
	for _, g := range list(get(hn, "given")) {
		if s, _ := g.(string); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// chinese reports whether a HumanName is the Chinese one.
func chinese(hn any, written string) bool {
	for _, x := range list(get(hn, "extension")) {
		if str(x, "url") == registry.LanguageExtension {
			return strings.HasPrefix(str(x, "valueCode"), "zh")
		}
	}
	return hasHan(written)
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
