package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// The keyed-store namespaces of the web apps.
const (
	nsSession = "web.session" // signed-in sessions, by the SHA-256 of the cookie
	nsPending = "web.pending" // sign-ins under way, by the SHA-256 of the state
)

// Defaults of the session lifetimes.
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	// touchEvery is how stale a session's last-seen time may get before a
	// request writes it again: not every page costs a write.
	touchEvery = time.Minute
)

// Session is a signed-in person's state on the server: the tokens the
// authorization server issued to the app, never sent to the browser.
type Session struct {
	App      string    `json:"app"`      // the client id of the app it belongs to
	FHIRUser string    `json:"fhirUser"` // Patient/…, RelatedPerson/…, Practitioner/…
	Patient  string    `json:"patient,omitempty"`
	Org      string    `json:"org,omitempty"`
	Role     string    `json:"role,omitempty"`
	Scope    string    `json:"scope"`
	Access   string    `json:"access"`
	Refresh  string    `json:"refresh,omitempty"`
	Expiry   time.Time `json:"expiry"` // of the access token
	CSRF     string    `json:"csrf"`
	Created  time.Time `json:"created"`
	Seen     time.Time `json:"seen"`
	Flash    []Flash   `json:"flash,omitempty"`

	key string // the store key (hash of the cookie)
}

// Flash is a message shown once on the next page: a catalogue key and its
// arguments, translated when shown.
type Flash struct {
	Kind string `json:"kind"` // "ok", "error", "info"
	Key  string `json:"key"`
	Args []any  `json:"args,omitempty"`
}

// sessions keeps sessions in the keyed store. Each person's sessions of
// an app share a group, so signing out everywhere deletes them all.
type sessions struct {
	keys     store.Keyed
	idle     time.Duration
	absolute time.Duration
	now      func() time.Time
}

// expires is when s ends: idle after its last request, or at the absolute
// limit, whichever is first.
func (ss *sessions) expires(s *Session) time.Time {
	idle, abs := s.Seen.Add(ss.idle), s.Created.Add(ss.absolute)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

// group is the session group of a person in an app.
func group(app, fhirUser string) string {
	sum := sha256.Sum256([]byte(app + " " + fhirUser))
	return hex.EncodeToString(sum[:16])
}

// create stores a new session and returns the cookie value.
func (ss *sessions) create(ctx context.Context, s *Session) (string, error) {
	id := randomToken()
	now := ss.now().UTC()
	s.Created, s.Seen, s.CSRF, s.key = now, now, randomToken(), hashToken(id)
	if err := ss.put(ctx, s); err != nil {
		return "", err
	}
	return id, nil
}

// put writes s back.
func (ss *sessions) put(ctx context.Context, s *Session) error {
	body, err := json.Marshal(s)
	if err != nil {
		return err
	}
	k := store.Key{NS: nsSession, Key: s.key, Group: group(s.App, s.FHIRUser)}
	if err := ss.keys.PutKey(ctx, k, body, ss.expires(s)); err != nil {
		return fmt.Errorf("web: save session: %w", err)
	}
	return nil
}

// get returns the session of a cookie value for app, nil if there is none
// or it has ended, and refreshes its last-seen time now and then.
func (ss *sessions) get(ctx context.Context, app, id string) (*Session, error) {
	if len(id) != 43 {
		return nil, nil
	}
	key := hashToken(id)
	body, err := ss.keys.GetKey(ctx, nsSession, key)
	if outcome.Is(err, outcome.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("web: read session: %w", err)
	}
	var s Session
	if err := json.Unmarshal(body, &s); err != nil || s.App != app {
		return nil, nil
	}
	s.key = key
	now := ss.now()
	if !now.Before(ss.expires(&s)) {
		return nil, ss.keys.DeleteKey(ctx, nsSession, key)
	}
	if now.Sub(s.Seen) >= touchEvery {
		s.Seen = now.UTC()
		if err := ss.put(ctx, &s); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// end deletes one session; everywhere deletes every session of the person
// in the app.
func (ss *sessions) end(ctx context.Context, s *Session, everywhere bool) error {
	if everywhere {
		return ss.keys.DeleteGroup(ctx, nsSession, group(s.App, s.FHIRUser))
	}
	return ss.keys.DeleteKey(ctx, nsSession, s.key)
}

// cookie is an app's session cookie: opaque, HttpOnly, SameSite=Lax,
// Secure with the __Host- prefix wherever the origin is secure (https, or
// a loopback address as browsers treat it).
type cookie struct {
	name   string
	secure bool
}

func (c cookie) set(w http.ResponseWriter, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: c.name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}

func (c cookie) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: c.name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}

func (c cookie) value(r *http.Request) string {
	k, err := r.Cookie(c.name)
	if err != nil {
		return ""
	}
	return k.Value
}

// randomToken is 256 random bits, base64url without padding (43 bytes).
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is the store key of a secret the browser holds.
func hashToken(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
