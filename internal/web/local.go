package web

import "github.com/ehealthplus/ehealth/internal/outcome"

// Sessions an app starts itself. The operator console signs operators in
// with its own form (an operator token is never issued to an OAuth
// client, so the console cannot be one for them): it checks the
// operator's factors, mints the token server-side and keeps it in a
// Session like any other, with no refresh token. These let it start,
// save and end such a session; everything else about the session —
// cookie, idle and absolute expiry, CSRF on every form, sign-out — is
// the foundation's.

// StartSession signs the request's browser in with s: a new session (a
// new cookie value and CSRF token; any session the browser had is
// ended), which c.Session and c.FHIR then use.
func (c *Ctx) StartSession(s *Session) error {
	if s == nil || s.Access == "" || s.FHIRUser == "" {
		return outcome.New(outcome.Internal, "web: a session needs a person and an access token")
	}
	ctx := c.R.Context()
	if old := c.Session; old != nil {
		if err := c.App.site.sessions.end(ctx, old, false); err != nil {
			return err
		}
	}
	s.App, s.Flash = c.App.client.id, nil
	id, err := c.App.site.sessions.create(ctx, s)
	if err != nil {
		return err
	}
	c.App.cookie.set(c.W, id, c.App.site.cfg.AbsoluteTimeout)
	c.Session = s
	c.FHIR = c.App.fhirFor(c)
	return nil
}

// SaveSession writes back a change to c.Session (a renewed access token).
func (c *Ctx) SaveSession() error {
	if c.Session == nil {
		return outcome.New(outcome.Internal, "web: no session to save")
	}
	return c.App.site.sessions.put(c.R.Context(), c.Session)
}

// EndSession ends c.Session (every session of its person in the app with
// everywhere) and clears the cookie.
func (c *Ctx) EndSession(everywhere bool) error {
	if c.Session == nil {
		return nil
	}
	err := c.App.site.sessions.end(c.R.Context(), c.Session, everywhere)
	c.App.cookie.clear(c.W)
	c.Session, c.FHIR = nil, nil
	return err
}
