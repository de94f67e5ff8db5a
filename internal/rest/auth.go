package rest

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Tokens verifies bearer access tokens (token.Service does).
type Tokens interface {
	Verify(ctx context.Context, raw string) (token.Claims, error)
}

// claimsKey holds a request's verified token claims in its context.
type claimsKey struct{}

// viewKey holds the role-based view of the role a request's token acts in.
type viewKey struct{}

// public reports whether a request needs no token: the CapabilityStatement
// and the SMART discovery document stay public (SMART App Launch,
// https://hl7.org/fhir/smart-app-launch/conformance.html).
func public(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
		return false
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	return p == "/fhir/metadata" || strings.HasPrefix(p, "/fhir/.well-known/")
}

// authenticate lets through requests with a valid bearer token, its claims
// in the context, and public ones; every other request gets 401 with a
// WWW-Authenticate challenge (RFC 6750). There is no switch to turn it off.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r) {
			next.ServeHTTP(w, r)
			return
		}
		claims, err := a.verify(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", token.Challenge(a.realm(r), err))
			a.writeError(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), claimsKey{}, claims)
		if a.cfg.View != nil && claims.Role != "" && !claims.Operator {
			view, err := a.cfg.View(r.Context(), claims.Role)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			ctx = context.WithValue(ctx, viewKey{}, view)
		}
		r = r.WithContext(ctx)
		next.ServeHTTP(w, r.WithContext(a.auditingWrites(r)))
	})
}

// verify reads and checks the request's bearer token.
func (a *API) verify(r *http.Request) (token.Claims, error) {
	if a.cfg.Tokens == nil {
		return token.Claims{}, outcome.New(outcome.Unauthorized, "this server has no token verifier configured; it serves no requests")
	}
	raw, err := token.FromRequest(r)
	if err != nil {
		return token.Claims{}, err
	}
	claims, err := a.cfg.Tokens.Verify(r.Context(), raw)
	if err != nil || a.cfg.Active == nil {
		return claims, err
	}
	active, err := a.cfg.Active(r.Context(), claims)
	if err != nil {
		return token.Claims{}, fmt.Errorf("token status: %w", err)
	}
	if !active {
		return token.Claims{}, outcome.New(outcome.Unauthorized, "the token has been revoked")
	}
	return claims, nil
}

// realm is the protection space named in challenges: the FHIR base.
func (a *API) realm(r *http.Request) string { return a.baseURL(r) }

// caller is who makes the request, from its verified token: the operator
// (full access, consent not applied — every use audited once audit lands),
// or a person or system limited by the consent decision (Config.Access),
// the token's scopes and, for patient/ scopes, the patient in context —
// the launch patient, else the citizen the token is for.
func (a *API) caller(r *http.Request) resource.Caller {
	claims, ok := r.Context().Value(claimsKey{}).(token.Claims)
	if !ok { // unreachable behind authenticate; deny everything if it happens
		return resource.Caller{Writer: "unauthenticated", Grants: &resource.Grants{}}
	}
	if claims.Operator {
		return resource.Caller{Writer: "operator", Who: resource.Who{Operator: true}}
	}
	patient := claims.Patient
	if patient == "" {
		patient, _ = strings.CutPrefix(claims.FHIRUser, "Patient/")
	}
	writer := claims.ClientID
	if claims.Org != "" {
		writer = claims.Org
	}
	who := resource.Who{FHIRUser: claims.FHIRUser, Org: claims.Org, Patient: claims.Patient}
	access := store.Access{}
	if a.cfg.Access != nil {
		access = a.cfg.Access(who)
	}
	view, _ := r.Context().Value(viewKey{}).(resource.View)
	return resource.Caller{Writer: writer, Access: &access, Grants: &resource.Grants{Scopes: claims.Scope, Patient: patient}, Who: who, View: view}
}
