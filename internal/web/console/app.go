package console

import (
	"context"
	"crypto/ed25519"
	"embed"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/login"
	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/auth/ratelimit"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/web"
)

// Prefix is where the console is mounted.
const Prefix = "/admin"

// ClientID is the client_id of the operator tokens the console mints. It
// is no registered OAuth client (a token naming one that the
// authorization server did not issue counts as revoked), so nothing can
// obtain such a token from the authorization server.
const ClientID = "ehealth-console"

// Defaults of Config.
const (
	DefaultTokenTTL = 10 * time.Minute
	DefaultMaxAge   = 8 * time.Hour
)

// operatorScope is what an operator token grants: everything (the
// operator's tokens bypass consent and are audited as such).
const operatorScope = "system/*.cruds"

// Config is what the console does its work with.
type Config struct {
	Operators *login.Operators   // who may sign in
	Keys      store.Keyed        // the console's own state (the last journal verification)
	Tokens    *token.Service     // mints the signed-in operator's token
	Clients   *oauth.Registry    // the OAuth clients (system clients added here)
	Registry  *registry.Registry // the providers' registry
	// Audit records the registry writes made from the console in the
	// journal, in their transaction, as the operator; Journal is the
	// journal Verify walks and Key the checkpoints' public key (nil when
	// the server signs none: the hash chain alone is checked).
	Audit   *audit.Auditor
	Journal store.AuditLog
	Key     ed25519.PublicKey
	// TokenTTL is an operator token's life (DefaultTokenTTL): renewed on
	// the next request after it nears its end, while the session lasts.
	// MaxAge ends an operator's session however active (DefaultMaxAge).
	TokenTTL, MaxAge time.Duration
	// IPRate and IPBurst bound sign-in attempts per client address
	// (default 1 a second, bursts of 20; negative: no limit).
	IPRate  float64
	IPBurst int
	Log     *slog.Logger
}

//go:embed pages/*.html messages.*.json
var files embed.FS

// console is the mounted console.
type console struct {
	cfg   Config
	app   *web.App
	scope scope.Set
	ip    *ratelimit.Limiter
}

