package console

import (
	"context"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/web"
)

// writer is who the registry records as writing what the console asks:
// the operator, as for an operator token's writes through the FHIR API.
var writer = resource.Caller{Writer: "operator"}

// idPattern is a FHIR id.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// provider is a row of the providers' list.
type provider struct {
	ID, Name, Kind string
	Active         bool
}

// providers lists the providers' registry, newest first, with the form
// registering one.
func (con *console) providers(c *web.Ctx) error {
	q := url.Values{"_tag": {resource.RegistryOriginSystem + "|" + resource.RegistryOriginRegistry},
		"_sort": {"-_lastUpdated"}, "_count": {"100"}}
	b, err := c.FHIR.Search(c.R.Context(), "Organization", q)
	if err != nil {
		return err
	}
	var list []provider
	for _, r := range b.Matches {
		list = append(list, providerOf(r))
	}
	return c.Render("providers", map[string]any{"Providers": list, "Kinds": slices.Sorted(maps.Keys(registry.ProviderKinds))})
}

// providerOf reads a registry Organization.
func providerOf(r web.Resource) provider {
	p := provider{ID: web.Str(r, "id"), Name: web.Str(r, "name"), Active: web.Get(r, "active") != false}
	for _, t := range web.List(r, "type") {
		if web.Str(t, "coding", 0, "system") == registry.ProviderKindSystem {
			p.Kind = web.Str(t, "coding", 0, "code")
		}
	}
	return p
}

// addProvider registers a provider through the registry.
func (con *console) addProvider(c *web.Ctx) error {
	ctx, err := con.auditing(c)
	if err != nil {
		return err
	}
	id, err := con.cfg.Registry.AddProvider(ctx, writer, c.Form("name"), c.Form("kind"))
	if err != nil {
		return err
	}
	con.cfg.Log.Info("console: provider added", "organization", id, "operator", c.Session.FHIRUser)
	c.Flash("ok", "providers.added", c.Form("name"))
	return c.Redirect("providers/" + id)
}

// setActive suspends (active=false) or reinstates a provider.
func (con *console) setActive(c *web.Ctx) error {
	id := c.R.PathValue("id")
	if !idPattern.MatchString(id) {
		return outcome.New(outcome.NotFound, "console: no provider %q", id)
	}
	active := c.Form("active") == "true"
	ctx, err := con.auditing(c)
	if err != nil {
		return err
	}
	if err := con.cfg.Registry.SetActive(ctx, writer, "Organization/"+id, active); err != nil {
		return err
	}
	if active {
		c.Flash("ok", "providers.reinstated")
	} else {
		c.Flash("ok", "providers.suspended")
	}
	return c.Redirect("providers/" + id)
}

// professional is a row of a provider's professionals.
type professional struct {
	Name, Registration, Profession string
	Roles                          []string
}

// provider shows one provider: its professionals, the form adding one,
// and its connectivity accreditation.
func (con *console) provider(c *web.Ctx) error {
	ctx, id := c.R.Context(), c.R.PathValue("id")
	if !idPattern.MatchString(id) {
		return outcome.New(outcome.NotFound, "console: no provider %q", id)
	}
	org, err := c.FHIR.Read(ctx, "Organization", id)
	if err != nil {
		return err
	}
	roles, err := c.FHIR.Search(ctx, "PractitionerRole", url.Values{"organization": {"Organization/" + id},
		"_include": {"PractitionerRole:practitioner"}, "_count": {"100"}})
	if err != nil {
		return err
	}
	pracs := map[string]web.Resource{}
	for _, r := range roles.Included {
		pracs["Practitioner/"+web.Str(r, "id")] = r
	}
	var profs []professional
	for _, r := range roles.Matches {
		p := pracs[web.Str(r, "practitioner", "reference")]
		pr := professional{Name: web.FormatName(c.Lang, web.List(p, "name")), Registration: web.Str(p, "identifier", 0, "value")}
		for _, code := range web.List(r, "code") {
			switch cd := web.Get(code, "coding", 0); web.Str(cd, "system") {
			case registry.ProfessionalRoleSystem:
				if _, ok := registry.ProfessionalRoles[web.Str(cd, "code")]; ok {
					pr.Roles = append(pr.Roles, web.Str(cd, "code"))
				} else {
					pr.Profession = web.Str(cd, "display")
				}
			}
		}
		profs = append(profs, pr)
	}
	acc, err := con.latestAccreditation(c, id)
	if err != nil {
		return err
	}
	return c.Render("provider", map[string]any{"Provider": providerOf(org), "Professionals": profs, "Accreditation": acc,
		"Councils": slices.Sorted(maps.Keys(registry.Councils)), "CouncilNames": registry.Councils,
		"Professions": slices.Sorted(maps.Keys(registry.Professions))})
}

// addProfessional registers a professional's role at the provider.
func (con *console) addProfessional(c *web.Ctx) error {
	id := c.R.PathValue("id")
	if !idPattern.MatchString(id) {
		return outcome.New(outcome.NotFound, "console: no provider %q", id)
	}
	ctx, err := con.auditing(c)
	if err != nil {
		return err
	}
	p := registry.Professional{Name: c.Form("name"), Council: c.Form("council"), Registration: c.Form("registration"),
		Org: "Organization/" + id, Profession: c.Form("profession"), Roles: c.R.PostForm["role"]}
	if _, _, err := con.cfg.Registry.AddProfessional(ctx, writer, p); err != nil {
		return err
	}
	c.Flash("ok", "provider.professional_added", p.Name)
	return c.Redirect("providers/" + id)
}

// auditing is the request's context recording every registry write in
// the journal, in the write's transaction, as the signed-in operator
// (what the FHIR API records for a write with the operator's token).
func (con *console) auditing(c *web.Ctx) (context.Context, error) {
	claims, err := con.claims(c)
	if err != nil {
		return nil, err
	}
	base := audit.Event{Caller: audit.CallerOf(claims)}
	if host, _, err := net.SplitHostPort(c.R.RemoteAddr); err == nil {
		base.ClientAddress = host
	}
	return resource.AuditWrites(c.R.Context(), func(ctx context.Context, tx store.AuditAppender, done []resource.Done) error {
		for _, d := range done {
			if d.Read {
				continue
			}
			e := base
			e.Interaction = audit.Update
			if d.Version.Method == store.MethodCreate {
				e.Interaction = audit.Create
			}
			e.Resource = d.Version.Type + "/" + d.Version.ID + "/_history/" + strconv.FormatInt(d.Version.VersionID, 10)
			if err := con.cfg.Audit.RecordTx(ctx, tx, e); err != nil {
				return outcome.Wrap(outcome.Transient, "the write could not be recorded in the audit journal; nothing was stored", err)
			}
		}
		return nil
	}), nil
}
