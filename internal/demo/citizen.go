package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/registry"
)

// launch is when the eHealth Record Sharing System opened to citizens.
var launch = time.Date(2016, time.March, 13, 0, 0, 0, 0, registry.HongKong)

// citizen is a generated citizen: who they are, when they registered and
// who registered them.
type citizen struct {
	person
	id         string
	doc        identity.Document
	registered time.Time
	parent     *person  // the SDM who registered a minor; nil for an adult
	sdmOf      []string // RelatedPerson ids through which this citizen acts for a child
}

func (c *citizen) minorAtRegistration() bool {
	return registry.Age(c.birthDate(), c.registered) < registry.AgeOfConsent
}

func (p person) birthDate() time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, p.birth, registry.HongKong)
	return t
}

// streams: each citizen's draws come from streams of (seed, number), so
// any citizen can be recomputed alone.
const (
	streamWho = iota
	streamRecords
	streamFamily
	streams
)

func rng(seed int64, n, stream int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(n)*streams+uint64(stream)))
}

// drawCitizen is citizen n's identity, a pure function of (seed, n, end).
func drawCitizen(seed int64, n int, end time.Time) *citizen {
	r := rng(seed, n, streamWho)
	age, gender := drawAgeSex(r)
	birth := end.AddDate(-(age + 1), 0, 1+r.IntN(365))
	c := &citizen{id: fmt.Sprintf("c%07d", n)}
	c.person = person{
		n: n, age: registry.Age(birth, end), birth: birth.Format(time.DateOnly), gender: gender,
		family: drawSurname(r), given: drawGiven(r, gender), district: drawDistrict(r), phone: drawPhone(r),
	}
	if c.age >= 18 && r.IntN(2) == 0 {
		c.email = fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(strings.ReplaceAll(c.given[0].en+c.given[1].en, " ", "")), strings.ToLower(c.family.en), n)
	}
	if c.age < 12 {
		c.phone = "" // a young child's contact is their parent's
	}
	c.doc = document(seed, n, c.age)
	// Registered some time after the launch, or a few weeks after birth;
	// (assumed) nine in ten children born since the launch are registered
	// by their parents then.
	reg := launch.Add(time.Duration(r.Int64N(int64(end.Sub(launch)))))
	first := birth.AddDate(0, 0, 14+r.IntN(60))
	if reg.Before(first) || (birth.After(launch) && r.IntN(10) > 0) {
		reg = first
	}
	if !reg.Before(end) {
		reg = end.AddDate(0, 0, -1)
	}
	c.registered = reg.Add(time.Duration(9+r.IntN(9)) * time.Hour) // office hours
	return c
}

// drawPerson is someone who is not a citizen of the run (a professional, a
// parent who is not registered).
func drawPerson(r *rand.Rand, age int) person {
	gender := [...]string{"male", "female"}[r.IntN(2)]
	return person{n: -1, age: age, gender: gender, family: drawSurname(r), given: drawGiven(r, gender), phone: drawPhone(r)}
}

// household gives each citizen of a block registered as a minor a parent
// as substitute decision maker: a citizen of the block old enough to be
// their parent (who then shares their surname and district), else a parent
// who is not registered.
func household(seed int64, block []*citizen) {
	for _, child := range block {
		if !child.minorAtRegistration() {
			continue
		}
		r := rng(seed, child.n, streamFamily)
		var candidates []*citizen
		for _, a := range block {
			if gap := a.age - child.age; gap >= 20 && gap <= 45 && !a.minorAtRegistration() {
				candidates = append(candidates, a)
			}
		}
		if len(candidates) == 0 {
			p := drawPerson(r, child.age+28)
			p.family, p.district = child.family, child.district
			child.parent = &p
			continue
		}
		parent := candidates[r.IntN(len(candidates))]
		if parent.gender == "male" {
			child.family = parent.family
		}
		child.district = parent.district
		child.parent = &parent.person
		parent.sdmOf = append(parent.sdmOf, child.id+"-sdm")
	}
}

// registration writes what registry.Register writes for the citizen: the
// master Patient, the SDM's RelatedPerson and the invitation to take over
// at 16 for a minor, and the joining Consent.
func registration(seed int64, c *citizen, w Writer) error {
	if err := w.Write("Patient", masterPatient(c)); err != nil {
		return err
	}
	performer := ref("Patient", c.id)
	if c.parent != nil {
		sixteen := registry.Birthday(c.birthDate(), registry.AgeOfConsent)
		if err := w.Write("RelatedPerson", sdmRelatedPerson(seed, c, sixteen)); err != nil {
			return err
		}
		if err := w.Write("CommunicationRequest", invitation(c, sixteen)); err != nil {
			return err
		}
		performer = ref("RelatedPerson", c.id+"-sdm")
	}
	return w.Write("Consent", joiningConsent(c, performer))
}

