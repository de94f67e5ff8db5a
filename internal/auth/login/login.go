package login

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Path is where the login is mounted; every page and endpoint is under it.
const Path = "/login"

// Defaults of Config.
const (
	DefaultCodeTTL         = 5 * time.Minute
	DefaultCodeAttempts    = 3
	DefaultMaxFailures     = 5
	DefaultFailureWindow   = 15 * time.Minute
	DefaultLockout         = 15 * time.Minute
	DefaultIPRate          = 1.0 // login requests a second per client IP, refilled
	DefaultIPBurst         = 20
	DefaultCeremonyTTL     = 5 * time.Minute
	DefaultPasskeyFreshFor = 10 * time.Minute
)

// Config configures the login.
type Config struct {
	// Origin is the server's public origin, scheme://host[:port], as
	// browsers see it: the WebAuthn origin, the origin a form's Origin
	// header must show, and the base of upstream redirect URIs. Required.
	Origin string
	// RPID is the WebAuthn relying-party id: the origin's host or a
	// registrable suffix of it (default: the origin's host).
	RPID string
	// RPName is the relying party's name an authenticator shows (default
	// "eHealth+").
	RPName string
	// Demo turns on demonstration aids: without a Sender, codes go to a
	// DemoSender, and /login/demo/outbox shows the codes sent. Never in
	// production: it shows anyone the codes.
	Demo bool
	// Sender delivers one-time codes (the notification outbox). Without one
	// (and without Demo) citizens cannot sign in with a code.
	Sender Sender
	// Upstreams are the OpenID Connect providers citizens may sign in with.
	Upstreams []Upstream

	CodeTTL      time.Duration // how long a one-time code lasts (DefaultCodeTTL)
	CodeAttempts int           // guesses a code allows before it is void (DefaultCodeAttempts)
	// MaxFailures failures of one account within FailureWindow lock it for
	// Lockout (DefaultMaxFailures, DefaultFailureWindow, DefaultLockout).
	MaxFailures   int
	FailureWindow time.Duration
	Lockout       time.Duration
	// IPRate and IPBurst are the token bucket of each client IP over every
	// login request that checks something (DefaultIPRate, DefaultIPBurst; a
	// negative rate: no limit).
	IPRate  float64
	IPBurst int
	// ClientIP returns the client's address (default: the host of
	// RemoteAddr). Behind a proxy, give one that reads the proxy's header.
	ClientIP func(*http.Request) string
	// Password are the argon2id parameters of new password hashes
	// (DefaultPasswordParams); stored hashes keep their own.
	Password PasswordParams
	// Log receives errors and security events (never secrets); discarded
	// if nil.
	Log *slog.Logger
	// Now is the clock (time.Now if nil): tests move it.
	Now func() time.Time
}

