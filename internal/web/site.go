package web

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Config is how the apps reach the platform.
type Config struct {
	// Origin is the apps' public origin, scheme://host[:port], as browsers
	// see it: the base of the apps' redirect URIs and the only Origin a
	// form may come from.
	Origin string
	// Issuer is the authorization server (scheme://host), the audience of
	// client assertions; FHIRBase the FHIR base URL (the aud of authorize
	// requests and the Host of in-process calls).
	Issuer   string
	FHIRBase string
	// Authz is the authorization server the apps are clients of; API the
	// FHIR API's handler the pages call in-process.
	Authz *oauth.Server
	API   http.Handler
	// Keys keeps the sessions, sign-ins under way and the apps' client keys
	// (the store's keyed store: nothing else of the store is used).
	Keys store.Keyed
	// IdleTimeout and AbsoluteTimeout end sessions (DefaultIdleTimeout,
	// DefaultAbsoluteTimeout).
	IdleTimeout, AbsoluteTimeout time.Duration
	// Log receives server errors (never tokens, identity numbers or other
	// personal data); discarded if nil.
	Log *slog.Logger
}

//go:embed templates/*.html templates/pages/*.html messages.*.json
var baseFS embed.FS

// Site is what the apps share: configuration, sessions, the layout and
// its messages, the static files.
type Site struct {
	cfg      Config
	sessions *sessions
	assets   *assets
	messages Catalogue // the layout's and components' messages
	secure   bool      // cookies are Secure (https, or loopback)
	apps     []*App
}

// New returns the site over cfg.
func New(cfg Config) (*Site, error) {
	u, err := url.Parse(cfg.Origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("web: origin %q: want scheme://host[:port]", cfg.Origin)
	}
	cfg.Origin = u.Scheme + "://" + u.Host
	if cfg.Authz == nil || cfg.API == nil || cfg.Keys == nil || cfg.Issuer == "" || cfg.FHIRBase == "" {
		return nil, fmt.Errorf("web: Authz, API, Keys, Issuer and FHIRBase are required")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.AbsoluteTimeout <= 0 {
		cfg.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	msgs := Catalogue{}
	if err := msgs.LoadCatalogue(baseFS, "."); err != nil {
		return nil, err
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	secure := u.Scheme == "https" || host == "localhost" || ip != nil && ip.IsLoopback()
	return &Site{cfg: cfg, assets: a, messages: msgs, secure: secure,
		sessions: &sessions{keys: cfg.Keys, idle: cfg.IdleTimeout, absolute: cfg.AbsoluteTimeout, now: time.Now}}, nil
}

// Handler serves the static files and every app made with NewApp, each
// under its prefix; serve routes StaticPath and the prefixes to it.
func (s *Site) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(StaticPath, s.assets)
	for _, a := range s.apps {
		mux.Handle(a.prefix, a)
		mux.Handle(a.prefix+"/", a)
	}
	return mux
}

// Prefixes lists the paths the site answers (StaticPath and each app's
// prefix), for the server's router.
func (s *Site) Prefixes() []string {
	out := []string{StaticPath}
	for _, a := range s.apps {
		out = append(out, a.prefix, a.prefix+"/")
	}
	return out
}

// baseTemplates parses the layout and the shared components.
func baseTemplates() (*template.Template, error) {
	return template.New("").Funcs(placeholderFuncs).ParseFS(baseFS, "templates/*.html")
}
