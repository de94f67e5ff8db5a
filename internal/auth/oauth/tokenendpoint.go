package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ory/fosite"
)

// maxFormBytes bounds the body of token, introspection and revocation
// requests.
const maxFormBytes = 64 << 10

// token is the token endpoint (RFC 6749 §3.2): authorization code (with
// PKCE), refresh token (rotated), client credentials and token exchange.
// Each client is rate-limited; the response adds SMART's launch context
// (patient, encounter), fhirUser and, for openid, an ID token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.writeAccessError(w, r, nil, fosite.ErrInvalidRequest.WithHint("The body is not a form."))
		return
	}
	if wait, ok := s.limiter.Allow(rateKey(r), s.now()); !ok {
		writeTooMany(w, wait)
		return
	}
	ar, err := s.provider.NewAccessRequest(ctx, r, &grant{})
	if err != nil {
		s.writeAccessError(w, r, ar, err)
		return
	}
	if ar.GetGrantTypes().ExactOne(grantClientCredentials) {
		if err := grantSystemScopes(ar); err != nil {
			s.writeAccessError(w, r, ar, err)
			return
		}
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.writeAccessError(w, r, ar, err)
		return
	}
	if err := s.decorate(ctx, ar, resp); err != nil {
		s.writeAccessError(w, r, ar, err)
		return
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// grantSystemScopes grants a client_credentials request its requested
// scopes narrowed to the client's registration and to system/ scopes.
func grantSystemScopes(ar fosite.AccessRequester) error {
	c := clientOf(ar)
	if c == nil {
		return fosite.ErrInvalidClient
	}
	if !ar.GetClient().GetGrantTypes().Has(grantClientCredentials) {
		return fosite.ErrUnauthorizedClient.WithHint("Only system clients may use client_credentials.")
	}
	set, err := grantedSet(ar.GetRequestedScopes(), c, systemContexts)
	if err != nil {
		return fosite.ErrInvalidScope.WithHint(err.Error())
	}
	if set.String() == "" {
		return fosite.ErrInvalidScope.WithHint("None of the requested scopes is a system/ scope registered for this client.")
	}
	for _, sc := range scopeList(set) {
		ar.GrantScope(sc)
	}
	return nil
}

// decorate adds to a token response what SMART asks for: the scope as
// actually granted, the launch context, fhirUser, and an ID token when
// openid was granted to a person.
func (s *Server) decorate(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	g := grantOf(ar)
	if g.issued != nil {
		resp.SetScopes(fosite.Arguments(scopeList(g.issued.Scope)))
	}
	if g.Patient != "" {
		resp.SetExtra("patient", g.Patient)
		resp.SetExtra("need_patient_banner", !g.EHRLaunch)
	}
	if g.Encounter != "" {
		resp.SetExtra("encounter", g.Encounter)
	}
	if g.FHIRUser != "" {
		resp.SetExtra("fhirUser", g.FHIRUser)
	}
	if g.Exchanged {
		resp.SetExtra("issued_token_type", tokenTypeAccessToken)
	}
	if g.FHIRUser == "" || g.issued == nil || !g.issued.Scope.Has("openid") {
		return nil
	}
	idToken, err := s.idToken(ctx, clientOf(ar), g)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	resp.SetExtra("id_token", idToken)
	return nil
}

// writeAccessError writes an RFC 6749 §5.2 error; server errors are logged
// with their cause (never with the request's credentials).
func (s *Server) writeAccessError(w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField >= 500 {
		s.log.Error("oauth: token endpoint", "path", r.URL.Path, "err", err, "debug", rfc.DebugField)
	}
	s.provider.WriteAccessError(r.Context(), w, ar, err)
}

// rateKey is whom a token request counts against: the client_id, or the
// iss of a client assertion (read unverified: the limit comes before the
// signature check, which is the expensive part), or else the remote IP.
func rateKey(r *http.Request) string {
	if id := r.PostForm.Get("client_id"); id != "" {
		return "client " + id
	}
	if p, err := parseAssertion(r.PostForm.Get("client_assertion")); err == nil {
		return "client " + p.claims.Issuer
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip " + host
}

// writeTooMany answers a rate-limited request: 429 with Retry-After.
func writeTooMany(w http.ResponseWriter, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeJSONError(w, http.StatusTooManyRequests, "invalid_request",
		fmt.Sprintf("Too many token requests from this client; retry after %d s.", max(secs, 1)))
}

// writeJSONError writes an RFC 6749 error object.
func writeJSONError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// writeJSON writes a JSON document.
func writeJSON(w http.ResponseWriter, v any, cache string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cache)
	json.NewEncoder(w).Encode(v)
}

// formOf returns a request's form for handlers that parse it themselves.
func formOf(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}
