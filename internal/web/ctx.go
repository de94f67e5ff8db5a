package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Ctx is one request to an app, as its handler sees it.
type Ctx struct {
	W    http.ResponseWriter
	R    *http.Request
	App  *App
	Lang Lang
	// Session is the signed-in person's (nil on a public page when nobody
	// is signed in); FHIR calls the FHIR API as them.
	Session *Session
	FHIR    *FHIR

	done bool // the response was written
}

// View is what the layout and every page template get: the page's own
// data is .Data.
type View struct {
	Lang     Lang
	Title    string // the page title (from the page's "title" template)
	App      string // the app's name
	Prefix   string
	Path     string // the current path and query, for the language switch
	CSRF     string
	SignedIn bool
	Nav      []NavItem
	Flash    []Flash
	Data     any
}

// T translates a message key.
func (c *Ctx) T(key string, args ...any) string { return c.App.messages.T(c.Lang, key, args...) }

// Path is a path under the app's prefix.
func (c *Ctx) Path(p string) string { return c.App.prefix + "/" + strings.TrimPrefix(p, "/") }

// Redirect answers 303 See Other to a path under the app's prefix.
func (c *Ctx) Redirect(p string) error {
	http.Redirect(c.W, c.R, c.Path(p), http.StatusSeeOther)
	c.done = true
	return nil
}

// Flash keeps a message for the next page the person sees.
func (c *Ctx) Flash(kind, key string, args ...any) {
	if c.Session != nil {
		c.Session.Flash = append(c.Session.Flash, Flash{Kind: kind, Key: key, Args: args})
		if err := c.App.site.sessions.put(c.R.Context(), c.Session); err != nil {
			c.App.site.cfg.Log.Warn("web: flash", "err", err)
		}
	}
}

// Form returns a form field of a POST (checked for CSRF before the
// handler ran).
func (c *Ctx) Form(name string) string { return strings.TrimSpace(c.R.PostFormValue(name)) }

// Render writes a page with status 200.
func (c *Ctx) Render(page string, data any) error { return c.RenderStatus(http.StatusOK, page, data) }

// RenderStatus writes page (pages/<page>.html) in the layout, with the
// flash messages taken from the session.
func (c *Ctx) RenderStatus(status int, page string, data any) error {
	t, ok := c.App.pages[page]
	if !ok {
		return fmt.Errorf("web: no page %q", page)
	}
	t, err := t.Clone()
	if err != nil {
		return err
	}
	t.Funcs(c.funcs())
	v := View{Lang: c.Lang, App: c.T(c.App.cfg.TitleKey), Prefix: c.App.prefix, Path: c.R.URL.Path, Data: data}
	if c.R.Method == http.MethodGet && c.R.URL.RawQuery != "" {
		v.Path += "?" + c.R.URL.RawQuery
	}
	if s := c.Session; s != nil {
		v.SignedIn, v.CSRF, v.Nav, v.Flash = true, s.CSRF, c.App.cfg.Nav, s.Flash
	}
	var title bytes.Buffer
	if err := t.ExecuteTemplate(&title, "title", v); err != nil {
		return fmt.Errorf("web: page %s: %w", page, err)
	}
	v.Title = strings.TrimSpace(title.String())
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("web: page %s: %w", page, err)
	}
	if s := c.Session; s != nil && len(s.Flash) > 0 {
		s.Flash = nil
		if err := c.App.site.sessions.put(c.R.Context(), s); err != nil {
			return err
		}
	}
	h := c.W.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(c.Lang))
	c.W.WriteHeader(status)
	c.W.Write(buf.Bytes())
	c.done = true
	return nil
}

// errorView is the error page's data.
type errorView struct {
	Kind      string // catalogue key of the explanation
	Status    int
	Issues    []outcome.Issue
	RequestID string
}

