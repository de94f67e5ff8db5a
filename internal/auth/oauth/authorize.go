package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
)

// authorize is the authorization endpoint (RFC 6749 §3.1, SMART App Launch
// §"Obtain authorization code"). The request is checked by fosite (client,
// exact redirect URI, response type, scope syntax), then by the SMART rules
// (aud, PKCE S256, redirect_uri present); then the signed-in person is
// needed, and the launch context: an EHR launch's, the person themself, or
// the patient chosen on the picker. Registered scopes are approved without
// a consent screen; the code goes back to the redirect URI.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var chosen string
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err == nil && r.PostForm.Has("pending") {
			resumed, patient, err := s.resumePending(r)
			if err != nil {
				writeAuthorizePage(w, http.StatusBadRequest, err.Error())
				return
			}
			r, chosen = resumed, patient
		}
	}
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	if err := s.checkSMART(ar); err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	if chosen == cancelled {
		s.writeAuthorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint("The person declined."))
		return
	}
	who, signIn, ok := s.sessions.Current(r)
	if !ok {
		if ar.GetRequestForm().Get("prompt") == "none" {
			s.writeAuthorizeError(w, r, ar, fosite.ErrLoginRequired)
			return
		}
		s.redirectToLogin(w, r, ar)
		return
	}
	g, granted, err := s.launchGrant(ctx, ar, who, signIn, chosen)
	var pick *pickPatient
	if errors.As(err, &pick) {
		s.showPicker(w, r, ar, signIn, pick.choices)
		return
	}
	if err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	for _, sc := range scopeList(granted) {
		ar.GrantScope(sc)
	}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, g)
	if err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// checkSMART applies what SMART App Launch adds to an authorize request:
// redirect_uri and aud are required, aud is the FHIR base URL, and PKCE
// with S256 is mandatory (checked here as well as by fosite, so a bad
// request fails before the person is asked to sign in).
func (s *Server) checkSMART(ar fosite.AuthorizeRequester) error {
	f := ar.GetRequestForm()
	switch {
	case f.Get("redirect_uri") == "":
		return fosite.ErrInvalidRequest.WithHint("redirect_uri is required.")
	case strings.TrimSuffix(f.Get("aud"), "/") != strings.TrimSuffix(s.cfg.FHIRBaseURL, "/"):
		return fosite.ErrInvalidRequest.WithHintf("aud must be this server's FHIR base URL, %s.", s.cfg.FHIRBaseURL)
	case f.Get("code_challenge") == "":
		return fosite.ErrInvalidRequest.WithHint("PKCE is required: send code_challenge and code_challenge_method=S256.")
	case f.Get("code_challenge_method") != "S256":
		return fosite.ErrInvalidRequest.WithHint("code_challenge_method must be S256.")
	}
	return nil
}

// launchGrant decides what the code will carry: the person, the scopes
// (the request narrowed to the client's registration and to user
// contexts), and the launch context.
func (s *Server) launchGrant(ctx context.Context, ar fosite.AuthorizeRequester, who Who, signIn, chosen string) (*grant, scope.Set, error) {
	c := clientOf(ar)
	f := ar.GetRequestForm()
	req, err := scope.Parse(strings.Join(ar.GetRequestedScopes(), " "))
	if err != nil {
		return nil, scope.Set{}, fosite.ErrInvalidScope.WithHint(err.Error())
	}
	set := scope.Narrow(scope.Narrow(req, c.scope), userContexts)
	if set.String() == "" {
		return nil, scope.Set{}, fosite.ErrInvalidScope.WithHint("None of the requested scopes is registered for this client.")
	}
	g := &grant{FHIRUser: who.FHIRUser, Org: who.Org, Role: who.Role, Purpose: who.Purpose,
		SignIn: signIn, AuthTime: who.AuthTime, Nonce: f.Get("nonce")}
	if p := f.Get("purpose_of_use"); p != "" {
		if !token.IsPurposeOfUse(p) || g.Org == "" {
			return nil, scope.Set{}, fosite.ErrInvalidRequest.WithHint("purpose_of_use: a v3 PurposeOfUse code, for a professional at a provider.")
		}
		g.Purpose = p
	}
	if launch := f.Get("launch"); launch != "" {
		return g, set, s.ehrLaunch(ctx, g, set, launch)
	}
	if set.Has("launch/patient") || hasPatientScopes(set) {
		patient, err := s.choosePatient(ctx, who, chosen)
		if err != nil {
			return nil, scope.Set{}, err
		}
		g.Patient = patient
	}
	return g, set, nil
}

