package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/ehealthplus/ehealth/internal/bulkdata"
	"github.com/ehealthplus/ehealth/internal/demo"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/accreditation"
	"github.com/ehealthplus/ehealth/internal/audit"
	auditjournal "github.com/ehealthplus/ehealth/internal/audit/journal"
	"github.com/ehealthplus/ehealth/internal/auth/login"
	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/correction"
	"github.com/ehealthplus/ehealth/internal/deposit"
	"github.com/ehealthplus/ehealth/internal/hl7v2"
	"github.com/ehealthplus/ehealth/internal/ips"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/ops"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/web"
	"github.com/ehealthplus/ehealth/internal/web/citizen"
	"github.com/ehealthplus/ehealth/internal/web/portal"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address HOST:PORT")
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	baseURL := fs.String("base-url", "", "absolute URL of the FHIR base (default: from each request's Host, + /fhir)")
	maxBody := fs.Int64("max-body", rest.DefaultMaxBodyBytes, "request size limit in bytes (413 above it)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	issuer := fs.String("issuer", "", "the authorization server's URL, scheme://host: the issuer of the access tokens (default: the base URL's)")
	loginURL := fs.String("login-url", "/login", "where the authorization endpoint sends people who are not signed in")
	auditKey := fs.String("audit-key", "", "Ed25519 private key file (ehealth audit keygen) signing the audit journal's checkpoints; kept outside the database")
	auditExport := fs.String("audit-export", "", "file the signed audit checkpoints are appended to, for a third party to keep")
	var pol consent.Policy
	deemed := fs.String("deemed-providers", "", "comma-separated Organization/IDs deemed to hold every citizen's sharing consent (the public sector), e.g. Organization/ha,Organization/dh")
	fs.BoolVar(&pol.Emergency, "emergency-access", false, "offer emergency access (break-glass): a professional states a reason and sees the citizen for --emergency-window, reviewed later by the operator")
	fs.DurationVar(&pol.EmergencyWindow, "emergency-window", consent.DefaultEmergencyWindow, "how long an emergency access lasts")
	fs.BoolVar(&pol.ShowRestrictedExists, "show-restricted-exists", false, "let a professional who may see a citizen learn that restricted records exist (off: nothing reveals them)")
	fs.DurationVar(&pol.RestrictedWindow, "restricted-window", consent.DefaultRestrictedWindow, "how long a restricted record opened with the citizen's code stays open")
	fs.DurationVar(&pol.CareAfter, "care-after", consent.DefaultCareAfter, "how long a care relationship outlives the encounter or episode that made it")
	fs.DurationVar(&pol.RelationshipExpiry, "relationship-expiry", consent.DefaultRelationshipExpiry, "how long a care relationship registered at the clinic lasts")
	fs.DurationVar(&pol.SharingValidity, "sharing-validity", 0, "how long a sharing consent given without an end date lasts (0: indefinitely)")
	nf := addNoticeFlags(fs)
	mc := addMLLPFlags(fs)
	roleViews := fs.String("role-views", "", "JSON file of the role-based views (which record types each professional role sees); default: the built-in views")
	exportDir := fs.String("export-dir", "", "directory of the Bulk Data $export files (default: DB.exports beside a SQLite database, else ehealth-exports in the temp directory)")
	exportTTL := fs.Duration("export-ttl", bulkdata.DefaultTTL, "how long an export's files are kept")
	importDir := fs.String("import-dir", "", "directory whose NDJSON files the operator's $import may read by file: URL (default: none; http(s) inputs only)")
	summaryFont := fs.String("summary-font", "", "TrueType font with Traditional Chinese glyphs for the printable patient summary (default: Debian's fonts-droid-fallback when installed; none, or \"none\": Chinese summaries print in English)")
	demoMode := fs.Bool("demo", false, "demo mode: load a synthetic Hong Kong territory into an empty database (once), show one-time codes and notices instead of sending them, and print demo logins (never in production)")
	demoCitizens := fs.Int("demo-citizens", 1000, "with --demo: how many citizens the territory has")
	demoSeed := fs.Int64("demo-seed", 1, "with --demo: the territory's seed")
	broadSearches := fs.Int("broad-searches", 0, "how many broad searches (not confined to one patient, not a lookup by id, identifier or url) run at once, so patient-scoped reads always find a processor (0: one fewer than the processors, at least one)")
	allowExplain := fs.Bool("allow-explain", false, "answer _explain=true on searches with the SQL and its plan (an operator's diagnostic; off in production)")
	var lc login.Config
	var up login.Upstream
	fs.StringVar(&lc.Origin, "login-origin", "", "the sign-in's public origin, scheme://host[:port]: the passkey origin and the origin forms must come from (default: the issuer)")
	fs.StringVar(&lc.RPID, "login-rp-id", "", "the passkey relying-party id, the origin's host or a parent domain (default: the origin's host; passkeys are off for an IP address)")
	fs.BoolVar(&lc.Demo, "login-demo", false, "demo mode: one-time codes are not sent but shown at /login/demo/outbox (never in production)")
	fs.StringVar(&up.Issuer, "login-oidc-issuer", "", "an upstream OpenID Connect provider citizens may sign in with (e.g. iAM Smart), its issuer URL")
	fs.StringVar(&up.ClientID, "login-oidc-client-id", "", "the login's client id at the upstream provider")
	fs.StringVar(&up.ClientSecret, "login-oidc-client-secret", "", "the login's client secret at the upstream provider")
	fs.StringVar(&up.Name, "login-oidc-name", "iamsmart", "the upstream provider's name in URLs: its redirect URI is ORIGIN/login/oidc/NAME/callback")
	fs.StringVar(&up.Label, "login-oidc-label", "iAM Smart", "the upstream provider's name on the sign-in button")
	fs.StringVar(&up.DocumentClaim, "login-oidc-document-claim", "", "an ID-token claim with the citizen's HKID: links a new subject to the citizen registered with it (only for a provider that verifies identity)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	if *deemed != "" {
		pol.Deemed = strings.Split(*deemed, ",")
	}
	if *demoMode {
		lc.Demo, nf.demo = true, true
	}
	popts := []platform.Option{platform.WithPolicy(pol), platform.WithBroadSearches(*broadSearches)}
	if *roleViews != "" {
		views, err := resource.LoadViews(*roleViews)
		if err != nil {
			return fmt.Errorf("--role-views: %w", err)
		}
		popts = append(popts, platform.WithViews(views))
	}
	p, err := openPlatform(ctx, *db, log, popts...)
	if err != nil {
		return err
	}
	defer closer{p}.Close()
	if up.Issuer != "" {
		lc.Upstreams = []login.Upstream{up}
	}
	stk, err := newStack(p, stackConfig{BaseURL: *baseURL, Issuer: *issuer, LoginURL: *loginURL,
		MaxBody: *maxBody, AllowExplain: *allowExplain, Login: lc, AuditKey: *auditKey, AuditExport: *auditExport,
		ExportDir: exportDirFor(*exportDir, *db), ExportTTL: *exportTTL, ImportDir: *importDir, SummaryFont: *summaryFont}, log)
	if err != nil {
		return err
	}
	defer stk.Audit.Close(context.Background())
	go purgeExpired(ctx, p.Store, purgeEvery, log)
	stopNotices, err := startNotices(ctx, p, *db, nf, log)
	if err != nil {
		return fmt.Errorf("notices: %w", err)
	}
	defer stopNotices()
	mllpCtx, stopMLLP := context.WithCancel(ctx)
	waitMLLP, err := startMLLP(mllpCtx, mc, p, stk.API, stdout, log)
	if err != nil {
		stopMLLP()
		return err
	}
	defer func() { stopMLLP(); waitMLLP() }()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: stk.Handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("serving", "addr", ln.Addr().String(), "db", *db, "fhir", "http://"+ln.Addr().String()+"/fhir")
	fmt.Fprintf(stdout, "eHealth+ FHIR server at http://%s/fhir\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if *demoMode {
		site := lc.Origin
		if site == "" {
			site = "http://" + ln.Addr().String()
		}
		if err := serveDemo(ctx, p, stk.Tokens, demo.Config{Citizens: *demoCitizens, Seed: *demoSeed}, site, stdout, log); err != nil {
			srv.Close()
			return err
		}
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// stackConfig is how serve presents the platform over HTTP.
type stackConfig struct {
	BaseURL      string // absolute URL of the FHIR base; "" takes it from each request's Host
	Issuer       string // the authorization server, scheme://host; "" is the base URL's origin
	LoginURL     string // where the authorization endpoint sends people who are not signed in
	MaxBody      int64  // request size limit in bytes
	AllowExplain bool   // answer _explain=true on searches
	// Login configures the sign-in at /login; its origin defaults to the
	// issuer.
	Login login.Config
	// AuditKey is the Ed25519 key file signing the audit journal's
	// checkpoints ("": the hash chain alone guards it, and a warning says
	// so); AuditExport the file checkpoints are appended to.
	AuditKey, AuditExport string
	// ExportDir is where Bulk Data exports write their files ("": no
	// $export); ExportTTL how long they are kept (0: bulkdata.DefaultTTL).
	ExportDir string
	ExportTTL time.Duration
	// ImportDir is the directory whose files $import may read by file: URL
	// ("": http(s) inputs only).
	ImportDir string
	// SummaryFont is the CJK TrueType font of the printable patient
	// summary ("": ips.DefaultFonts).
	SummaryFont string
}

// exportDirFor is the export files' directory: the flag's, else beside a
// SQLite database, else in the temp directory.
func exportDirFor(flagDir, db string) string {
	if flagDir != "" {
		return flagDir
	}
	if path, ok := strings.CutPrefix(db, "sqlite:"); ok {
		return path + ".exports"
	}
	return filepath.Join(os.TempDir(), "ehealth-exports")
}

// stack is what serve serves over one platform: the FHIR API and the
// authorization server beside it, behind the operational endpoints. Tests
// build it as serve does.
type stack struct {
	Handler http.Handler
	Tokens  *token.Service
	Authz   *oauth.Server
	Audit   *audit.Auditor
	API     *rest.API // the FHIR API, which the MLLP listener deposits through
}

// newStack wires the token service, the authorization server and the FHIR
// API over p.
func newStack(p *platform.Platform, cfg stackConfig, log *slog.Logger) (*stack, error) {
	// Tokens name the FHIR base as their audience: the base URL, or
	// `ehealth admin token`'s default when the base is taken from requests;
	// their issuer is the authorization server, at the base's origin.
	audience := cfg.BaseURL
	if audience == "" {
		audience = defaultBaseURL
	}
	if cfg.Issuer == "" {
		cfg.Issuer = origin(audience)
	}
	tokens, err := token.New(p.Store, token.Config{Issuer: cfg.Issuer, Audience: audience, Log: log})
	if err != nil {
		return nil, err
	}
	sessions := oauth.NewSessions(p.Store, 0)
	authz, err := oauth.New(p.Store, tokens, oauth.Config{Issuer: cfg.Issuer, FHIRBaseURL: audience, LoginURL: cfg.LoginURL, Sessions: sessions,
		Relationships: oauth.StoreRelationships{Store: p.Store}, Roles: oauth.StoreRoles{Store: p.Store}, Log: log})
	if err != nil {
		return nil, err
	}
	// A token stays good while the authorization server has not revoked it
	// and the provider it acts for is not suspended: both are checked on
	// every request.
	active := func(ctx context.Context, c token.Claims) (bool, error) {
		if ok, err := authz.Active(ctx, c); !ok || err != nil || c.Org == "" {
			return ok, err
		}
		return p.Registry.Active(ctx, c.Org)
	}
	auditor, err := newAuditor(p, audience, cfg, log)
	if err != nil {
		return nil, err
	}
	// The journal serves the AuditEvents the server recorded, the
	// citizen's access history and access reports.
	journalSvc := auditjournal.New(p.Store, p.Service, p.Registry)
	var exports *bulkdata.Jobs
	if cfg.ExportDir != "" {
		if exports, err = bulkdata.NewJobs(p.Service, p.Store, bulkdata.Config{Dir: cfg.ExportDir, TTL: cfg.ExportTTL, ImportDir: cfg.ImportDir, Log: log}); err != nil {
			return nil, err
		}
	}
	summaries, err := ips.New(p.Service, p.Terminology.Service(), ips.Config{Version: version, FontPath: cfg.SummaryFont})
	if err != nil {
		return nil, err
	}
	if !summaries.PrintsChinese() && cfg.SummaryFont == "" {
		log.Warn("no Chinese font for the printable patient summary: summaries asked for in Chinese print in English (install fonts-droid-fallback or set --summary-font)")
	}
	api := rest.New(p.Service, rest.Config{Audit: auditor, BaseURL: cfg.BaseURL, MaxBodyBytes: cfg.MaxBody, Version: version, Operations: rest.OperationSet{p.Terminology, p.Registry, p.Registry.UserAdmin(), p.ConsentOps, notify.NewChoices(p.Service), journalSvc, correction.New(p.Service, p.Registry), accreditation.New(p.Service, p.Profiles).Operations(), summaries},
		AllowExplain: cfg.AllowExplain, Tokens: tokens, Active: active, Access: p.AccessFor, Notified: p.Store, Journal: journalSvc, View: p.Roles.View, Emergency: p.InEmergency, HL7v2: &hl7v2.Options{}, Deposit: deposit.New(p.Service, p.Registry, deposit.WithChecker(p.Profiles)), Export: exports}, log)
	// Browser apps of the registered origins call the FHIR API across
	// origins, as they call the token endpoint.
	apiHandler := api.Handler()
	handler := ops.Handler(withAuthorizationServer(authz.CORS(apiHandler), authz.Handler()), p.Service, log)
	if cfg.Login.Origin == "" {
		cfg.Login.Origin = cfg.Issuer
	}
	// The web apps are OAuth clients of authz calling the FHIR API
	// in-process as the signed-in person.
	site, err := web.New(web.Config{Origin: cfg.Login.Origin, Issuer: cfg.Issuer, FHIRBase: audience,
		Authz: authz, API: apiHandler, Keys: p.Store, Log: log})
	if err != nil {
		return nil, err
	}
	for _, mount := range webApps {
		if err := mount(context.Background(), site); err != nil {
			return nil, err
		}
	}
	if err := mountConsole(site, p, tokens, authz, auditor, cfg, log); err != nil {
		return nil, err
	}
	if err := portal.Mount(context.Background(), site, portal.Options{Emergency: func() bool { return p.Consent.Emergency }}); err != nil {
		return nil, err
	}
	handler = withWeb(handler, site)
	cfg.Login.Log = log
	signIn, err := login.New(p.Store, p.Service, sessions, cfg.Login)
	if err != nil {
		return nil, err
	}
	return &stack{Handler: withLogin(handler, signIn.Handler()), Tokens: tokens, Authz: authz, Audit: auditor, API: api}, nil
}

// webApps mount the web apps on the site, one line each.
var webApps = []func(context.Context, *web.Site) error{citizen.Mount}

// withWeb routes the web apps' prefixes and static files to the site.
func withWeb(next http.Handler, site *web.Site) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	h := site.Handler()
	for _, p := range site.Prefixes() {
		mux.Handle(p, h)
	}
	return mux
}

