package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// pendingTTL is how long a sign-in may take.
const pendingTTL = 10 * time.Minute

// startSignIn begins a launch: PKCE verifier and state kept on the server,
// the state also in a short-lived cookie (so the callback is this
// browser's), then the authorize endpoint, which sends a person who is not
// signed in to /login and back.
func (a *App) startSignIn(c *Ctx, returnTo string) error {
	state, verifier := randomToken(), randomToken()+randomToken()
	body, err := json.Marshal(pending{Verifier: verifier, Return: safeReturn(a.prefix, returnTo)})
	if err != nil {
		return err
	}
	k := store.Key{NS: nsPending, Key: hashToken(state)}
	if err := a.keyedStore().PutKey(c.R.Context(), k, body, time.Now().Add(pendingTTL)); err != nil {
		return err
	}
	a.stateCk.set(c.W, state, pendingTTL)
	http.Redirect(c.W, c.R, a.client.authorizeURL(state, verifier), http.StatusSeeOther)
	c.done = true
	return nil
}

// signIn starts a sign-in, or, with switch=1, a new launch for a signed-in
// person (the authorization server's picker lets someone who acts for
// others choose whose record).
func (a *App) signIn(c *Ctx) error {
	if c.Session != nil && c.R.URL.Query().Get("switch") == "" {
		return c.Redirect("/")
	}
	return a.startSignIn(c, a.prefix+"/")
}

// callback ends a launch: the state checked against the browser's cookie
// and taken (single use), the code exchanged for tokens with the PKCE
// verifier, the session started.
func (a *App) callback(c *Ctx) error {
	ctx, q := c.R.Context(), c.R.URL.Query()
	state := q.Get("state")
	a.stateCk.clear(c.W)
	if state == "" || a.stateCk.value(c.R) != state {
		return outcome.New(outcome.Forbidden, "web: the sign-in's state does not match this browser")
	}
	body, err := a.keyedStore().TakeKey(ctx, nsPending, hashToken(state))
	if outcome.Is(err, outcome.NotFound) {
		return outcome.New(outcome.Forbidden, "web: the sign-in has expired or was used")
	}
	if err != nil {
		return err
	}
	var p pending
	if err := json.Unmarshal(body, &p); err != nil {
		return err
	}
	if e := q.Get("error"); e != "" {
		return outcome.New(outcome.Forbidden, "web: the sign-in was not completed (%s)", e)
	}
	tr, err := a.client.exchange(ctx, q.Get("code"), p.Verifier)
	if err != nil {
		return err
	}
	claims := accessClaims(tr.AccessToken)
	s := &Session{App: a.client.id, FHIRUser: tr.FHIRUser, Patient: tr.Patient, Org: claims.Org, Role: claims.Role,
		Scope: tr.Scope, Access: tr.AccessToken, Refresh: tr.RefreshToken,
		Expiry: time.Now().Add(time.Duration(tr.ExpiresIn) * time.Second)}
	if s.FHIRUser == "" {
		s.FHIRUser = claims.FHIRUser
	}
	if old := c.Session; old != nil { // a switch replaces the session
		a.client.revoke(ctx, old.Refresh, "refresh_token")
		a.site.sessions.end(ctx, old, false)
	}
	id, err := a.site.sessions.create(ctx, s)
	if err != nil {
		return err
	}
	a.cookie.set(c.W, id, a.site.cfg.AbsoluteTimeout)
	http.Redirect(c.W, c.R, p.Return, http.StatusSeeOther)
	return nil
}

// signOut revokes the session's tokens, ends the session (all of the
// person's sessions in this app with everywhere=1) and the sign-in at the
// authorization server, and clears the cookies.
func (a *App) signOut(c *Ctx) error {
	ctx := c.R.Context()
	if s := c.Session; s != nil {
		if err := a.client.revoke(ctx, s.Refresh, "refresh_token"); err != nil {
			a.site.cfg.Log.Warn("web: revoke on sign-out", "app", a.cfg.Name, "err", err)
		}
		if err := a.client.revoke(ctx, s.Access, "access_token"); err != nil {
			a.site.cfg.Log.Warn("web: revoke on sign-out", "app", a.cfg.Name, "err", err)
		}
		if err := a.site.sessions.end(ctx, s, c.R.PostFormValue("everywhere") == "1"); err != nil {
			return err
		}
	}
	if err := a.site.cfg.Authz.Sessions().End(c.W, c.R); err != nil {
		return err
	}
	a.cookie.clear(c.W)
	c.Session, c.FHIR = nil, nil
	return c.RenderStatus(http.StatusOK, "signedout", nil)
}

// tokenClaims are the claims of the platform's access tokens the apps use.
type tokenClaims struct {
	FHIRUser string `json:"fhirUser"`
	Org      string `json:"org"`
	Role     string `json:"role"`
}

// accessClaims reads the payload of an access token the authorization
// server has just issued to the app in-process (so it is not verified
// again; the FHIR API verifies it on every call).
func accessClaims(jwt string) tokenClaims {
	var c tokenClaims
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return c
	}
	if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
		json.Unmarshal(b, &c)
	}
	return c
}
