package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/ory/fosite"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// The keyed-store namespaces of fosite's state. Codes and refresh tokens
// are keyed by their hash, access tokens by jti; access and refresh records
// carry the grant's request id as their group, so one DeleteGroup revokes
// a whole grant (a refresh-token family).
const (
	nsCode    = "oauth.code"
	nsPKCE    = "oauth.pkce"
	nsAccess  = "oauth.access"
	nsRefresh = "oauth.refresh"
	nsJTI     = "oauth.jti"
)

// usedCodeKept is how long a used authorization code is remembered after
// it would have expired, so a second use is recognised and revokes what the
// first issued.
const usedCodeKept = time.Hour

// storage is fosite's storage over the keyed store.
type storage struct {
	keys      store.Keyed
	clients   *Registry
	systemTTL time.Duration
	now       func() time.Time
}

// record is a fosite request as stored.
type record struct {
	ID                string     `json:"id"`
	RequestedAt       time.Time  `json:"requestedAt"`
	ClientID          string     `json:"clientId"`
	RequestedScope    []string   `json:"requestedScope,omitempty"`
	GrantedScope      []string   `json:"grantedScope,omitempty"`
	RequestedAudience []string   `json:"requestedAudience,omitempty"`
	GrantedAudience   []string   `json:"grantedAudience,omitempty"`
	Form              url.Values `json:"form,omitempty"`
	Grant             *grant     `json:"grant"`
	// Active is false for a used code or a rotated refresh token.
	Active  bool      `json:"active"`
	Expires time.Time `json:"expires"`
}

func newRecord(r fosite.Requester, expires time.Time) record {
	return record{
		ID: r.GetID(), RequestedAt: r.GetRequestedAt(), ClientID: r.GetClient().GetID(),
		RequestedScope: r.GetRequestedScopes(), GrantedScope: r.GetGrantedScopes(),
		RequestedAudience: r.GetRequestedAudience(), GrantedAudience: r.GetGrantedAudience(),
		Form: r.GetRequestForm(), Grant: grantOf(r).Clone().(*grant), Active: true, Expires: expires,
	}
}

// request rebuilds the fosite request, with the client as registered now:
// a disabled client's grants stop working.
func (s *storage) request(ctx context.Context, rec record) (fosite.Requester, error) {
	c, err := s.GetClient(ctx, rec.ClientID)
	if err != nil {
		return nil, err
	}
	if rec.Grant == nil {
		rec.Grant = &grant{}
	}
	return &fosite.Request{
		ID: rec.ID, RequestedAt: rec.RequestedAt, Client: c,
		RequestedScope: rec.RequestedScope, GrantedScope: rec.GrantedScope,
		RequestedAudience: rec.RequestedAudience, GrantedAudience: rec.GrantedAudience,
		Form: rec.Form, Session: rec.Grant,
	}, nil
}

func (s *storage) put(ctx context.Context, ns, key, group string, rec record) error {
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return s.keys.PutKey(ctx, store.Key{NS: ns, Key: key, Group: group}, body, rec.Expires)
}

// get reads a record; a missing or expired one is fosite.ErrNotFound.
func (s *storage) get(ctx context.Context, ns, key string, take bool) (record, error) {
	read := s.keys.GetKey
	if take {
		read = s.keys.TakeKey
	}
	body, err := read(ctx, ns, key)
	if outcome.Is(err, outcome.NotFound) {
		return record{}, fosite.ErrNotFound
	}
	if err != nil {
		return record{}, fmt.Errorf("oauth: read %s: %w", ns, err)
	}
	var rec record
	if err := json.Unmarshal(body, &rec); err != nil {
		return record{}, fmt.Errorf("oauth: stored %s: %w", ns, err)
	}
	return rec, nil
}

// GetClient returns an enabled registered client; any other is
// fosite.ErrNotFound.
func (s *storage) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.clients.Get(ctx, id)
	if outcome.Is(err, outcome.NotFound) || err == nil && c.Disabled {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return fositeClient{Client: c, systemTTL: s.systemTTL}, nil
}

// ClientAssertionJWTValid and SetClientAssertionJWT are fosite's replay
// cache for its own client authentication, which this package replaces
// (clientauth.go); they keep the same cache in case fosite ever calls them.
func (s *storage) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	if _, err := s.keys.GetKey(ctx, nsJTI, jti); err == nil {
		return fosite.ErrJTIKnown
	}
	return nil
}

func (s *storage) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	err := s.keys.InsertKey(ctx, store.Key{NS: nsJTI, Key: jti}, []byte("{}"), exp)
	if outcome.Is(err, outcome.Conflict) {
		return fosite.ErrJTIKnown
	}
	return err
}

func (s *storage) CreateAuthorizeCodeSession(ctx context.Context, sig string, r fosite.Requester) error {
	exp := grantOf(r).GetExpiresAt(fosite.AuthorizeCode)
	return s.put(ctx, nsCode, sig, "", newRecord(r, exp.Add(usedCodeKept)))
}