// Mount adds the operator console to site.
func Mount(ctx context.Context, site *web.Site, cfg Config) error {
	if cfg.Operators == nil || cfg.Tokens == nil || cfg.Clients == nil || cfg.Registry == nil || cfg.Audit == nil || cfg.Journal == nil || cfg.Keys == nil {
		return errors.New("console: Operators, Keys, Tokens, Clients, Registry, Audit and Journal are required")
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.IPRate == 0 {
		cfg.IPRate, cfg.IPBurst = 1, 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	set, err := scope.Parse(operatorScope)
	if err != nil {
		return err
	}
	// The foundation registers every app as an OAuth client; the
	// console's asks for nothing a FHIR call could use, and no session it
	// could start passes the operator check below.
	a, err := site.NewApp(ctx, web.AppConfig{Name: "admin", Prefix: Prefix, TitleKey: "app.name", Scope: "openid", Files: files,
		MaxUpload: 256 << 10, Nav: []web.NavItem{
			{Path: "/", Key: "nav.home"}, {Path: "providers", Key: "nav.providers"}, {Path: "clients", Key: "nav.clients"},
			{Path: "emergency", Key: "nav.emergency"}, {Path: "reports", Key: "nav.reports"}, {Path: "audit", Key: "nav.audit"},
			{Path: "outbox", Key: "nav.outbox"},
		}})
	if err != nil {
		return err
	}
	con := &console{cfg: cfg, app: a, scope: set}
	if cfg.IPRate > 0 {
		con.ip = ratelimit.New(cfg.IPRate, cfg.IPBurst)
	}
	a.HandlePublic("GET /login", con.loginPage)
	a.HandlePublic("POST /login", con.login)
	for pattern, h := range map[string]web.Handler{
		"GET /{$}":                           con.home,
		"GET /providers":                     con.providers,
		"POST /providers":                    con.addProvider,
		"POST /providers/{id}/active":        con.setActive,
		"GET /providers/{id}":                con.provider,
		"POST /providers/{id}/professionals": con.addProfessional,
		"POST /providers/{id}/accreditation": con.accredit,
		"GET /clients":                       con.clients,
		"POST /clients":                      con.addClient,
		"POST /clients/{id}/disable":         con.disableClient,
		"GET /emergency":                     con.emergencyList,
		"GET /emergency/{id}":                con.emergency,
		"POST /emergency/{id}":               con.review,
		"GET /reports":                       con.reports,
		"GET /reports/{id}":                  con.report,
		"GET /audit":                         con.auditStatus,
		"POST /audit":                        con.verify,
		"GET /outbox":                        con.outbox,
		"POST /outbox/{id}/requeue":          con.requeue,
	} {
		a.HandlePublic(pattern, con.operator(h))
	}
	return nil
}

// operator guards a page: deny by default. The session must hold an
// operator token this console minted for an operator whose account is
// still enabled, within MaxAge of signing in; anything else ends the
// session and asks to sign in. A token nearing its end is renewed.
func (con *console) operator(h web.Handler) web.Handler {
	return func(c *web.Ctx) error {
		username, err := con.check(c)
		if err != nil {
			return err
		}
		if username == "" {
			if c.Session != nil {
				if err := c.EndSession(false); err != nil {
					return err
				}
			}
			return con.toLogin(c)
		}
		return h(c)
	}
}

// check returns the signed-in operator's username, "" when the request
// has no valid operator session.
func (con *console) check(c *web.Ctx) (string, error) {
	s := c.Session
	if s == nil {
		return "", nil
	}
	// Only the console's sign-in starts a session naming an Operator/
	// with the operator scope (an OAuth sign-in's fhirUser is a
	// Practitioner, Patient or RelatedPerson, its scope the console
	// client's "openid").
	username, ok := strings.CutPrefix(s.FHIRUser, "Operator/")
	if !ok || s.Scope != operatorScope || time.Since(s.Created) > con.cfg.MaxAge {
		return "", nil
	}
	op, err := con.cfg.Operators.Get(c.R.Context(), username)
	if outcome.Is(err, outcome.NotFound) || err == nil && op.Disabled {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if time.Until(s.Expiry) < con.cfg.TokenTTL/2 {
		tok, fresh, err := con.issue(c.R.Context(), username)
		if err != nil {
			return "", err
		}
		s.Access, s.Expiry = tok, fresh.Expiry
		if err := c.SaveSession(); err != nil {
			return "", err
		}
	}
	claims, err := con.cfg.Tokens.Verify(c.R.Context(), s.Access)
	if err != nil || !claims.Operator || claims.ClientID != ClientID || claims.Subject != subject(username) {
		return "", nil
	}
	return username, nil
}

// subject is the token subject of an operator: what the audit journal
// records as who acted.
func subject(username string) string { return "operator/" + username }

// issue mints an operator token for username.
func (con *console) issue(ctx context.Context, username string) (string, token.Claims, error) {
	return con.cfg.Tokens.IssueOperator(ctx, token.Claims{Subject: subject(username), ClientID: ClientID, Scope: con.scope}, con.cfg.TokenTTL)
}

// toLogin sends the browser to the sign-in form, back to a GET's page
// afterwards.
func (con *console) toLogin(c *web.Ctx) error {
	target := "login"
	if c.R.Method == "GET" && c.R.URL.Path != Prefix+"/" {
		target += "?" + url.Values{"return": {c.R.URL.RequestURI()}}.Encode()
	}
	return c.Redirect(target)
}

// keys is the keyed store the console keeps its state in.
func (con *console) keys() store.Keyed { return con.cfg.Keys }

// claims are the signed-in operator's token claims (after operator ran).
func (con *console) claims(c *web.Ctx) (token.Claims, error) {
	return con.cfg.Tokens.Verify(c.R.Context(), c.Session.Access)
}
