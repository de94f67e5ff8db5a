package console

import (
	"io"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// maxJWKS bounds an uploaded key set.
const maxJWKS = 64 << 10

// defaultSystemScope is what a provider's backend system is offered when
// the form names no scope: writing and reading its own deposits.
const defaultSystemScope = "system/*.cruds"

// clients lists the OAuth clients, the console's own first left out
// (web apps register themselves), with the form adding a system client.
func (con *console) clients(c *web.Ctx) error {
	list, err := con.cfg.Clients.List(c.R.Context())
	if err != nil {
		return err
	}
	slices.SortFunc(list, func(a, b *oauth.Client) int { return b.Created.Compare(a.Created) })
	return c.Render("clients", map[string]any{"Clients": list, "DefaultScope": defaultSystemScope})
}

// addClient registers a provider's system client (client_credentials
// with private_key_jwt) from its id, provider, scope and public JWKS —
// pasted or uploaded — as `ehealth admin client add --kind system` does.
func (con *console) addClient(c *web.Ctx) error {
	jwks := []byte(c.Form("jwks"))
	if f, _, err := c.R.FormFile("jwks_file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxJWKS+1))
		if err != nil {
			return outcome.New(outcome.Invalid, "console: read the JWKS file: %v", err)
		}
		if len(strings.TrimSpace(string(b))) > 0 {
			jwks = b
		}
	}
	if len(jwks) == 0 || len(jwks) > maxJWKS {
		return outcome.At(outcome.Invalid, "jwks", "console: a system client needs its public key set (JWKS), at most %d bytes", maxJWKS)
	}
	org := c.Form("org")
	if org != "" && !strings.HasPrefix(org, "Organization/") {
		org = "Organization/" + org
	}
	if ok, err := con.cfg.Registry.Active(c.R.Context(), org); err != nil {
		return err
	} else if !ok {
		return outcome.At(outcome.Unprocessable, "org", "console: %s is not an active provider", org)
	}
	sc := c.Form("scope")
	if sc == "" {
		sc = defaultSystemScope
	}
	added, err := con.cfg.Clients.Register(c.R.Context(), oauth.Client{ID: c.Form("id"), Name: c.Form("name"),
		Kind: oauth.System, Org: org, Scope: sc, JWKS: jwks})
	if err != nil {
		return err
	}
	con.cfg.Log.Info("console: client added", "client", added.ID, "org", org, "operator", c.Session.FHIRUser)
	c.Flash("ok", "clients.added", added.ID)
	return c.Redirect("clients")
}

// disableClient stops a client: its tokens stop working at once.
func (con *console) disableClient(c *web.Ctx) error {
	id := c.R.PathValue("id")
	if err := con.cfg.Clients.Disable(c.R.Context(), id); err != nil {
		return err
	}
	con.cfg.Log.Info("console: client disabled", "client", id, "operator", c.Session.FHIRUser)
	c.Flash("ok", "clients.disabled", id)
	return c.Redirect("clients")
}