// GetAuthorizeCodeSession returns the code's request; a used code gives
// the request and fosite.ErrInvalidatedAuthorizeCode, so fosite revokes
// the tokens the first use issued.
func (s *storage) GetAuthorizeCodeSession(ctx context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	rec, err := s.get(ctx, nsCode, sig, false)
	if err != nil {
		return nil, err
	}
	r, err := s.request(ctx, rec)
	if err != nil {
		return nil, err
	}
	if !rec.Active {
		return r, fosite.ErrInvalidatedAuthorizeCode
	}
	return r, nil
}

// InvalidateAuthorizeCodeSession marks the code used. It takes the record
// atomically, so of two concurrent exchanges of one code only one gets
// past here; the other fails (and its token is never handed out).
func (s *storage) InvalidateAuthorizeCodeSession(ctx context.Context, sig string) error {
	rec, err := s.get(ctx, nsCode, sig, true)
	if err != nil {
		return err
	}
	wasActive := rec.Active
	rec.Active = false
	if err := s.put(ctx, nsCode, sig, "", rec); err != nil {
		return err
	}
	if !wasActive {
		return fosite.ErrInvalidatedAuthorizeCode
	}
	return nil
}

func (s *storage) CreatePKCERequestSession(ctx context.Context, sig string, r fosite.Requester) error {
	exp := grantOf(r).GetExpiresAt(fosite.AuthorizeCode)
	return s.put(ctx, nsPKCE, sig, "", newRecord(r, exp))
}

func (s *storage) GetPKCERequestSession(ctx context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	rec, err := s.get(ctx, nsPKCE, sig, false)
	if err != nil {
		return nil, err
	}
	return s.request(ctx, rec)
}

func (s *storage) DeletePKCERequestSession(ctx context.Context, sig string) error {
	return s.keys.DeleteKey(ctx, nsPKCE, sig)
}

// CreateAccessTokenSession records an issued access token by its jti, in
// its grant's group, until it expires.
func (s *storage) CreateAccessTokenSession(ctx context.Context, jti string, r fosite.Requester) error {
	exp := grantOf(r).GetExpiresAt(fosite.AccessToken)
	return s.put(ctx, nsAccess, jti, r.GetID(), newRecord(r, exp))
}

func (s *storage) GetAccessTokenSession(ctx context.Context, jti string, _ fosite.Session) (fosite.Requester, error) {
	rec, err := s.get(ctx, nsAccess, jti, false)
	if err != nil {
		return nil, err
	}
	return s.request(ctx, rec)
}

func (s *storage) DeleteAccessTokenSession(ctx context.Context, jti string) error {
	return s.keys.DeleteKey(ctx, nsAccess, jti)
}

func (s *storage) CreateRefreshTokenSession(ctx context.Context, sig, _ string, r fosite.Requester) error {
	exp := grantOf(r).GetExpiresAt(fosite.RefreshToken)
	return s.put(ctx, nsRefresh, sig, r.GetID(), newRecord(r, exp))
}

// GetRefreshTokenSession returns the token's request; a rotated token gives
// the request and fosite.ErrInactiveToken, so fosite revokes its family.
func (s *storage) GetRefreshTokenSession(ctx context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	rec, err := s.get(ctx, nsRefresh, sig, false)
	if err != nil {
		return nil, err
	}
	r, err := s.request(ctx, rec)
	if err != nil {
		return nil, err
	}
	if !rec.Active {
		return r, fosite.ErrInactiveToken
	}
	return r, nil
}

func (s *storage) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	return s.keys.DeleteKey(ctx, nsRefresh, sig)
}

// RotateRefreshToken marks a used refresh token inactive, keeping it until
// it would have expired so a later use is seen as reuse. It takes the
// record atomically: of two concurrent uses one finds it gone or inactive,
// which is reuse too, and the whole family is revoked.
func (s *storage) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	rec, err := s.get(ctx, nsRefresh, sig, true)
	if err == nil && rec.Active {
		rec.Active = false
		return s.put(ctx, nsRefresh, sig, requestID, rec)
	}
	if err != nil && err != fosite.ErrNotFound {
		return err
	}
	if err := s.revokeGrant(ctx, requestID); err != nil {
		return err
	}
	return fosite.ErrInactiveToken
}

func (s *storage) RevokeRefreshToken(ctx context.Context, requestID string) error {
	return s.keys.DeleteGroup(ctx, nsRefresh, requestID)
}

func (s *storage) RevokeAccessToken(ctx context.Context, requestID string) error {
	return s.keys.DeleteGroup(ctx, nsAccess, requestID)
}

// revokeGrant removes every access and refresh token of a grant.
func (s *storage) revokeGrant(ctx context.Context, requestID string) error {
	if err := s.RevokeRefreshToken(ctx, requestID); err != nil {
		return err
	}
	return s.RevokeAccessToken(ctx, requestID)
}
