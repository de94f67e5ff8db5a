package citizen

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// The sharing consents' category (consent.CategorySystem|sharing).
const sharingCategory = "https://ehealth.hk/fhir/CodeSystem/consent-category|sharing"

var orgID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// consentLine is a sharing consent as the page shows it.
type consentLine struct {
	Org, OrgName string
	Start, End   string
	Active       bool
}

// sharing lists the providers that may see the record.
func sharing(c *web.Ctx) error {
	b, err := search(c, "Consent", url.Values{"category": {sharingCategory}, "_count": {"100"}})
	if err != nil {
		return err
	}
	var active, ended []consentLine
	now := time.Now()
	for _, r := range b.Matches {
		org := strings.TrimPrefix(web.Str(r, "provision", "actor", 0, "reference", "reference"), "Organization/")
		l := consentLine{Org: org, OrgName: orgName(c, org), Start: web.Str(r, "provision", "period", "start"), End: web.Str(r, "provision", "period", "end")}
		end, _, hasEnd := web.ParseTime(l.End)
		l.Active = web.Str(r, "status") == "active" && (!hasEnd || end.After(now))
		if l.Active {
			active = append(active, l)
		} else {
			ended = append(ended, l)
		}
	}
	return c.Render("sharing", map[string]any{"Active": active, "Ended": ended})
}

// orgName reads a provider's name (its id when it cannot be read).
func orgName(c *web.Ctx, id string) string {
	o, err := c.FHIR.Read(c.R.Context(), "Organization", id)
	if err != nil || web.Str(o, "name") == "" {
		return id
	}
	return web.Str(o, "name")
}

// giveForm finds providers by name (a POST-free search: the name of a
// provider is not about the person).
func giveForm(c *web.Ctx) error {
	q := strings.TrimSpace(c.R.URL.Query().Get("q"))
	var orgs []web.Resource
	if q != "" {
		b, err := c.FHIR.Search(c.R.Context(), "Organization", url.Values{"name": {q}, "active": {"true"}, "_count": {"20"}})
		if err != nil {
			return err
		}
		orgs = b.Matches
	}
	return c.Render("give", map[string]any{"Q": q, "Orgs": orgs, "Searched": q != ""})
}

// give gives a sharing consent to a provider, for a year, until a date or
// indefinitely.
func give(c *web.Ctx) error {
	org := c.Form("organization")
	if !orgID.MatchString(org) {
		return outcome.At(outcome.Invalid, "organization", "citizen: choose a provider")
	}
	params := []any{map[string]any{"name": "organization", "valueReference": map[string]any{"reference": "Organization/" + org}}}
	switch v := c.Form("validity"); v {
	case "year":
		params = append(params, map[string]any{"name": "until", "valueDate": time.Now().In(web.HongKong()).AddDate(1, 0, 0).Format(time.DateOnly)})
	case "until":
		d := c.Form("until")
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return outcome.At(outcome.Invalid, "until", "citizen: the end date is not a date")
		}
		params = append(params, map[string]any{"name": "until", "valueDate": d})
	case "indefinite":
	default:
		return outcome.At(outcome.Invalid, "validity", "citizen: choose how long the consent lasts")
	}
	_, err := c.FHIR.Operation(c.R.Context(), "Patient/"+patient(c)+"/$share", web.Resource{"resourceType": "Parameters", "parameter": params})
	if err != nil {
		return err
	}
	c.Flash("ok", "sharing.given", orgName(c, org))
	return c.Redirect("sharing")
}

// revokeForm asks to confirm a revocation.
func revokeForm(c *web.Ctx) error {
	org := c.R.PathValue("org")
	if !orgID.MatchString(org) {
		return outcome.New(outcome.NotFound, "citizen: no provider %q", org)
	}
	return c.Render("revoke", map[string]any{"Org": org, "OrgName": orgName(c, org)})
}

// revoke ends the sharing consent: the provider loses access on its next
// request.
func revoke(c *web.Ctx) error {
	org := c.R.PathValue("org")
	if !orgID.MatchString(org) {
		return outcome.New(outcome.NotFound, "citizen: no provider %q", org)
	}
	_, err := c.FHIR.Operation(c.R.Context(), "Patient/"+patient(c)+"/$revoke-sharing", web.Resource{"resourceType": "Parameters",
		"parameter": []any{map[string]any{"name": "organization", "valueReference": map[string]any{"reference": "Organization/" + org}}}})
	if err != nil {
		return err
	}
	c.Flash("ok", "sharing.revoked", orgName(c, org))
	return c.Redirect("sharing")
}