func (c *Config) defaults() error {
	u, err := url.Parse(c.Origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("login: origin %q: want scheme://host[:port]", c.Origin)
	}
	c.Origin = u.Scheme + "://" + u.Host
	if c.RPID == "" {
		c.RPID = u.Hostname()
	}
	if c.RPName == "" {
		c.RPName = "eHealth+"
	}
	setDefault(&c.CodeTTL, DefaultCodeTTL)
	setDefault(&c.CodeAttempts, DefaultCodeAttempts)
	setDefault(&c.MaxFailures, DefaultMaxFailures)
	setDefault(&c.FailureWindow, DefaultFailureWindow)
	setDefault(&c.Lockout, DefaultLockout)
	setDefault(&c.IPBurst, DefaultIPBurst)
	if c.IPRate == 0 {
		c.IPRate = DefaultIPRate
	}
	if c.Password == (PasswordParams{}) {
		c.Password = DefaultPasswordParams
	}
	if c.ClientIP == nil {
		c.ClientIP = remoteIP
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Handler is the login. It is safe for concurrent use.
type Handler struct {
	cfg       Config
	keys      store.Keyed
	people    *directory
	sessions  *oauth.Sessions
	webauthn  *webauthn.WebAuthn
	accounts  *Accounts
	limits    *limits
	upstreams map[string]*upstream
	mux       *http.ServeMux
}

// New returns the login over keys (the keyed store of the platform's
// database), reading citizens and professionals through reader (the
// resource service, as the platform) and signing people in with sessions.
func New(keys store.Keyed, reader Reader, sessions *oauth.Sessions, cfg Config) (*Handler, error) {
	if keys == nil || reader == nil || sessions == nil {
		return nil, errors.New("login: keys, reader and sessions are required")
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.Sender == nil && cfg.Demo {
		cfg.Sender = NewDemoSender(keys)
	}
	wa, err := newWebAuthn(cfg)
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, keys: keys, people: &directory{reader: reader, now: cfg.Now}, sessions: sessions,
		webauthn: wa, accounts: NewAccounts(keys, cfg.Password), upstreams: map[string]*upstream{}}
	h.accounts.now = cfg.Now
	h.limits = newLimits(keys, cfg)
	for _, u := range cfg.Upstreams {
		up, err := newUpstream(u, cfg.Origin)
		if err != nil {
			return nil, err
		}
		if h.upstreams[up.cfg.Name] != nil {
			return nil, fmt.Errorf("login: upstream %q twice", up.cfg.Name)
		}
		h.upstreams[up.cfg.Name] = up
	}
	h.mux = h.routes()
	return h, nil
}

// newWebAuthn returns the passkey relying party, or nil — passkeys off —
// when the RP id is an IP address, which WebAuthn does not allow (a server
// on http://127.0.0.1 still offers codes and passwords).
func newWebAuthn(cfg Config) (*webauthn.WebAuthn, error) {
	if net.ParseIP(cfg.RPID) != nil {
		cfg.Log.Warn("login: passkeys are off: the relying-party id is an IP address; set a host name", "rpID", cfg.RPID)
		return nil, nil
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID: cfg.RPID, RPDisplayName: cfg.RPName, RPOrigins: []string{cfg.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("login: webauthn: %w", err)
	}
	return wa, nil
}

// Handler returns the HTTP handler of everything under Path.
func (h *Handler) Handler() http.Handler { return h.mux }

func (h *Handler) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET "+Path, h.start)
	m.HandleFunc("GET "+Path+"/static/login.js", serveScript)
	m.HandleFunc("POST "+Path+"/code", h.guard(h.sendCode))
	m.HandleFunc("POST "+Path+"/code/verify", h.guard(h.verifyCode))
	if h.webauthn != nil {
		m.HandleFunc("GET "+Path+"/passkey/offer", h.offerPasskey)
		m.HandleFunc("POST "+Path+"/passkey/register/begin", h.guard(h.beginRegistration))
		m.HandleFunc("POST "+Path+"/passkey/register/finish", h.guard(h.finishRegistration))
		m.HandleFunc("POST "+Path+"/passkey/begin", h.guard(h.beginPasskey))
		m.HandleFunc("POST "+Path+"/passkey/finish", h.guard(h.finishPasskey))
	}
	m.HandleFunc("GET "+Path+"/professional", h.professionalPage)
	m.HandleFunc("POST "+Path+"/professional", h.guard(h.professional))
	m.HandleFunc("POST "+Path+"/professional/role", h.guard(h.chooseRole))
	m.HandleFunc("POST "+Path+"/oidc/{name}", h.guard(h.upstreamStart))
	m.HandleFunc("GET "+Path+"/oidc/{name}/callback", h.limited(h.upstreamCallback))
	m.HandleFunc("POST "+Path+"/logout", h.guard(h.logout))
	if h.cfg.Demo {
		m.HandleFunc("GET "+Path+"/demo/outbox", h.demoOutbox)
	}
	return m
}

// guard admits a state-changing request: within the client IP's rate, from
// this site (origin check) and carrying the CSRF token of its cookie.
func (h *Handler) guard(next http.HandlerFunc) http.HandlerFunc {
	return h.limited(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := h.checkCSRF(r); err != nil {
			h.cfg.Log.Warn("login: refused a cross-site request", "path", r.URL.Path, "reason", err.Error())
			h.fail(w, r, http.StatusForbidden, msgCrossSite)
			return
		}
		next(w, r)
	})
}

// limited applies the client IP's token bucket.
func (h *Handler) limited(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := h.limits.ip.Allow(h.cfg.ClientIP(r), h.cfg.Now()); !ok {
			h.tooMany(w, r, wait)
			return
		}
		next(w, r)
	}
}

// maxBody bounds a login request's body: forms and WebAuthn responses are
// a few kilobytes.
const maxBody = 64 << 10

// signIn starts the session of who and sends the browser to next (or, for
// a JSON request, tells it where to go).
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, who oauth.Who, next string) {
	who.AuthTime = h.cfg.Now()
	if _, err := h.sessions.Start(r.Context(), w, who); err != nil {
		h.internal(w, r, "start session", err)
		return
	}
	h.cfg.Log.Info("login: signed in", "fhirUser", who.FHIRUser, "org", who.Org, "role", who.Role, "method", who.Method)
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"redirect": next})
		return
	}
	redirect(w, r, next)
}

// redirect sends the browser to a path on this server (303: the next
// request is a GET whatever this one was).
func redirect(w http.ResponseWriter, r *http.Request, next string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session and goes to next.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.sessions.End(w, r); err != nil {
		h.internal(w, r, "end session", err)
		return
	}
	next, ok := nextOf(r)
	if !ok {
		next = "/"
	}
	redirect(w, r, next)
}

// remoteIP is the host part of RemoteAddr.
func remoteIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