// ehrLaunch takes the launch context the EHR created (once: a launch id is
// single-use) and puts it in the grant.
func (s *Server) ehrLaunch(ctx context.Context, g *grant, set scope.Set, id string) error {
	if !set.Has("launch") {
		return fosite.ErrInvalidScope.WithHint("A launch parameter needs the launch scope.")
	}
	l, err := s.takeLaunch(ctx, id)
	if err != nil {
		return err
	}
	if l.FHIRUser != "" && l.FHIRUser != g.FHIRUser {
		return fosite.ErrAccessDenied.WithHint("The launch was created for another user.")
	}
	g.Patient, g.Encounter, g.EHRLaunch = l.Patient, l.Encounter, true
	if g.Purpose == "" {
		g.Purpose = l.Purpose
	}
	if hasPatientScopes(set) && g.Patient == "" {
		return fosite.ErrInvalidRequest.WithHint("patient/ scopes need a patient in the launch context.")
	}
	return nil
}

// pickPatient is the answer "ask the person which patient".
type pickPatient struct{ choices []PatientChoice }

func (p *pickPatient) Error() string { return "oauth: the person acts for several patients" }

// choosePatient returns the launch patient of a standalone launch: the only
// patient the person may act for, the one they chose among several, or a
// *pickPatient to ask them.
func (s *Server) choosePatient(ctx context.Context, who Who, chosen string) (string, error) {
	choices, err := s.patientsFor(ctx, who)
	if err != nil {
		return "", fosite.ErrServerError.WithWrap(err)
	}
	switch {
	case len(choices) == 0:
		return "", fosite.ErrAccessDenied.WithHint("The signed-in person has no patient record to launch with.")
	case chosen != "":
		if !slices.ContainsFunc(choices, func(c PatientChoice) bool { return c.ID == chosen }) {
			return "", fosite.ErrAccessDenied.WithHint("The chosen patient is not one the person may act for.")
		}
		return chosen, nil
	case len(choices) == 1:
		return choices[0].ID, nil
	}
	return "", &pickPatient{choices: choices}
}

// patientsFor asks Relationships, or, without it, takes a signed-in
// patient as acting for themself only.
func (s *Server) patientsFor(ctx context.Context, who Who) ([]PatientChoice, error) {
	if s.cfg.Relationships != nil {
		return s.cfg.Relationships.PatientsFor(ctx, who.FHIRUser)
	}
	if id, ok := strings.CutPrefix(who.FHIRUser, "Patient/"); ok {
		return []PatientChoice{{ID: id, Relationship: "self"}}, nil
	}
	return nil, nil
}

// redirectToLogin sends the browser to the login with next= the authorize
// request, as a path (so the login can refuse absolute next URLs).
func (s *Server) redirectToLogin(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester) {
	next := PathAuthorize + "?" + ar.GetRequestForm().Encode()
	u, err := url.Parse(s.cfg.LoginURL)
	if err != nil {
		s.writeAuthorizeError(w, r, ar, s.serverError(r, "login URL", err))
		return
	}
	q := u.Query()
	q.Set("next", next)
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// writeAuthorizeError redirects the error to the client when the redirect
// URI was verified, and otherwise shows it (never redirecting to an
// unverified URI). Server errors are logged.
func (s *Server) writeAuthorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	if rfc := fosite.ErrorToRFC6749Error(err); rfc.ErrorField == fosite.ErrServerError.ErrorField {
		s.log.Error("oauth: authorize", "err", err, "debug", rfc.DebugField)
	}
	if ar == nil || !ar.IsRedirectURIValid() {
		rfc := fosite.ErrorToRFC6749Error(err)
		writeAuthorizePage(w, rfc.CodeField, rfc.ErrorField+": "+rfc.GetDescription())
		return
	}
	s.provider.WriteAuthorizeError(r.Context(), w, ar, err)
}
