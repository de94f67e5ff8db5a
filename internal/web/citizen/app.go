package citizen

import (
	"context"
	"embed"
	"fmt"
	"net/url"

	"github.com/ehealthplus/ehealth/internal/web"
)

// Prefix is where the app is mounted.
const Prefix = "/app"

// Scope is what the app asks for: the person, a patient context (the
// picker offers the children an SDM acts for), refresh tokens that end
// with the sign-in, and the patient's whole record.
const Scope = "openid fhirUser launch/patient online_access patient/*.cruds"

//go:embed pages/*.html messages.*.json
var files embed.FS

// Mount adds the citizen's app to site.
func Mount(ctx context.Context, site *web.Site) error {
	a, err := site.NewApp(ctx, web.AppConfig{Name: "citizen", Prefix: Prefix, TitleKey: "app.name", Scope: Scope, Files: files,
		MaxUpload: MaxUpload, Nav: []web.NavItem{
			{Path: "/", Key: "nav.home"}, {Path: "records", Key: "nav.records"}, {Path: "trends", Key: "nav.trends"},
			{Path: "sharing", Key: "nav.sharing"}, {Path: "access", Key: "nav.access"}, {Path: "inbox", Key: "nav.inbox"},
			{Path: "more", Key: "nav.more"},
		}})
	if err != nil {
		return err
	}
	a.Handle("GET /{$}", home)
	a.Handle("GET /more", more)
	a.Handle("GET /records", records)
	a.Handle("GET /records/{kind}", timeline)
	a.Handle("GET /record/{type}/{id}", detail)
	a.Handle("GET /trends", trends)
	a.Handle("GET /trends/{code}", trend)
	a.Handle("GET /sharing", sharing)
	a.Handle("GET /sharing/give", giveForm)
	a.Handle("POST /sharing/give", give)
	a.Handle("GET /sharing/revoke/{org}", revokeForm)
	a.Handle("POST /sharing/revoke/{org}", revoke)
	a.Handle("GET /access", accessHistory)
	a.Handle("GET /access/report/{event}", reportForm)
	a.Handle("POST /access/report/{event}", report)
	a.Handle("GET /family", family)
	a.Handle("GET /inbox", inbox)
	a.Handle("GET /settings", settings)
	a.Handle("POST /settings/channels", saveChannels)
	a.Handle("GET /self", selfRecorded)
	a.Handle("POST /self", addSelfRecorded)
	a.Handle("GET /folder", folder)
	a.Handle("POST /folder", upload)
	a.Handle("GET /folder/{id}", download)
	a.Handle("GET /summary", summary)
	a.Handle("GET /summary.json", summaryJSON)
	a.Handle("GET /summary.pdf", summaryPDF)
	return nil
}

// patient is the Patient id the session acts in.
func patient(c *web.Ctx) string { return c.Session.Patient }

// search searches typ in the patient's record.
func search(c *web.Ctx, typ string, q url.Values) (*web.Bundle, error) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("patient", patient(c))
	b, err := c.FHIR.Search(c.R.Context(), typ, q)
	if err != nil {
		return nil, fmt.Errorf("citizen: %s: %w", typ, err)
	}
	return b, nil
}

// more is the menu of the pages beyond the main ones.
func more(c *web.Ctx) error { return c.Render("more", nil) }
