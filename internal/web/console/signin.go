package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// loginCookie carries the sign-in form's CSRF token (double submit): the
// form has no session yet whose token it could carry.
const loginCookie = "admin-login"

// loginView is the sign-in page's data.
type loginView struct {
	Token, Return, Username string
	Error                   string // catalogue key
}

// loginPage shows the sign-in form (or the home page to an operator
// already signed in).
func (con *console) loginPage(c *web.Ctx) error {
	if u, err := con.check(c); err != nil || u != "" {
		if err != nil {
			return err
		}
		return c.Redirect("/")
	}
	return con.renderLogin(c, http.StatusOK, "")
}

func (con *console) renderLogin(c *web.Ctx, status int, errKey string) error {
	tok := make([]byte, 32)
	rand.Read(tok)
	v := loginView{Token: base64.RawURLEncoding.EncodeToString(tok), Return: safeReturn(c.R.FormValue("return")),
		Username: c.R.PostFormValue("username"), Error: errKey}
	http.SetCookie(c.W, &http.Cookie{Name: loginCookie, Value: v.Token, Path: Prefix + "/login", MaxAge: 900,
		HttpOnly: true, Secure: secureRequest(c.R), SameSite: http.SameSiteStrictMode})
	return c.RenderStatus(status, "login", v)
}

// login checks the form's CSRF token, the client's rate and the
// operator's username, password and TOTP code, then mints the operator's
// token and starts the session.
func (con *console) login(c *web.Ctx) error {
	ctx := c.R.Context()
	ck, err := c.R.Cookie(loginCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(c.Form("_login"))) != 1 {
		return outcome.New(outcome.Forbidden, "console: the sign-in form's token does not match this browser")
	}
	if con.ip != nil {
		host, _, _ := net.SplitHostPort(c.R.RemoteAddr)
		if _, ok := con.ip.Allow(host, time.Now()); !ok {
			return con.renderLogin(c, http.StatusTooManyRequests, "login.too_many")
		}
	}
	username := strings.ToLower(c.Form("username"))
	op, err := con.cfg.Operators.Authenticate(ctx, username, c.R.PostFormValue("password"), c.Form("code"))
	switch {
	case outcome.Is(err, outcome.Unauthorized):
		con.cfg.Log.Info("console: sign-in refused", "reason", "factors")
		return con.renderLogin(c, http.StatusUnauthorized, "login.wrong")
	case outcome.Is(err, outcome.Forbidden):
		con.cfg.Log.Warn("console: sign-in refused", "reason", "locked")
		return con.renderLogin(c, http.StatusForbidden, "login.locked")
	case err != nil:
		return err
	}
	tok, claims, err := con.issue(ctx, op.Username)
	if err != nil {
		return err
	}
	if err := c.StartSession(&web.Session{FHIRUser: "Operator/" + op.Username, Scope: operatorScope, Access: tok, Expiry: claims.Expiry}); err != nil {
		return err
	}
	http.SetCookie(c.W, &http.Cookie{Name: loginCookie, Value: "", Path: Prefix + "/login", MaxAge: -1,
		HttpOnly: true, Secure: secureRequest(c.R), SameSite: http.SameSiteStrictMode})
	con.cfg.Log.Info("console: operator signed in", "operator", op.Username)
	c.Flash("ok", "login.welcome", op.Name)
	http.Redirect(c.W, c.R, safeReturn(c.Form("return")), http.StatusSeeOther)
	return nil
}

// safeReturn is a console path to go back to after signing in: under the
// prefix, no scheme, host or "//"; the home page otherwise.
func safeReturn(p string) string {
	if !strings.HasPrefix(p, Prefix+"/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") ||
		strings.HasPrefix(p, Prefix+"/login") {
		return Prefix + "/"
	}
	return p
}

// secureRequest reports whether the browser reached us over https (or on
// a loopback address, which browsers treat as secure).
func secureRequest(r *http.Request) bool {
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}
