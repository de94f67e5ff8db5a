package oauth

import (
	"context"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/ehealthplus/ehealth/internal/auth/token"
)

// introspect is the introspection endpoint (RFC 7662). Only authenticated
// confidential and system clients may call it, by private_key_jwt or with
// an active access token of their own as Bearer; a client sees its own
// tokens, and one registered with Introspect (a resource server) sees any.
// A token the caller may not see, or an unknown, expired or revoked one, is
// {"active": false} alike (§2.2), so nothing is revealed.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, err := formOf(w, r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The body is not a form.")
		return
	}
	caller, err := s.introspectionCaller(ctx, r, form)
	if err != nil {
		rfc := fosite.ErrorToRFC6749Error(err)
		if rfc.CodeField >= 500 {
			s.log.Error("oauth: introspect", "err", err)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="eHealth+"`)
		writeJSONError(w, http.StatusUnauthorized, "invalid_client", rfc.GetDescription())
		return
	}
	raw := form.Get("token")
	if raw == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The token parameter is missing.")
		return
	}
	writeJSON(w, s.introspection(ctx, caller, raw, form.Get("token_type_hint")), "no-store")
}

// introspectionCaller authenticates the caller of the introspection
// endpoint.
func (s *Server) introspectionCaller(ctx context.Context, r *http.Request, form map[string][]string) (*Client, error) {
	var c *Client
	if auth := r.Header.Get("Authorization"); auth != "" {
		raw, err := token.FromRequest(r)
		if err != nil {
			return nil, fosite.ErrInvalidClient.WithHint("The Authorization header is not a Bearer token.")
		}
		cl, err := s.tokens.Verify(ctx, raw)
		if err != nil {
			return nil, fosite.ErrInvalidClient.WithHint("The Bearer token is not valid.")
		}
		if _, err := s.storage.GetAccessTokenSession(ctx, cl.ID, nil); err != nil {
			return nil, fosite.ErrInvalidClient.WithHint("The Bearer token is not active.")
		}
		if c, err = s.clients.Get(ctx, cl.ClientID); err != nil || c.Disabled {
			return nil, fosite.ErrInvalidClient.WithHint("The Bearer token's client is not registered.")
		}
	} else {
		fc, err := s.authenticateClient(ctx, r, form)
		if err != nil {
			return nil, err
		}
		c = fc.(fositeClient).Client
	}
	if c.Kind == Public {
		return nil, fosite.ErrInvalidClient.WithHint("Public clients cannot introspect tokens.")
	}
	return c, nil
}

// introspection is the RFC 7662 §2.2 answer about raw for caller.
func (s *Server) introspection(ctx context.Context, caller *Client, raw, hint string) map[string]any {
	inactive := map[string]any{"active": false}
	use, ar, err := s.provider.IntrospectToken(ctx, raw, fosite.TokenUse(hint), &grant{})
	if err != nil {
		return inactive
	}
	owner := clientOf(ar)
	if owner == nil || !caller.Introspect && owner.ID != caller.ID {
		return inactive
	}
	g := grantOf(ar)
	if use != fosite.AccessToken {
		out := map[string]any{"active": true, "client_id": owner.ID, "token_type": "refresh_token",
			"scope": strings.Join(ar.GetGrantedScopes(), " "), "iss": s.cfg.Issuer}
		if exp := g.GetExpiresAt(fosite.RefreshToken); !exp.IsZero() {
			out["exp"] = exp.Unix()
		}
		if g.FHIRUser != "" {
			out["sub"], out["fhirUser"] = g.FHIRUser, g.FHIRUser
		}
		return out
	}
	cl, err := s.tokens.Verify(ctx, raw)
	if err != nil {
		return inactive
	}
	out := map[string]any{"active": true, "client_id": cl.ClientID, "token_type": "Bearer",
		"scope": cl.Scope.String(), "sub": cl.Subject, "iss": cl.Issuer, "aud": cl.Audience,
		"exp": cl.Expiry.Unix(), "iat": cl.IssuedAt.Unix(), "jti": cl.ID}
	for k, v := range map[string]string{"fhirUser": cl.FHIRUser, "org": cl.Org, "role": cl.Role,
		"purpose": cl.Purpose, "patient": cl.Patient} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// revoke is the revocation endpoint (RFC 7009): a client revokes one of
// its tokens, and with it the whole grant (every access and refresh token
// of it). An unknown token is a success (§2.2).
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := s.provider.NewRevocationRequest(ctx, r)
	if err != nil {
		if rfc := fosite.ErrorToRFC6749Error(err); rfc.CodeField >= 500 {
			s.log.Error("oauth: revoke", "err", err, "debug", rfc.DebugField)
		}
	}
	s.provider.WriteRevocationResponse(ctx, w, err)
}
