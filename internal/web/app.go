package web

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// AppConfig describes one app.
type AppConfig struct {
	// Name is short and URL-safe ("citizen", "portal", "admin"): part of
	// the OAuth client id and of the session cookie's name.
	Name string
	// Prefix is the path the app is mounted at ("/app").
	Prefix string
	// TitleKey is the catalogue key of the app's name.
	TitleKey string
	// Scope is what the app asks of the authorization server (and is
	// registered for), e.g. "openid fhirUser launch/patient online_access
	// patient/*.cruds".
	Scope string
	// Files holds the app's pages (pages/*.html, each defining "title" and
	// "content" for the layout) and messages (messages.en.json,
	// messages.zh-Hant.json) at its root.
	Files fs.FS
	// Nav is the app's menu, shown to signed-in people.
	Nav []NavItem
	// MaxUpload bounds a multipart form (0: 1 MiB).
	MaxUpload int64
}

// NavItem is one entry of an app's menu: a path under the prefix and the
// catalogue key of its label.
type NavItem struct {
	Path, Key string
}

// App is one mounted app: its routes under the prefix, its pages, its
// messages and its OAuth client.
type App struct {
	site      *Site
	cfg       AppConfig
	prefix    string
	client    *client
	cookie    cookie
	stateCk   cookie
	messages  Catalogue
	pages     map[string]*template.Template
	mux       *http.ServeMux
	maxUpload int64
}

// Handler is a page or action of an app. An error it returns is shown as
// the error page (an *outcome.Error with its status and issues).
type Handler func(*Ctx) error

// NewApp registers an app with the authorization server and returns it;
// add its routes with Handle and HandlePublic before serving.
func (s *Site) NewApp(ctx context.Context, cfg AppConfig) (*App, error) {
	if cfg.Name == "" || !strings.HasPrefix(cfg.Prefix, "/") || strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("web: app %q at %q: want a name and a prefix like /app", cfg.Name, cfg.Prefix)
	}
	msgs := Catalogue{}
	for l, m := range s.messages {
		msgs[l] = map[string]string{}
		for k, v := range m {
			msgs[l][k] = v
		}
	}
	if err := msgs.LoadCatalogue(cfg.Files, "."); err != nil {
		return nil, fmt.Errorf("web: app %s: %w", cfg.Name, err)
	}
	if missing := msgs.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("web: app %s: messages missing in a language: %s", cfg.Name, strings.Join(missing, ", "))
	}
	pages, err := parsePages(cfg.Files)
	if err != nil {
		return nil, fmt.Errorf("web: app %s: %w", cfg.Name, err)
	}
	cl, err := registerClient(ctx, s.cfg, cfg.Name, msgs.T(English, cfg.TitleKey), s.cfg.Origin+cfg.Prefix+"/callback", cfg.Scope)
	if err != nil {
		return nil, err
	}
	name := "web-" + cfg.Name
	if s.secure {
		name = "__Host-" + name
	}
	a := &App{site: s, cfg: cfg, prefix: cfg.Prefix, client: cl, messages: msgs, pages: pages, mux: http.NewServeMux(),
		cookie: cookie{name: name, secure: s.secure}, stateCk: cookie{name: name + "-signin", secure: s.secure}, maxUpload: cfg.MaxUpload}
	if a.maxUpload <= 0 {
		a.maxUpload = 1 << 20
	}
	a.HandlePublic("GET /signin", a.signIn)
	a.HandlePublic("GET /callback", a.callback)
	a.HandlePublic("POST /signout", a.signOut)
	a.mux.HandleFunc("/", a.serve(func(c *Ctx) error {
		return outcome.New(outcome.NotFound, "web: no page %s", c.R.URL.Path)
	}, false))
	s.apps = append(s.apps, a)
	return a, nil
}

