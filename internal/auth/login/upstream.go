package login

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Namespaces of upstream sign-ins.
const (
	nsOIDCState = "login.oidc.state" // SHA-256 of the state → upstreamState
	nsOIDCLink  = "login.oidc.link"  // SHA-256 of issuer and subject → Patient id
	// SHA-256 of the id in linkCookie → an unlinked subject, until the
	// citizen signs in another way in the same browser.
	nsOIDCPending = "login.oidc.pending"
)

// linkCookie holds, in the browser of a citizen whose upstream identity is
// not linked yet, the id of that identity kept for linking once they sign
// in with a code or a passkey.
const linkCookie = "__Host-ehealth-link"

// oidcCookie binds an upstream sign-in to the browser that started it.
// SameSite=Lax: the callback is a top-level navigation from the provider.
const oidcCookie = "__Host-ehealth-oidc"

// upstreamTTL is how long an upstream sign-in may take.
const upstreamTTL = 10 * time.Minute

// Upstream is an OpenID Connect provider citizens may sign in with — where
// a government identity service such as iAM Smart plugs in. The login is
// its client: authorization code with PKCE (S256) and a nonce; the ID
// token's signature (the provider's JWKS), issuer, audience and times are
// verified. Its subject maps to a master Patient by a link in the keyed
// store (LinkSubject), or, with DocumentClaim, by the identity document
// the provider vouches for the first time the subject signs in.
type Upstream struct {
	// Name is the provider's name in URLs (/login/oidc/{Name}): a-z, 0-9, -.
	Name string
	// Label and LabelZh are the button's text in English and Chinese.
	Label, LabelZh string
	// Issuer is the provider's issuer URL (discovery at
	// Issuer/.well-known/openid-configuration).
	Issuer string
	// ClientID and ClientSecret are the login's registration there; the
	// redirect URI to register is Origin + /login/oidc/{Name}/callback.
	ClientID, ClientSecret string
	// Scopes are asked for besides openid.
	Scopes []string
	// DocumentClaim, if set, names an ID-token claim holding the citizen's
	// HKID: a subject not yet linked is linked to the master Patient
	// registered with it. Set it only for a provider that verifies identity
	// documents.
	DocumentClaim string
	// HTTPClient reaches the provider (http.DefaultClient if nil).
	HTTPClient *http.Client
}

var upstreamName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// upstream is an Upstream in use; its discovery document is fetched on
// first use (and again after a failure), so the server starts while the
// provider is away.
type upstream struct {
	cfg         Upstream
	redirectURI string

	mu       sync.Mutex
	provider *oidc.Provider
}

func newUpstream(u Upstream, origin string) (*upstream, error) {
	if !upstreamName.MatchString(u.Name) {
		return nil, fmt.Errorf("login: upstream name %q: a-z, 0-9 and -", u.Name)
	}
	if iu, err := url.Parse(u.Issuer); err != nil || iu.Scheme != "https" && iu.Scheme != "http" || iu.Host == "" || u.ClientID == "" {
		return nil, fmt.Errorf("login: upstream %s: an absolute issuer URL and a client id are required", u.Name)
	}
	if u.HTTPClient == nil {
		u.HTTPClient = http.DefaultClient
	}
	return &upstream{cfg: u, redirectURI: origin + Path + "/oidc/" + u.Name + "/callback"}, nil
}

func (u *upstream) label() text {
	l := text{u.cfg.Label, u.cfg.LabelZh}
	if l.En == "" {
		l.En = u.cfg.Name
	}
	return l
}

// ctx carries the upstream's HTTP client for go-oidc and x/oauth2.
func (u *upstream) ctx(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, u.cfg.HTTPClient)
	return context.WithValue(ctx, oauth2.HTTPClient, u.cfg.HTTPClient)
}

// discover returns the provider, fetching its discovery document once.
func (u *upstream) discover(ctx context.Context) (*oidc.Provider, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.provider == nil {
		p, err := oidc.NewProvider(u.ctx(ctx), u.cfg.Issuer)
		if err != nil {
			return nil, fmt.Errorf("login: upstream %s: discovery: %w", u.cfg.Name, err)
		}
		u.provider = p
	}
	return u.provider, nil
}

