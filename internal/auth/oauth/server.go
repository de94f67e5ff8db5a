package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"

	"github.com/ehealthplus/ehealth/internal/auth/ratelimit"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// The paths Handler serves, under the issuer's origin. The SMART
// configuration is under the FHIR base (Server.SmartConfigurationPath);
// SmartConfigurationPath is its path for the default base /fhir.
const (
	PathAuthorize          = "/oauth/authorize"
	PathToken              = "/oauth/token"
	PathIntrospect         = "/oauth/introspect"
	PathRevoke             = "/oauth/revoke"
	PathOpenIDConfig       = "/.well-known/openid-configuration"
	PathJWKS               = "/.well-known/jwks.json"
	SmartConfigurationPath = "/fhir/.well-known/smart-configuration"
)

// Defaults of Config.
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultSystemTokenTTL  = 5 * time.Minute
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	DefaultCodeTTL         = time.Minute
	DefaultLaunchTTL       = time.Hour
	DefaultTokenRate       = 10 // token requests per second per client
	DefaultTokenBurst      = 20
)

// Config configures a Server.
type Config struct {
	// Issuer is the authorization server's URL (scheme://host, no path):
	// the endpoints are under it and it is the iss of every token, so it must
	// be the Issuer the token.Service was made with.
	Issuer string
	// FHIRBaseURL is the FHIR base: the aud an authorize request must name,
	// and the audience of the tokens.
	FHIRBaseURL string
	// LoginURL is where the authorize endpoint sends a person who is not
	// signed in, with next=<the authorize URL> added to its query.
	LoginURL string
	// Sessions holds the sign-ins (NewSessions over the same store if nil).
	Sessions *Sessions
	// Relationships lists the patients a person may act for (if nil, a
	// person acts for themself only).
	Relationships Relationships
	// Roles confirms the roles in token exchanges (if nil, the grant is not
	// offered).
	Roles Roles

	AccessTokenTTL  time.Duration // user-level access tokens (DefaultAccessTokenTTL)
	SystemTokenTTL  time.Duration // a system client's own tokens (DefaultSystemTokenTTL)
	RefreshTokenTTL time.Duration // offline_access refresh tokens (DefaultRefreshTokenTTL)
	LaunchTTL       time.Duration // EHR launch contexts (DefaultLaunchTTL)
	// TokenRate and TokenBurst are the token endpoint's limit per client:
	// a token bucket of TokenBurst requests refilled at TokenRate a second
	// (DefaultTokenRate, DefaultTokenBurst; a negative rate: no limit).
	TokenRate  float64
	TokenBurst int
	// Log receives server errors (never tokens or codes); discarded if nil.
	Log *slog.Logger
}

// Server is the authorization server. It is safe for concurrent use.
type Server struct {
	cfg       Config
	keys      store.Keyed
	tokens    *token.Service
	clients   *Registry
	sessions  *Sessions
	storage   *storage
	strategy  *strategy
	provider  fosite.OAuth2Provider
	idKeys    *idTokenKeys
	limiter   *ratelimit.Limiter
	origins   *originCache
	log       *slog.Logger
	now       func() time.Time
	tokenURL  string
	smartPath string
}

// New returns the authorization server over keys, issuing tokens with
// tokens.
func New(keys store.Keyed, tokens *token.Service, cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, keys: keys, tokens: tokens, clients: NewRegistry(keys), sessions: cfg.Sessions,
		log: cfg.Log, now: time.Now, tokenURL: cfg.Issuer + PathToken}
	if s.sessions == nil {
		s.sessions = NewSessions(keys, 0)
	}
	base, _ := url.Parse(cfg.FHIRBaseURL)
	s.smartPath = strings.TrimSuffix(base.Path, "/") + "/.well-known/smart-configuration"
	s.storage = &storage{keys: keys, clients: s.clients, systemTTL: cfg.SystemTokenTTL, now: s.now}
	s.strategy = &strategy{tokens: tokens, now: s.now, accessTTL: cfg.AccessTokenTTL}
	s.idKeys = &idTokenKeys{keys: keys}
	s.limiter = ratelimit.New(cfg.TokenRate, cfg.TokenBurst)
	s.origins = &originCache{clients: s.clients}
	s.provider = s.compose()
	return s, nil
}

