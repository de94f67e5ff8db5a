package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// The professional-role code system and the role codes of the providers'
// registry (package registry).
const (
	roleSystem    = "https://ehealth.hk/fhir/CodeSystem/professional-role"
	userAdminRole = "user-administrator"
	clinicalRole  = "healthcare-professional"
)

// councils are the councils and boards the add form offers (the
// registry's codes), and professions the professions with the council
// that registers each.
var (
	councils    = []string{"mchk", "dchk", "cmchk", "ppbhk", "nchk", "mwchk", "mltb", "rb", "ptb", "otb", "ob", "cchk", "dhygchk", "ars"}
	professions = []string{"doctor", "dentist", "chinese-medicine-practitioner", "pharmacist", "nurse", "midwife",
		"laboratory-technologist", "radiographer", "physiotherapist", "occupational-therapist", "optometrist", "chiropractor",
		"dental-hygienist", "audiologist", "clinical-psychologist", "dietitian", "speech-therapist"}
)

// isUserAdmin reports whether the signed-in professional holds an active
// user-administrator role at the provider they act for (the API decides
// again on every change).
func isUserAdmin(c *web.Ctx) (bool, error) {
	b, err := search(c, "PractitionerRole", url.Values{"practitioner": {c.Session.FHIRUser}, "organization": {c.Session.Org},
		"role": {roleSystem + "|" + userAdminRole}})
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(b.Matches, func(r web.Resource) bool { return web.Get(r, "active") != false }), nil
}

// member is a professional of the provider as the team page shows them.
type member struct {
	Name, Profession string
	Admin, Active    bool
}

// team lists the provider's professionals (its PractitionerRoles), for its
// user administrators.
func team(c *web.Ctx) error {
	admin, err := isUserAdmin(c)
	if err != nil {
		return err
	}
	if !admin {
		return c.RenderStatus(http.StatusForbidden, "team", map[string]any{"Admin": false})
	}
	b, err := search(c, "PractitionerRole", url.Values{"organization": {c.Session.Org}, "_include": {"PractitionerRole:practitioner"}, "_count": {"200"}})
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, r := range b.Included {
		names["Practitioner/"+web.Str(r, "id")] = web.FormatName(c.Lang, web.List(r, "name"))
	}
	var list []member
	for _, r := range b.Matches {
		m := member{Name: names[web.Str(r, "practitioner", "reference")], Active: web.Get(r, "active") != false}
		for _, code := range web.List(r, "code") {
			for _, cd := range web.List(code, "coding") {
				switch {
				case web.Str(cd, "system") == roleSystem && web.Str(cd, "code") == userAdminRole:
					m.Admin = true
				case web.Str(cd, "system") == roleSystem && web.Str(cd, "code") != clinicalRole && m.Profession == "":
					m.Profession = web.Display(code)
				}
			}
		}
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b member) int { return strings.Compare(a.Name, b.Name) })
	return c.Render("team", map[string]any{"Admin": true, "Members": list})
}

// addView is the add form's data.
type addView struct {
	Councils, Professions []string
	Values                map[string]string
	Errors                []string
}

// addForm asks for the professional to register.
func addForm(c *web.Ctx) error {
	admin, err := isUserAdmin(c)
	if err != nil {
		return err
	}
	if !admin {
		return c.RenderStatus(http.StatusForbidden, "team", map[string]any{"Admin": false})
	}
	return c.Render("addpro", addView{Councils: councils, Professions: professions, Values: map[string]string{}})
}

// addProfessional registers a professional at the provider through
// Organization/{id}/$add-professional (the API checks that the signed-in
// professional is one of its user administrators).
func addProfessional(c *web.Ctx) error {
	v := addView{Councils: councils, Professions: professions, Values: map[string]string{}}
	for _, f := range []string{"name", "council", "registration", "profession", "admin"} {
		v.Values[f] = c.Form(f)
	}
	if v.Values["name"] == "" || len(v.Values["name"]) > 200 {
		v.Errors = append(v.Errors, "addpro.no_name")
	}
	if !slices.Contains(councils, v.Values["council"]) {
		v.Errors = append(v.Errors, "addpro.no_council")
	}
	if r := v.Values["registration"]; r == "" || len(r) > 32 {
		v.Errors = append(v.Errors, "addpro.no_registration")
	}
	if p := v.Values["profession"]; p != "" && !slices.Contains(professions, p) {
		v.Errors = append(v.Errors, "addpro.no_profession")
	}
	if len(v.Errors) > 0 {
		return c.RenderStatus(http.StatusUnprocessableEntity, "addpro", v)
	}
	pairs := []any{"name", v.Values["name"], "council", code(v.Values["council"]), "registration", v.Values["registration"],
		"role", code(clinicalRole)}
	if p := v.Values["profession"]; p != "" {
		pairs = append(pairs, "profession", code(p))
	}
	if v.Values["admin"] == "1" {
		pairs = append(pairs, "role", code(userAdminRole))
	}
	if _, err := operation(c, "Organization/"+orgID(c)+"/$add-professional", pairs...); err != nil {
		if outcome.Is(err, outcome.Invalid) || outcome.Is(err, outcome.Unprocessable) {
			v.Errors = append(v.Errors, "addpro.refused")
			return c.RenderStatus(http.StatusUnprocessableEntity, "addpro", v)
		}
		return err
	}
	c.Flash("ok", "addpro.done", v.Values["name"])
	return c.Redirect("team")
}

// code is a valueCode parameter value.
func code(s string) map[string]any { return map[string]any{"valueCode": s} }
