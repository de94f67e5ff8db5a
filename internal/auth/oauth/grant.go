package oauth

import (
	"maps"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/ehealthplus/ehealth/internal/auth/token"
)

// fositeClient shows a registered client to fosite.
type fositeClient struct {
	*Client
	systemTTL time.Duration // access-token lifetime of system clients
}

var (
	_ fosite.Client                         = fositeClient{}
	_ fosite.ClientWithCustomTokenLifespans = fositeClient{}
)

func (c fositeClient) GetID() string             { return c.ID }
func (c fositeClient) GetHashedSecret() []byte   { return nil }
func (c fositeClient) GetRedirectURIs() []string { return c.RedirectURIs }
func (c fositeClient) GetGrantTypes() fosite.Arguments {
	return fosite.Arguments(grantTypes[c.Kind])
}
func (c fositeClient) GetScopes() fosite.Arguments   { return fosite.Arguments(strings.Fields(c.Scope)) }
func (c fositeClient) IsPublic() bool                { return c.Kind == Public }
func (c fositeClient) GetAudience() fosite.Arguments { return nil }

func (c fositeClient) GetResponseTypes() fosite.Arguments {
	if c.Kind == System {
		return fosite.Arguments{}
	}
	return fosite.Arguments{"code"}
}

// GetEffectiveLifespan gives a system client's access tokens their own,
// short lifetime (SMART Backend Services: five minutes).
func (c fositeClient) GetEffectiveLifespan(_ fosite.GrantType, tt fosite.TokenType, fallback time.Duration) time.Duration {
	if c.Kind == System && tt == fosite.AccessToken {
		return c.systemTTL
	}
	return fallback
}

// clientOf returns the registered client behind a fosite request.
func clientOf(r fosite.Requester) *Client {
	if c, ok := r.GetClient().(fositeClient); ok {
		return c.Client
	}
	return nil
}

// grant is the fosite session of one grant: who the tokens are about and
// the launch context, carried from the authorize request through the code
// to every token of the grant, and stored with them.
type grant struct {
	// FHIRUser is the person ("" for a system client's own token).
	FHIRUser string `json:"fhirUser,omitempty"`
	Org      string `json:"org,omitempty"`
	Role     string `json:"role,omitempty"`
	Purpose  string `json:"purpose,omitempty"`
	// Patient and Encounter are the launch context (ids).
	Patient   string `json:"patient,omitempty"`
	Encounter string `json:"encounter,omitempty"`
	// EHRLaunch: the context came from an EHR launch (the EHR shows the
	// patient banner itself).
	EHRLaunch bool `json:"ehrLaunch,omitempty"`
	// SignIn is the hash of the sign-in session the grant came from: an
	// online_access refresh token works only while it lasts.
	SignIn   string    `json:"signIn,omitempty"`
	AuthTime time.Time `json:"authTime,omitzero"`
	Nonce    string    `json:"nonce,omitempty"`
	// Exchanged marks a token-exchange grant: the professional behind a
	// system client.
	Exchanged bool                           `json:"exchanged,omitempty"`
	Expires   map[fosite.TokenType]time.Time `json:"expires,omitempty"`

	// issued holds the claims of the access token just issued for the
	// request, for the token response; never stored.
	issued *token.Claims
}

var _ fosite.Session = (*grant)(nil)

func (g *grant) SetExpiresAt(key fosite.TokenType, exp time.Time) {
	if g.Expires == nil {
		g.Expires = map[fosite.TokenType]time.Time{}
	}
	g.Expires[key] = exp
}

func (g *grant) GetExpiresAt(key fosite.TokenType) time.Time { return g.Expires[key] }
func (g *grant) GetUsername() string                         { return g.FHIRUser }
func (g *grant) GetSubject() string                          { return g.FHIRUser }

func (g *grant) Clone() fosite.Session {
	if g == nil {
		return nil
	}
	c := *g
	c.Expires = maps.Clone(g.Expires)
	c.issued = nil
	return &c
}

// grantOf returns the grant session of a fosite request, never nil.
func grantOf(r fosite.Requester) *grant {
	if g, ok := r.GetSession().(*grant); ok && g != nil {
		return g
	}
	return &grant{}
}