// defaults checks the configuration and fills in the defaults.
func (c *Config) defaults() error {
	for name, v := range map[string]string{"issuer": c.Issuer, "FHIR base URL": c.FHIRBaseURL} {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("oauth: %s %q: want an absolute http(s) URL", name, v)
		}
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if u, _ := url.Parse(c.Issuer); u.Path != "" {
		return fmt.Errorf("oauth: issuer %q: want scheme://host[:port] with no path (the endpoints are at fixed paths under it)", c.Issuer)
	}
	if c.LoginURL == "" {
		return errors.New("oauth: a login URL is required")
	}
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&c.AccessTokenTTL, DefaultAccessTokenTTL)
	set(&c.SystemTokenTTL, DefaultSystemTokenTTL)
	set(&c.RefreshTokenTTL, DefaultRefreshTokenTTL)
	set(&c.LaunchTTL, DefaultLaunchTTL)
	if c.AccessTokenTTL > token.MaxTTL || c.SystemTokenTTL > token.MaxTTL {
		return fmt.Errorf("oauth: access tokens live at most %s", token.MaxTTL)
	}
	if c.TokenRate == 0 {
		c.TokenRate = DefaultTokenRate
	}
	if c.TokenBurst <= 0 {
		c.TokenBurst = DefaultTokenBurst
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// compose assembles fosite: authorization code with PKCE (S256 only,
// always), refresh tokens limited to offline_access and online_access,
// client credentials, token exchange, introspection and revocation.
func (s *Server) compose() fosite.OAuth2Provider {
	fc := &fosite.Config{
		AccessTokenLifespan:            s.cfg.AccessTokenTTL,
		RefreshTokenLifespan:           s.cfg.RefreshTokenTTL,
		AuthorizeCodeLifespan:          DefaultCodeTTL,
		ScopeStrategy:                  smartScopeStrategy,
		AudienceMatchingStrategy:       fosite.DefaultAudienceMatchingStrategy,
		EnforcePKCE:                    true,
		EnablePKCEPlainChallengeMethod: false,
		TokenURL:                       s.tokenURL,
		RefreshTokenScopes:             []string{"offline_access", "online_access"},
		ClientAuthenticationStrategy:   s.authenticateClient,
		SendDebugMessagesToClients:     false,
		OmitRedirectScopeParam:         true,
	}
	return compose.Compose(fc, s.storage, s.strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		func(fosite.Configurator, any, any) any { return &onlineAccessHandler{s: s} },
		compose.OAuth2ClientCredentialsGrantFactory,
		func(fosite.Configurator, any, any) any { return &exchangeHandler{s: s} },
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)
}

// Handler returns the HTTP handler of the endpoints (see the Path
// constants and SmartConfigurationPath).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathAuthorize, s.authorize)
	mux.HandleFunc("POST "+PathAuthorize, s.authorize)
	mux.Handle("POST "+PathToken, s.cors(http.HandlerFunc(s.token)))
	mux.Handle("POST "+PathIntrospect, s.cors(http.HandlerFunc(s.introspect)))
	mux.Handle("POST "+PathRevoke, s.cors(http.HandlerFunc(s.revoke)))
	mux.Handle("GET "+PathOpenIDConfig, s.cors(http.HandlerFunc(s.openIDConfiguration)))
	mux.Handle("GET "+PathJWKS, s.cors(http.HandlerFunc(s.jwks)))
	mux.Handle("GET "+s.smartPath, s.cors(http.HandlerFunc(s.smartConfiguration)))
	for _, p := range []string{PathToken, PathIntrospect, PathRevoke, PathOpenIDConfig, PathJWKS, s.smartPath} {
		mux.Handle("OPTIONS "+p, s.cors(http.NotFoundHandler()))
	}
	return mux
}

// SmartConfigurationPath returns the path of the SMART configuration:
// the FHIR base's path + /.well-known/smart-configuration.
func (s *Server) SmartConfigurationPath() string { return s.smartPath }

// Clients returns the client registry.
func (s *Server) Clients() *Registry { return s.clients }

// Sessions returns the sign-in sessions the authorize endpoint reads.
func (s *Server) Sessions() *Sessions { return s.sessions }

// Active reports whether an access token the FHIR API verified is still
// active here: a token this server issued is until it is revoked (RFC 7009,
// a reused code or refresh token, a disabled client); one it did not issue
// (ehealth admin token) is not its business and counts as active. It costs
// one keyed-store read.
func (s *Server) Active(ctx context.Context, c token.Claims) (bool, error) {
	if _, err := s.keys.GetKey(ctx, nsAccess, c.ID); err == nil {
		return true, nil
	} else if !outcome.Is(err, outcome.NotFound) {
		return false, err
	}
	_, err := s.clients.Get(ctx, c.ClientID)
	if outcome.Is(err, outcome.NotFound) {
		return true, nil // not an OAuth client's token
	}
	return false, err
}

// serverError logs an internal error (without the request's credentials)
// and returns the error the client sees.
func (s *Server) serverError(r *http.Request, where string, err error) error {
	s.log.Error("oauth: "+where, "path", r.URL.Path, "err", err)
	return fosite.ErrServerError
}
