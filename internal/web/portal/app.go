package portal

import (
	"context"
	"embed"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/ehealthplus/ehealth/internal/csvdeposit"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// Prefix is where the portal is mounted.
const Prefix = "/portal"

// Scope is what the portal asks for: the professional, refresh tokens
// that end with the sign-in, and user-level access to the records their
// provider may see (consent and the role's view decide which).
const Scope = "openid fhirUser online_access user/*.cruds"

// Purpose is the purpose of use the portal's tokens carry: the
// professional is treating the patient (the access history says "during a
// consultation").
const Purpose = "TREAT"

//go:embed pages/*.html messages.*.json
var files embed.FS

// Options are the platform's switches the portal follows.
type Options struct {
	// Emergency reports whether emergency access is offered now
	// (consent.Policy.Emergency); nil: never.
	Emergency func() bool
}

// portal is the mounted app with its options.
type portal struct{ opts Options }

// Mount adds the provider portal to site.
func Mount(ctx context.Context, site *web.Site, opts Options) error {
	a, err := site.NewApp(ctx, web.AppConfig{Name: "portal", Prefix: Prefix, TitleKey: "app.name", Scope: Scope, Files: files,
		MaxUpload: csvdeposit.DefaultMaxBytes, Nav: []web.NavItem{
			{Path: "/", Key: "nav.find"}, {Path: "deposit", Key: "nav.deposit"}, {Path: "deposits", Key: "nav.history"},
			{Path: "accreditation", Key: "nav.accreditation"}, {Path: "team", Key: "nav.team"},
		}})
	if err != nil {
		return err
	}
	a.SetPurpose(Purpose)
	p := &portal{opts: opts}
	a.Handle("GET /{$}", findForm)
	a.Handle("POST /find", p.find)
	a.Handle("GET /patients/{id}", p.patient)
	a.Handle("GET /patients/{id}/desk", desk)
	a.Handle("POST /patients/{id}/desk/key", deskKey)
	a.Handle("POST /patients/{id}/desk/send", deskSend)
	a.Handle("POST /patients/{id}/desk/code", deskCode)
	a.Handle("GET /patients/{id}/records/{kind}", timeline)
	a.Handle("GET /patients/{id}/trends", trends)
	a.Handle("GET /patients/{id}/trends/{code}", trend)
	a.Handle("GET /patients/{id}/restricted", restrictedForm)
	a.Handle("POST /patients/{id}/restricted/ask", restrictedAsk)
	a.Handle("POST /patients/{id}/restricted/open", restrictedOpen)
	a.Handle("GET /patients/{id}/emergency", p.emergencyForm)
	a.Handle("POST /patients/{id}/emergency", p.emergency)
	a.Handle("GET /patients/{id}/deposit", depositMenu)
	a.Handle("GET /patients/{id}/deposit/{form}", depositForm)
	a.Handle("POST /patients/{id}/deposit/{form}", depositPost)
	a.Handle("GET /record/{type}/{rid}", detail)
	a.Handle("GET /deposit", csvForm)
	a.Handle("GET /deposit/template/{name}", csvTemplate)
	a.Handle("POST /deposit", csvUpload)
	a.Handle("GET /deposits", history)
	a.Handle("GET /accreditation", accreditation)
	a.Handle("POST /accreditation", assess)
	a.Handle("GET /team", team)
	a.Handle("GET /team/add", addForm)
	a.Handle("POST /team/add", addProfessional)
	return nil
}

// emergencyOffered reports whether the platform offers emergency access.
func (p *portal) emergencyOffered() bool { return p.opts.Emergency != nil && p.opts.Emergency() }

// idPattern is a FHIR id (https://hl7.org/fhir/R4/datatypes.html#id).
var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// patientID is the {id} of a patient route, checked.
func patientID(c *web.Ctx) (string, error) {
	id := c.R.PathValue("id")
	if !idPattern.MatchString(id) {
		return "", outcome.New(outcome.NotFound, "portal: no patient %q", id)
	}
	return id, nil
}

// orgID is the id of the provider the professional acts for.
func orgID(c *web.Ctx) string { return strings.TrimPrefix(c.Session.Org, "Organization/") }

// search searches typ as the professional.
func search(c *web.Ctx, typ string, q url.Values) (*web.Bundle, error) {
	b, err := c.FHIR.Search(c.R.Context(), typ, q)
	if err != nil {
		return nil, fmt.Errorf("portal: %s: %w", typ, err)
	}
	return b, nil
}

// operation runs a FHIR operation with named parameters given as
// name, value pairs: a string is a valueString, a map is put as it is.
func operation(c *web.Ctx, path string, pairs ...any) (web.Resource, error) {
	var ps []any
	for i := 0; i+1 < len(pairs); i += 2 {
		p := map[string]any{"name": pairs[i]}
		switch v := pairs[i+1].(type) {
		case string:
			p["valueString"] = v
		case map[string]any:
			for k, x := range v {
				p[k] = x
			}
		}
		ps = append(ps, p)
	}
	return c.FHIR.Operation(c.R.Context(), path, web.Resource{"resourceType": "Parameters", "parameter": ps})
}

// param is the named parameter of a Parameters answer.
func param(res web.Resource, name string) web.Resource {
	for _, p := range web.List(res, "parameter") {
		if web.Str(p, "name") == name {
			m, _ := p.(map[string]any)
			return m
		}
	}
	return nil
}

// readName is a resource's name for people (Organization.name, a
// person's name in the page's language), "" when it cannot be read.
func readName(c *web.Ctx, ref string) string {
	typ, id, ok := strings.Cut(ref, "/")
	if !ok || !idPattern.MatchString(id) {
		return ""
	}
	r, err := c.FHIR.Read(c.R.Context(), typ, id)
	if err != nil {
		return ""
	}
	if n := web.Str(r, "name"); n != "" {
		return n
	}
	return web.FormatName(c.Lang, web.List(r, "name"))
}