// withLogin routes the sign-in's pages (login.Path and below) to the login.
func withLogin(next, signIn http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.Handle(login.Path, signIn)
	mux.Handle(login.Path+"/", signIn)
	return mux
}

// withAuthorizationServer routes the OAuth endpoints, the discovery
// documents and the JWKS to the authorization server, and everything else
// to the FHIR API.
func withAuthorizationServer(api, authz http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("/oauth/", authz)
	mux.Handle(oauth.PathOpenIDConfig, authz)
	mux.Handle(oauth.PathJWKS, authz)
	mux.Handle(oauth.SmartConfigurationPath, authz)
	return mux
}

// origin is scheme://host of an absolute URL.
func origin(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return base
	}
	return u.Scheme + "://" + u.Host
}

// newAuditor is the audit journal's recorder for serve: checkpoints signed
// with the key file when one is given.
func newAuditor(p *platform.Platform, base string, cfg stackConfig, log *slog.Logger) (*audit.Auditor, error) {
	host, _ := os.Hostname()
	ac := audit.Config{Source: audit.Source{Base: base, Name: host}, ExportPath: cfg.AuditExport, Log: log}
	if cfg.AuditKey != "" {
		key, err := audit.LoadPrivateKey(cfg.AuditKey)
		if err != nil {
			return nil, fmt.Errorf("--audit-key: %w", err)
		}
		ac.Key = key
	} else {
		log.Warn("no --audit-key: the audit journal is hash-chained but its checkpoints are not signed")
	}
	return audit.New(p.Store, ac)
}