func masterPatient(c *citizen) map[string]any {
	p := map[string]any{
		"resourceType": "Patient",
		"id":           c.id,
		"meta": map[string]any{"tag": []any{map[string]any{
			"system": registry.MPISystem, "code": registry.TagMaster, "display": "Master patient record of a registered citizen",
		}}},
		"identifier": []any{c.doc.Identifier()},
		"active":     true,
		"name":       c.names(),
		"gender":     c.gender,
		"birthDate":  c.birth,
		"address": []any{map[string]any{
			"use": "home", "district": districts[c.district].en, "city": "Hong Kong", "country": "HK",
			"text": districts[c.district].en + ", Hong Kong",
		}},
	}
	if c.phone != "" {
		p["telecom"] = c.telecom()
	}
	for _, rp := range c.sdmOf {
		links, _ := p["link"].([]any)
		p["link"] = append(links, map[string]any{"other": ref("RelatedPerson", rp), "type": "seealso"})
	}
	return p
}

// sdmRelatedPerson is a minor's parent as registry writes the SDM: role
// and rank on the ladder, a period ending at the 16th birthday.
func sdmRelatedPerson(seed int64, c *citizen, sixteen time.Time) map[string]any {
	role, _ := registry.RoleOf("parent")
	rp := map[string]any{
		"resourceType": "RelatedPerson",
		"id":           c.id + "-sdm",
		"active":       true,
		"patient":      ref("Patient", c.id),
		"relationship": []any{map[string]any{
			"coding": []any{map[string]any{"system": registry.SDMRoleSystem, "code": role.Code, "display": role.Display}},
		}},
		"extension": []any{map[string]any{"url": registry.SDMRankExtension, "valuePositiveInt": role.Rank}},
		"name":      c.parent.names(),
		"telecom":   c.parent.telecom(),
		"period":    map[string]any{"start": instant(c.registered), "end": sixteen.Format(time.RFC3339)},
	}
	if c.parent.n >= 0 {
		rp["identifier"] = []any{document(seed, c.parent.n, c.parent.age).Identifier()}
	}
	tagRegistered(rp)
	return rp
}

func invitation(c *citizen, sixteen time.Time) map[string]any {
	return map[string]any{
		"resourceType": "CommunicationRequest",
		"id":           c.id + "-inv",
		"status":       "active",
		"category": []any{map[string]any{"coding": []any{map[string]any{
			"system": registry.CommunicationCategorySystem, "code": "sdm-handover", "display": "Invitation to take over one's eHealth record at 16",
		}}}},
		"subject":            ref("Patient", c.id),
		"recipient":          []any{ref("Patient", c.id)},
		"about":              []any{ref("RelatedPerson", c.id+"-sdm")},
		"authoredOn":         instant(c.registered),
		"occurrenceDateTime": sixteen.Format(time.RFC3339),
		"payload": []any{
			map[string]any{"contentString": "You are 16: from today you decide who sees your eHealth record. Sign in to the eHealth App to take it over from your substitute decision maker."},
			map[string]any{"contentString": "你已年滿16歲：由今天起，你可自行決定誰可查閱你的醫健通記錄。請登入醫健通流動應用程式，從代決人接管你的記錄。"},
		},
	}
}

func joiningConsent(c *citizen, performer map[string]any) map[string]any {
	return map[string]any{
		"resourceType": "Consent",
		"id":           c.id + "-join",
		"status":       "active",
		"scope": map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy", "display": "Privacy Consent",
		}}},
		"category": []any{
			map[string]any{"coding": []any{map[string]any{"system": registry.ConsentCategorySystem, "code": registry.CategoryJoining, "display": "eHealth joining consent"}}},
			map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}}},
		},
		"patient":   ref("Patient", c.id),
		"dateTime":  instant(c.registered),
		"performer": []any{performer},
		"policy":    []any{map[string]any{"uri": registry.JoiningPolicy}},
		"provision": map[string]any{
			"type":   "permit",
			"period": map[string]any{"start": instant(c.registered)},
			"action": []any{map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "collect", "display": "Collect",
			}}}},
		},
	}
}

// ref is a Reference to typ/id.
func ref(typ, id string) map[string]any { return map[string]any{"reference": typ + "/" + id} }

// instant is a FHIR instant in UTC, as the registry writes them.
func instant(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func lower(s string) string { return strings.ToLower(s) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