// parsePages parses each pages/*.html of an app over the layout.
func parsePages(files fs.FS) (map[string]*template.Template, error) {
	names, err := fs.Glob(files, "pages/*.html")
	if err != nil {
		return nil, err
	}
	base, err := baseTemplates()
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	add := func(fsys fs.FS, names []string) error {
		for _, n := range names {
			t, err := base.Clone()
			if err != nil {
				return err
			}
			if t, err = t.ParseFS(fsys, n); err != nil {
				return err
			}
			pages[strings.TrimSuffix(path.Base(n), ".html")] = t
		}
		return nil
	}
	builtin, err := fs.Glob(baseFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	if err := add(baseFS, builtin); err != nil {
		return nil, err
	}
	return pages, add(files, names)
}

// Prefix is the path the app is mounted at.
func (a *App) Prefix() string { return a.prefix }

// Messages is the app's catalogue (the layout's and the app's own).
func (a *App) Messages() Catalogue { return a.messages }

// Handle adds a route for signed-in people: pattern is "METHOD /path"
// under the prefix. Someone not signed in is sent to sign in (and back
// to a GET's page afterwards); a POST must carry the session's CSRF token
// and come from the app's origin.
func (a *App) Handle(pattern string, h Handler) { a.route(pattern, h, true) }

// HandlePublic adds a route anyone may open.
func (a *App) HandlePublic(pattern string, h Handler) { a.route(pattern, h, false) }

func (a *App) route(pattern string, h Handler, signedIn bool) {
	method, p, ok := strings.Cut(pattern, " ")
	if !ok {
		method, p = "", pattern
	} else {
		method += " "
	}
	a.mux.HandleFunc(method+a.prefix+p, a.serve(h, signedIn))
}

// ServeHTTP serves the app.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if r.URL.Path == a.prefix {
		http.Redirect(w, r, a.prefix+"/", http.StatusFound)
		return
	}
	if l, ok := ParseLang(r.URL.Query().Get("lang")); ok && r.Method == http.MethodGet {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: a.site.secure, SameSite: http.SameSiteLaxMode})
		q := r.URL.Query()
		q.Del("lang")
		target := r.URL.Path
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// serve wraps a handler: the language, the session (required or not),
// CSRF and origin checks, and the error page.
func (a *App) serve(h Handler, signedIn bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &Ctx{W: w, R: r, App: a, Lang: a.lang(r)}
		w.Header().Set("Cache-Control", "no-store")
		if err := a.prepare(c, signedIn); err != nil {
			c.fail(err)
			return
		}
		if c.done {
			return
		}
		if err := h(c); err != nil {
			c.fail(err)
		}
	}
}

// prepare loads the session and checks a state-changing request.
func (a *App) prepare(c *Ctx, signedIn bool) error {
	r := c.R
	s, err := a.site.sessions.get(r.Context(), a.client.id, a.cookie.value(r))
	if err != nil {
		return err
	}
	if s != nil {
		c.Session = s
		c.FHIR = a.fhirFor(c)
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if signedIn && s == nil {
			return a.startSignIn(c, r.URL.RequestURI())
		}
		return nil
	}
	if !sameOrigin(r, a.site.cfg.Origin) {
		return outcome.New(outcome.Forbidden, "web: a form from another site")
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(c.W, r.Body, a.maxUpload+64<<10)
		if err := r.ParseMultipartForm(a.maxUpload); err != nil {
			return outcome.New(outcome.TooLarge, "web: form: %v", err)
		}
	} else {
		r.Body = http.MaxBytesReader(c.W, r.Body, 256<<10)
		if err := r.ParseForm(); err != nil {
			return outcome.New(outcome.Invalid, "web: form: %v", err)
		}
	}
	if s == nil {
		if signedIn {
			c.Flash("info", "flash.session_ended")
			return a.startSignIn(c, a.prefix+"/")
		}
		return nil
	}
	if !validCSRF(r, s.CSRF) {
		return outcome.New(outcome.Forbidden, "web: the form's CSRF token does not match the session")
	}
	return nil
}

// fhirFor is the session's FHIR client: its access token, renewed with
// the refresh token when it has expired.
func (a *App) fhirFor(c *Ctx) *FHIR {
	return &FHIR{api: a.site.cfg.API, base: a.site.fhirBase(), remote: c.R.RemoteAddr, lang: c.Lang,
		token: func(ctx context.Context, renew bool) (string, error) {
			s := c.Session
			if !renew && time.Now().Before(s.Expiry.Add(-30*time.Second)) {
				return s.Access, nil
			}
			if s.Refresh == "" {
				return "", outcome.New(outcome.Unauthorized, "web: the access token expired and there is no refresh token")
			}
			tr, err := a.client.refresh(ctx, s.Refresh)
			if err != nil {
				return "", err
			}
			s.Access, s.Refresh, s.Expiry = tr.AccessToken, tr.RefreshToken, time.Now().Add(time.Duration(tr.ExpiresIn)*time.Second)
			return s.Access, a.site.sessions.put(ctx, s)
		}}
}

// lang is the request's language: the cookie's, else Accept-Language's.
func (a *App) lang(r *http.Request) Lang {
	if k, err := r.Cookie(langCookie); err == nil {
		if l, ok := ParseLang(k.Value); ok {
			return l
		}
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// keyedStore is the store the site keeps its state in.
func (a *App) keyedStore() store.Keyed { return a.site.cfg.Keys }
