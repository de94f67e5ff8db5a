package oauth

import (
	"context"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
)

// The token types of RFC 8693 §3.
const (
	tokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
)

// exchangeHandler is the token exchange grant (RFC 8693) for the
// professional behind a clinic system. The system client (authenticated
// with private_key_jwt, like every request of it) sends:
//
//	grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//	subject_token=<JWT signed with the client's key: iss the client_id,
//	    sub Practitioner/ID, role PractitionerRole/ID, purpose a PurposeOfUse
//	    code, aud the token endpoint, a short exp and a fresh jti>
//	subject_token_type=urn:ietf:params:oauth:token-type:jwt
//	actor_token=<the client's own access token from client_credentials>
//	actor_token_type=urn:ietf:params:oauth:token-type:access_token
//	scope=user/… (optional; what the client is registered for otherwise)
//
// The subject is the professional the new token is about; the actor is the
// system acting for them, whose token must be its own, active, and for its
// provider. The professional's role must be theirs at that provider
// (Config.Roles). The new token is user-level: fhirUser, role, org (the
// client's), purpose, and only user/ scopes; no refresh token.
type exchangeHandler struct{ s *Server }

func (h *exchangeHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

func (h *exchangeHandler) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return r.GetGrantTypes().ExactOne(grantTokenExchange)
}

func (h *exchangeHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	s := h.s
	c := clientOf(r)
	if c == nil || c.Kind != System || !r.GetClient().GetGrantTypes().Has(grantTokenExchange) {
		return fosite.ErrUnauthorizedClient.WithHint("Only a system client may exchange tokens for its professionals.")
	}
	if s.cfg.Roles == nil {
		return fosite.ErrUnsupportedGrantType.WithHint("Token exchange is not enabled on this server.")
	}
	f := r.GetRequestForm()
	switch {
	case f.Get("subject_token_type") != tokenTypeJWT:
		return fosite.ErrInvalidRequest.WithHintf("subject_token_type must be %s (the professional's assertion).", tokenTypeJWT)
	case f.Get("actor_token_type") != tokenTypeAccessToken:
		return fosite.ErrInvalidRequest.WithHintf("actor_token_type must be %s (the client's own access token).", tokenTypeAccessToken)
	case f.Has("requested_token_type") && f.Get("requested_token_type") != tokenTypeAccessToken:
		return fosite.ErrInvalidRequest.WithHint("Only access tokens are issued by exchange.")
	case f.Has("audience") && strings.TrimSuffix(f.Get("audience"), "/") != strings.TrimSuffix(s.cfg.FHIRBaseURL, "/"),
		f.Has("resource") && strings.TrimSuffix(f.Get("resource"), "/") != strings.TrimSuffix(s.cfg.FHIRBaseURL, "/"):
		return fosite.ErrInvalidRequest.WithHint("The only audience is this server's FHIR base URL.")
	}
	if err := h.checkActor(ctx, c, f.Get("actor_token")); err != nil {
		return err
	}
	g, err := h.subject(ctx, c, f.Get("subject_token"))
	if err != nil {
		return err
	}
	req := c.scope
	if f.Get("scope") != "" {
		if req, err = scope.Parse(f.Get("scope")); err != nil {
			return fosite.ErrInvalidScope.WithHint(err.Error())
		}
	}
	set := scope.Narrow(scope.Narrow(req, c.scope), exchangeContexts)
	if set.String() == "" {
		return fosite.ErrInvalidScope.WithHint("The client is registered for no user/ scope to exchange for.")
	}
	for _, sc := range scopeList(set) {
		r.GrantScope(sc)
	}
	g.SetExpiresAt(fosite.AccessToken, s.now().Add(s.cfg.AccessTokenTTL).Round(time.Second))
	r.SetSession(g)
	return nil
}

// checkActor verifies the actor token: the client's own system token, for
// its provider, still active.
func (h *exchangeHandler) checkActor(ctx context.Context, c *Client, raw string) error {
	s := h.s
	cl, err := s.tokens.Verify(ctx, raw)
	if err != nil {
		return fosite.ErrInvalidGrant.WithHint("The actor_token is not a valid access token.")
	}
	switch {
	case cl.ClientID != c.ID || cl.FHIRUser != "" || cl.Org != c.Org:
		return fosite.ErrInvalidGrant.WithHint("The actor_token must be the client's own system token.")
	}
	if _, err := s.storage.GetAccessTokenSession(ctx, cl.ID, nil); err != nil {
		return fosite.ErrInvalidGrant.WithHint("The actor_token has been revoked.")
	}
	return nil
}

// subject verifies the professional's assertion and returns the grant it
// names.
func (h *exchangeHandler) subject(ctx context.Context, c *Client, raw string) (*grant, error) {
	s := h.s
	_, a, err := s.verifyAssertion(ctx, raw, c.ID, fosite.ErrInvalidGrant)
	if err != nil {
		return nil, err
	}
	g := &grant{FHIRUser: a.Subject, Org: c.Org, Role: a.Role, Purpose: a.Purpose, Exchanged: true, AuthTime: s.now()}
	probe := token.Claims{Subject: g.FHIRUser, ClientID: c.ID, Scope: exchangeContexts,
		FHIRUser: g.FHIRUser, Org: g.Org, Role: g.Role, Purpose: g.Purpose}
	switch {
	case !strings.HasPrefix(a.Subject, "Practitioner/"):
		return nil, fosite.ErrInvalidGrant.WithHint("The subject_token's sub must be the professional, Practitioner/ID.")
	case a.Role == "" || a.Purpose == "":
		return nil, fosite.ErrInvalidGrant.WithHint("The subject_token must name the professional's role (PractitionerRole/ID) and a purpose of use.")
	}
	if err := probe.Check(); err != nil {
		return nil, fosite.ErrInvalidGrant.WithHint("The subject_token's claims are invalid: " + err.Error())
	}
	if err := s.cfg.Roles.CheckRole(ctx, g.FHIRUser, g.Role, g.Org); err != nil {
		return nil, fosite.ErrInvalidGrant.WithHint("The professional's role cannot be confirmed: " + err.Error())
	}
	return g, nil
}

func (h *exchangeHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	s := h.s
	raw, jti, err := s.strategy.GenerateAccessToken(ctx, r)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if err := s.storage.CreateAccessTokenSession(ctx, jti, r.Sanitize(nil)); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	resp.SetAccessToken(raw)
	resp.SetTokenType("bearer")
	resp.SetExpiresIn(grantOf(r).GetExpiresAt(fosite.AccessToken).Sub(s.now()).Round(time.Second))
	resp.SetScopes(r.GetGrantedScopes())
	return nil
}

// onlineAccessHandler refuses an online_access refresh token once the
// sign-in session it came from has ended (SMART: online access lasts while
// the user is online). It runs after fosite's refresh handler has loaded
// the grant.
type onlineAccessHandler struct{ s *Server }

func (h *onlineAccessHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

func (h *onlineAccessHandler) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return r.GetGrantTypes().ExactOne(grantRefreshToken)
}

func (h *onlineAccessHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	g := grantOf(r)
	if r.GetGrantedScopes().Has("offline_access") || !r.GetGrantedScopes().Has("online_access") {
		return nil
	}
	if g.SignIn == "" || !h.s.sessions.alive(ctx, g.SignIn) {
		return fosite.ErrInvalidGrant.WithHint("The sign-in this online_access grant belongs to has ended.")
	}
	return nil
}

func (h *onlineAccessHandler) PopulateTokenEndpointResponse(context.Context, fosite.AccessRequester, fosite.AccessResponder) error {
	return nil
}
