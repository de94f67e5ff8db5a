package oauth

import (
	"net/http"
)

// capabilities are the SMART App Launch v2 capabilities this server has
// (https://hl7.org/fhir/smart-app-launch/conformance.html#capabilities).
var capabilities = []string{
	"launch-standalone", "launch-ehr",
	"client-public", "client-confidential-asymmetric",
	"permission-v2", "permission-patient", "permission-user", "permission-offline", "permission-online",
	"context-standalone-patient", "context-ehr-patient", "context-ehr-encounter",
	"sso-openid-connect",
}

// scopesSupported lists the scopes a client may be registered for, by form.
var scopesSupported = []string{
	"openid", "fhirUser", "launch", "launch/patient", "launch/encounter",
	"offline_access", "online_access",
	"patient/*.cruds", "user/*.cruds", "system/*.cruds",
}

// endpoint is the absolute URL of one of the server's paths.
func (s *Server) endpoint(path string) string { return s.cfg.Issuer + path }

// grantTypesSupported are the grants offered.
func (s *Server) grantTypesSupported() []string {
	g := []string{grantAuthorizationCode, grantRefreshToken, grantClientCredentials}
	if s.cfg.Roles != nil {
		g = append(g, grantTokenExchange)
	}
	return g
}

// smartConfiguration is the SMART configuration document, served under the
// FHIR base (SMART App Launch v2 §"Using .well-known").
func (s *Server) smartConfiguration(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                s.cfg.Issuer,
		"jwks_uri":                              s.endpoint(PathJWKS),
		"authorization_endpoint":                s.endpoint(PathAuthorize),
		"token_endpoint":                        s.endpoint(PathToken),
		"introspection_endpoint":                s.endpoint(PathIntrospect),
		"revocation_endpoint":                   s.endpoint(PathRevoke),
		"grant_types_supported":                 s.grantTypesSupported(),
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt", "none"},
		"token_endpoint_auth_signing_alg_values_supported": []string{RS384, ES384},
		"scopes_supported":                 scopesSupported,
		"response_types_supported":         []string{"code"},
		"capabilities":                     capabilities,
		"code_challenge_methods_supported": []string{"S256"},
	}, "public, max-age=300")
}

// openIDConfiguration is the OpenID Provider metadata (OpenID Connect
// Discovery 1.0 §3; RFC 8414).
func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                           s.cfg.Issuer,
		"authorization_endpoint":                           s.endpoint(PathAuthorize),
		"token_endpoint":                                   s.endpoint(PathToken),
		"jwks_uri":                                         s.endpoint(PathJWKS),
		"introspection_endpoint":                           s.endpoint(PathIntrospect),
		"revocation_endpoint":                              s.endpoint(PathRevoke),
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query"},
		"grant_types_supported":                            s.grantTypesSupported(),
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{"RS256"},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt", "none"},
		"token_endpoint_auth_signing_alg_values_supported": []string{RS384, ES384},
		"introspection_endpoint_auth_methods_supported":    []string{"private_key_jwt", "bearer"},
		"revocation_endpoint_auth_methods_supported":       []string{"private_key_jwt", "none"},
		"scopes_supported":                                 scopesSupported,
		"claims_supported":                                 []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"ui_locales_supported":                             []string{"en", "zh-Hant"},
		"request_parameter_supported":                      false,
		"authorization_response_iss_parameter_supported":   false,
		"require_pushed_authorization_requests":            false,
		"tls_client_certificate_bound_access_tokens":       false,
	}, "public, max-age=300")
}

// jwks is the JSON Web Key Set of every key that signs this server's
// tokens.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	set, err := s.jwksDocument(r.Context())
	if err != nil {
		s.log.Error("oauth: jwks", "err", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "The keys cannot be read.")
		return
	}
	writeJSON(w, set, "public, max-age=300")
}