// fail shows err as the error page: an *outcome.Error with its status and
// the OperationOutcome's issues, anything else as an internal error with
// an id to quote (logged with that id, never shown).
func (c *Ctx) fail(err error) {
	if c.done {
		c.App.site.cfg.Log.Error("web: after the response", "app", c.App.cfg.Name, "err", err)
		return
	}
	kind := outcome.KindOf(err)
	if kind == outcome.Unauthorized && c.Session != nil {
		// The tokens no longer work (revoked, the sign-in ended): sign in
		// again.
		c.App.site.sessions.end(c.R.Context(), c.Session, false)
		c.Session, c.FHIR = nil, nil
		c.App.cookie.clear(c.W)
		if c.R.Method == http.MethodGet {
			if err := c.App.startSignIn(c, c.R.URL.RequestURI()); err == nil {
				return
			}
		}
	}
	v := errorView{Kind: "error." + kind.String(), Status: kind.Status()}
	var oe *outcome.Error
	if kind == outcome.Internal {
		b := make([]byte, 8)
		rand.Read(b)
		v.RequestID = hex.EncodeToString(b)
		c.App.site.cfg.Log.Error("web: request failed", "app", c.App.cfg.Name, "path", c.R.URL.Path, "request", v.RequestID, "err", err)
	} else if asOutcome(err, &oe) {
		v.Issues = oe.Issues
	}
	if err := c.RenderStatus(v.Status, "error", v); err != nil {
		c.App.site.cfg.Log.Error("web: error page", "err", err)
		http.Error(c.W, http.StatusText(v.Status), v.Status)
	}
}

func asOutcome(err error, out **outcome.Error) bool {
	for err != nil {
		if e, ok := err.(*outcome.Error); ok {
			*out = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// placeholderFuncs name the template functions for parsing; each request
// binds them to its language (Ctx.funcs).
var placeholderFuncs = (&Ctx{}).funcs()

// funcs are the template functions of a request:
//
//	T "key" args…        a message in the request's language
//	Targs "key" list     the same with the arguments as a list
//	date "2025-11-03"    a FHIR date/dateTime, at its precision
//	datetime t           a time.Time, in Hong Kong time
//	number "1234.5"      a decimal with separators
//	name .name           a FHIR name array, in the language's order
//	display .code        a CodeableConcept's words
//	path "records"       a path under the app's prefix
//	asset "app.css"      a static file's URL
//	langURL "zh-Hant"    the current page in another language
//	csrf                 the form's hidden CSRF field
func (c *Ctx) funcs() template.FuncMap {
	return template.FuncMap{
		"T": func(key string, args ...any) string {
			if c.App == nil {
				return key
			}
			return c.T(key, args...)
		},
		"Targs": func(key string, args []any) string {
			if c.App == nil {
				return key
			}
			return c.T(key, args...)
		},
		"date":     func(s string) string { return FormatFHIRDate(c.Lang, s) },
		"datetime": func(t time.Time) string { return FormatDateTime(c.Lang, t) },
		"number":   func(s string) string { return FormatNumber(c.Lang, s) },
		"name":     func(v any) string { n, _ := v.([]any); return FormatName(c.Lang, n) },
		"display":  Display,
		"get":      Str,
		"path": func(p ...string) string {
			if c.App == nil {
				return ""
			}
			return c.Path(path.Join(p...))
		},
		"asset": func(name string) (string, error) {
			if c.App == nil {
				return "", nil
			}
			return c.App.site.assets.url(name)
		},
		"langURL": func(l string) string {
			if c.R == nil {
				return ""
			}
			q := url.Values{}
			if c.R.Method == http.MethodGet {
				q = c.R.URL.Query()
			}
			q.Set("lang", l)
			return c.R.URL.Path + "?" + q.Encode()
		},
		"csrf": func() template.HTML {
			if c.Session == nil {
				return ""
			}
			return template.HTML(`<input type="hidden" name="` + csrfField + `" value="` + template.HTMLEscapeString(c.Session.CSRF) + `">`)
		},
	}
}

// fhirBase is the FHIR base as a URL.
func (s *Site) fhirBase() *url.URL {
	u, _ := url.Parse(s.cfg.FHIRBase)
	return u
}