func (u *upstream) oauth2(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: u.cfg.ClientID, ClientSecret: u.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: u.redirectURI, Scopes: append([]string{oidc.ScopeOpenID}, u.cfg.Scopes...)}
}

// upstreamState is an upstream sign-in in progress.
type upstreamState struct {
	Upstream string `json:"upstream"`
	Verifier string `json:"verifier"`
	Nonce    string `json:"nonce"`
	Next     string `json:"next"`
}

// upstreamStart sends the browser to the provider's authorization
// endpoint with a state (also in a cookie), a PKCE challenge and a nonce.
func (h *Handler) upstreamStart(w http.ResponseWriter, r *http.Request) {
	next, ok := nextOf(r)
	if !ok {
		h.fail(w, r, http.StatusBadRequest, msgBadNext)
		return
	}
	u := h.upstreams[r.PathValue("name")]
	if u == nil {
		h.fail(w, r, http.StatusNotFound, msgUnknownPage)
		return
	}
	p, err := u.discover(r.Context())
	if err != nil {
		h.cfg.Log.Error("login: upstream", "err", err)
		h.fail(w, r, http.StatusBadGateway, msgUpstreamFailed)
		return
	}
	st := upstreamState{Upstream: u.cfg.Name, Verifier: oauth2.GenerateVerifier(), Nonce: randomToken(), Next: next}
	b, _ := json.Marshal(st)
	state := randomToken()
	if err := h.keys.PutKey(r.Context(), store.Key{NS: nsOIDCState, Key: digest(state)}, b, h.cfg.Now().Add(upstreamTTL)); err != nil {
		h.internal(w, r, "store upstream state", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state, Path: "/", MaxAge: int(upstreamTTL.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	to := u.oauth2(p).AuthCodeURL(state, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// upstreamCallback completes an upstream sign-in: the state must be this
// browser's, the code is exchanged with the PKCE verifier, the ID token is
// verified (signature, issuer, audience, expiry, nonce) and its subject
// mapped to a Patient.
func (h *Handler) upstreamCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := h.upstreams[r.PathValue("name")]
	if u == nil {
		h.fail(w, r, http.StatusNotFound, msgUnknownPage)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	st, err := h.takeUpstreamState(r, u)
	if err == nil {
		var patient string
		patient, err = h.upstreamPatient(ctx, u, r.URL.Query().Get("code"), st)
		if err == nil {
			h.signIn(w, r, oauth.Who{FHIRUser: "Patient/" + patient, Method: "oidc:" + u.cfg.Issuer}, st.Next)
			return
		}
	}
	var unlinked *unlinkedError
	if errors.As(err, &unlinked) {
		if err := h.keepUnlinked(ctx, w, unlinked); err != nil {
			h.internal(w, r, "keep unlinked subject", err)
			return
		}
		h.startPage(w, r, http.StatusForbidden, st.Next, &msgNotLinked)
		return
	}
	h.cfg.Log.Warn("login: upstream sign-in refused", "upstream", u.cfg.Name, "reason", err.Error())
	h.fail(w, r, http.StatusUnauthorized, msgUpstreamFailed)
}

var errNotLinked = errors.New("login: upstream subject linked to no Patient")

// unlinkedError is a verified upstream subject linked to no Patient.
type unlinkedError struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	cause   error
}

func (e *unlinkedError) Error() string { return errors.Join(errNotLinked, e.cause).Error() }

func (e *unlinkedError) Unwrap() error { return errNotLinked }

// keepUnlinked remembers a verified subject in this browser, so that the
// citizen's next sign-in by code or passkey here links it to them: the two
// proofs — the provider's and the record's — in one browser, within
// upstreamTTL.
func (h *Handler) keepUnlinked(ctx context.Context, w http.ResponseWriter, u *unlinkedError) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	id := randomToken()
	if err := h.keys.PutKey(ctx, store.Key{NS: nsOIDCPending, Key: digest(id)}, b, h.cfg.Now().Add(upstreamTTL)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: linkCookie, Value: id, Path: "/", MaxAge: int(upstreamTTL.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	return nil
}

// linkPending links the upstream subject this browser kept, if any, to the
// citizen who has just signed in another way.
func (h *Handler) linkPending(ctx context.Context, w http.ResponseWriter, r *http.Request, patient string) error {
	c, err := r.Cookie(linkCookie)
	if err != nil || len(c.Value) != 43 {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: linkCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	b, err := h.keys.TakeKey(ctx, nsOIDCPending, digest(c.Value))
	if outcome.Is(err, outcome.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var u unlinkedError
	if err := json.Unmarshal(b, &u); err != nil {
		return err
	}
	h.cfg.Log.Info("login: upstream subject linked", "issuer", u.Issuer, "fhirUser", "Patient/"+patient)
	return LinkSubject(ctx, h.keys, u.Issuer, u.Subject, patient)
}

// takeUpstreamState takes the state of the callback, which must be the
// one in this browser's cookie.
func (h *Handler) takeUpstreamState(r *http.Request, u *upstream) (upstreamState, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return upstreamState{}, fmt.Errorf("provider answered %s", e)
	}
	state := q.Get("state")
	c, err := r.Cookie(oidcCookie)
	if err != nil || len(state) != 43 || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		return upstreamState{}, errors.New("state does not match this browser's")
	}
	b, err := h.keys.TakeKey(r.Context(), nsOIDCState, digest(state))
	if err != nil {
		return upstreamState{}, fmt.Errorf("state: %w", err)
	}
	var st upstreamState
	if err := json.Unmarshal(b, &st); err != nil || st.Upstream != u.cfg.Name {
		return upstreamState{}, errors.New("state of another upstream")
	}
	return st, nil
}

// upstreamPatient exchanges code, verifies the ID token and returns the
// Patient its subject is linked to.
func (h *Handler) upstreamPatient(ctx context.Context, u *upstream, code string, st upstreamState) (string, error) {
	p, err := u.discover(ctx)
	if err != nil {
		return "", err
	}
	tok, err := u.oauth2(p).Exchange(u.ctx(ctx), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return "", fmt.Errorf("token exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", errors.New("no id_token in the token response")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: u.cfg.ClientID, Now: h.cfg.Now}).Verify(u.ctx(ctx), raw)
	if err != nil {
		return "", fmt.Errorf("id_token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return "", errors.New("id_token: nonce does not match")
	}
	return h.linkedPatient(ctx, u, idt)
}

// linkedPatient maps a verified ID token's subject to a Patient: its link,
// or a new link through the identity document claim.
func (h *Handler) linkedPatient(ctx context.Context, u *upstream, idt *oidc.IDToken) (string, error) {
	key := linkKey(u.cfg.Issuer, idt.Subject)
	unlinked := func(cause error) error {
		return &unlinkedError{Issuer: u.cfg.Issuer, Subject: idt.Subject, cause: cause}
	}
	b, err := h.keys.GetKey(ctx, nsOIDCLink, key)
	if err == nil {
		if _, ok, err := h.people.read(ctx, "Patient", string(b)); err != nil || !ok {
			return "", errors.Join(err, errNotLinked) // a link to a Patient gone: not re-linked here
		}
		return string(b), nil
	}
	if !outcome.Is(err, outcome.NotFound) {
		return "", err
	}
	if u.cfg.DocumentClaim == "" {
		return "", unlinked(nil)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", err
	}
	number, _ := claims[u.cfg.DocumentClaim].(string)
	doc, err := identity.Parse(identity.HKID, number, "")
	if err != nil {
		return "", unlinked(err)
	}
	patient, ok, err := h.people.citizen(ctx, doc)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", unlinked(nil)
	}
	if err := LinkSubject(ctx, h.keys, u.cfg.Issuer, idt.Subject, patient); err != nil {
		return "", err
	}
	return patient, nil
}

func linkKey(issuer, subject string) string { return digest("oidc", issuer, subject) }

// LinkSubject links subject at an upstream issuer to the master Patient
// with id patient: the next upstream sign-in of subject signs in as that
// citizen.
func LinkSubject(ctx context.Context, keys store.Keyed, issuer, subject, patient string) error {
	if issuer == "" || subject == "" || patient == "" {
		return errors.New("login: link: issuer, subject and patient are required")
	}
	if err := keys.PutKey(ctx, store.Key{NS: nsOIDCLink, Key: linkKey(issuer, subject)}, []byte(patient), time.Time{}); err != nil {
		return fmt.Errorf("login: link upstream subject: %w", err)
	}
	return nil
}
