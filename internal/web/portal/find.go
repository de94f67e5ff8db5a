package portal

import (
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// documentKinds are the identity documents a patient is found by, in the
// order the form offers them.
var documentKinds = []identity.Kind{identity.HKID, identity.BirthCertificate, identity.ExemptionCertificate, identity.Passport}

// findView is the find page's data: the form as filled in (never the
// document number, which is not written back into the page) and what was
// found.
type findView struct {
	Kinds             []identity.Kind
	Kind, Country     string
	Family, Given     string
	BirthDate         string
	Errors            []string // message keys
	Searched, Found   bool
	ID, Name, Born    string
	Gender            string
	CanSee, Emergency bool
}

// findForm asks for the identity document, name and date of birth.
func findForm(c *web.Ctx) error {
	return c.Render("find", findView{Kinds: documentKinds, Kind: string(identity.HKID)})
}

// find looks the patient up with Patient/$match (POST: the document never
// travels in a URL), accepting only a certain match — the document, with
// the date of birth agreeing — and shows the registered name and date of
// birth to confirm, and whether the professional may see the record.
func (p *portal) find(c *web.Ctx) error {
	v := findView{Kinds: documentKinds, Kind: c.Form("kind"), Country: strings.ToUpper(c.Form("country")),
		Family: c.Form("family"), Given: c.Form("given"), BirthDate: c.Form("birthdate"), Searched: true}
	doc, err := identity.Parse(identity.Kind(v.Kind), c.Form("number"), v.Country)
	if err != nil {
		v.Errors = append(v.Errors, "find.bad_number")
	}
	if _, err := time.Parse(time.DateOnly, v.BirthDate); err != nil {
		v.Errors = append(v.Errors, "find.bad_birthdate")
	}
	if v.Family == "" {
		v.Errors = append(v.Errors, "find.no_family")
	}
	if len(v.Errors) > 0 {
		v.Searched = false
		return c.RenderStatus(422, "find", v)
	}
	name := map[string]any{"family": v.Family}
	if v.Given != "" {
		name["given"] = strings.Fields(v.Given)
	}
	query := map[string]any{"resourceType": "Patient", "identifier": []any{doc.Identifier()},
		"name": []any{name}, "birthDate": v.BirthDate}
	res, err := operation(c, "Patient/$match", "resource", map[string]any{"resource": query},
		"onlyCertainMatches", map[string]any{"valueBoolean": true}, "count", map[string]any{"valueInteger": 1})
	if err != nil {
		return err
	}
	for _, e := range web.List(res, "entry") {
		pt := web.Get(e, "resource")
		if web.Str(pt, "resourceType") != "Patient" {
			continue
		}
		v.Found, v.ID = true, web.Str(pt, "id")
		v.Name, v.Born, v.Gender = web.FormatName(c.Lang, web.List(pt, "name")), web.Str(pt, "birthDate"), web.Str(pt, "gender")
		break
	}
	if v.Found {
		if !idPattern.MatchString(v.ID) {
			return outcome.New(outcome.Internal, "portal: $match answered a Patient id %q", v.ID)
		}
		_, err := c.FHIR.Read(c.R.Context(), "Patient", v.ID)
		switch {
		case err == nil:
			v.CanSee = true
		case !outcome.Is(err, outcome.NotFound):
			return err
		}
		v.Emergency = !v.CanSee && p.emergencyOffered()
	}
	return c.Render("find", v)
}
