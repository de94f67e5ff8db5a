package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// nsSession is the keyed-store namespace of sign-in sessions, keyed by the
// SHA-256 of the cookie's value.
const nsSession = "oauth.session"

// SessionCookie is the name of the sign-in cookie. The __Host- prefix makes
// browsers insist on Secure, Path=/ and no Domain.
const SessionCookie = "__Host-ehealth-session"

// DefaultSessionTTL is how long a sign-in lasts.
const DefaultSessionTTL = 8 * time.Hour

// Who is the signed-in person, as the login recorded them.
type Who struct {
	// FHIRUser is the person: Patient/ID (a citizen), RelatedPerson/ID or
	// Practitioner/ID.
	FHIRUser string `json:"fhirUser"`
	// Org and Role are a professional's provider (Organization/ID) and role
	// there (PractitionerRole/ID); a professional at two providers has two
	// accounts, so one sign-in is at one provider.
	Org  string `json:"org,omitempty"`
	Role string `json:"role,omitempty"`
	// Purpose is a purpose of use the professional declared at sign-in
	// (v3 PurposeOfUse), if any.
	Purpose string `json:"purpose,omitempty"`
	// AuthTime is when the person authenticated (the ID token's auth_time).
	AuthTime time.Time `json:"authTime"`
	// Method is how: "passkey", "otp", "password+totp", "oidc:<issuer>" …
	Method string `json:"method"`
}

var fhirUserPattern = regexp.MustCompile(`^(Patient|RelatedPerson|Practitioner)/[A-Za-z0-9\-.]{1,64}$`)

// check applies the token rules to who (so a session can always become a
// token): a person reference, a role only for a practitioner at an org.
func (w Who) check() error {
	if !fhirUserPattern.MatchString(w.FHIRUser) {
		return fmt.Errorf("fhirUser %q: want Patient/ID, RelatedPerson/ID or Practitioner/ID", w.FHIRUser)
	}
	c := token.Claims{Subject: w.FHIRUser, ClientID: "-", FHIRUser: w.FHIRUser, Org: w.Org, Role: w.Role, Purpose: w.Purpose}
	c.Scope = userContexts
	return c.Check()
}

// Sessions keeps sign-in sessions in the keyed store; the browser holds a
// random session id in an HttpOnly, Secure, SameSite=Lax cookie.
type Sessions struct {
	keys store.Keyed
	ttl  time.Duration
	now  func() time.Time
}

// NewSessions returns sign-in sessions kept in keys, each lasting ttl
// (DefaultSessionTTL if zero).
func NewSessions(keys store.Keyed, ttl time.Duration) *Sessions {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	return &Sessions{keys: keys, ttl: ttl, now: time.Now}
}

// Start records who as signed in and sets the session cookie on w. The
// login calls it once the person has authenticated; it returns the session
// id (for a test to send as the cookie).
func (s *Sessions) Start(ctx context.Context, w http.ResponseWriter, who Who) (string, error) {
	if err := who.check(); err != nil {
		return "", outcome.New(outcome.Invalid, "oauth: session: %v", err)
	}
	if who.AuthTime.IsZero() {
		who.AuthTime = s.now()
	}
	who.AuthTime = who.AuthTime.UTC().Truncate(time.Second)
	body, err := json.Marshal(who)
	if err != nil {
		return "", err
	}
	id, key, err := newSecret()
	if err != nil {
		return "", err
	}
	expires := s.now().Add(s.ttl)
	if err := s.keys.PutKey(ctx, store.Key{NS: nsSession, Key: key}, body, expires); err != nil {
		return "", fmt.Errorf("oauth: start session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", Expires: expires,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	return id, nil
}

// Current returns the signed-in person of a request and the key of their
// session; ok is false when there is none (no cookie, an unknown or
// expired one).
func (s *Sessions) Current(r *http.Request) (who Who, key string, ok bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || len(c.Value) != 43 {
		return Who{}, "", false
	}
	key = hashSecret(c.Value)
	body, err := s.keys.GetKey(r.Context(), nsSession, key)
	if err != nil || json.Unmarshal(body, &who) != nil {
		return Who{}, "", false
	}
	return who, key, true
}

// End signs the request's person out: the session is deleted (online_access
// refresh tokens of it stop working) and the cookie cleared.
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := s.keys.DeleteKey(r.Context(), nsSession, hashSecret(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	return nil
}

// alive reports whether the session with key still lasts.
func (s *Sessions) alive(ctx context.Context, key string) bool {
	_, err := s.keys.GetKey(ctx, nsSession, key)
	return err == nil
}
