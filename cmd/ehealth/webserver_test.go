package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/login"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/web/webtest"
)

// webServer is the whole server as serve assembles it (newStack: the FHIR
// API, the authorization server, the login in demo mode and the web
// apps), on 127.0.0.1 with a fresh SQLite database: what the web apps'
// browser tests drive.
type webServer struct {
	t        *testing.T
	p        *platform.Platform
	stack    *stack
	origin   string // http://127.0.0.1:PORT
	operator string // an operator token
}

// startWebServer starts the server for the test, at http://127.0.0.1:PORT.
func startWebServer(ctx context.Context, t *testing.T) *webServer {
	t.Helper()
	return startWebServerAt(ctx, t, "")
}

// startWebServerAt starts the server for the test with host in its origin
// ("": the listener's IP address); "localhost" gives an origin whose
// relying-party id allows passkeys (browsers treat http://localhost as
// secure).
func startWebServerAt(ctx context.Context, t *testing.T, host string) *webServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := openPlatform(ctx, "sqlite:"+filepath.Join(t.TempDir(), "web.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer{p}.Close() })
	srv := httptest.NewUnstartedServer(nil)
	s := &webServer{t: t, p: p, origin: "http://" + srv.Listener.Addr().String()}
	if host != "" {
		_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s.origin = "http://" + net.JoinHostPort(host, port)
	}
	s.stack, err = newStack(p, stackConfig{BaseURL: s.origin + "/fhir", LoginURL: "/login", Login: login.Config{Demo: true, IPRate: -1}}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.stack.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	all, err := scope.Parse("system/*.cruds")
	if err != nil {
		t.Fatal(err)
	}
	if s.operator, _, err = s.stack.Tokens.IssueOperator(ctx, token.Claims{Subject: "web-test", ClientID: "web-test", Scope: all}, time.Hour); err != nil {
		t.Fatal(err)
	}
	return s
}

// fhir calls the FHIR API with a bearer token and returns the status and
// the parsed answer.
func (s *webServer) fhir(tok, method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.origin+"/fhir/"+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// must is fhir as the operator, failing unless the status is want.
func (s *webServer) must(want int, method, path string, body any) map[string]any {
	s.t.Helper()
	status, out := s.fhir(s.operator, method, path, body)
	if status != want {
		s.t.Fatalf("%s %s: %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

// register registers a citizen (with a mobile number for one-time codes)
// and, with sdm, a minor whose substitute decision maker is the citizen
// holding that HKID; it returns the master Patient's id.
func (s *webServer) register(hkid, family, given, birth, sdm string) string {
	s.t.Helper()
	params := []any{map[string]any{"name": "patient", "resource": map[string]any{"resourceType": "Patient",
		"identifier": []any{map[string]any{"system": "http://www.immd.gov.hk/hkid", "value": hkid}},
		"name":       []any{map[string]any{"use": "official", "family": family, "given": []any{given}}},
		"birthDate":  birth, "gender": "male", "telecom": []any{map[string]any{"system": "sms", "value": "+852 9123 4567"}}}}}
	if sdm != "" {
		params = append(params, map[string]any{"name": "substitute-decision-maker", "resource": map[string]any{"resourceType": "RelatedPerson",
			"relationship": []any{map[string]any{"coding": []any{map[string]any{"system": registry.SDMRoleSystem, "code": "parent"}}}},
			"name":         []any{map[string]any{"family": family, "given": []any{"Tai Man"}}},
			"telecom":      []any{map[string]any{"system": "phone", "value": "+852 9123 4567"}},
			"identifier":   []any{map[string]any{"system": "http://www.immd.gov.hk/hkid", "value": sdm}}}})
	}
	out := s.must(http.StatusOK, "POST", "Patient/$register", map[string]any{"resourceType": "Parameters", "parameter": params})
	for _, p := range out["parameter"].([]any) {
		if m := p.(map[string]any); m["name"] == "patient" {
			return m["resource"].(map[string]any)["id"].(string)
		}
	}
	s.t.Fatalf("$register: no patient in %v", out)
	return ""
}

// professional registers a provider and a doctor there and returns the
// provider's id and a token of the doctor (user/*.rs).
func (s *webServer) professional(name string) (org, tok string) {
	s.t.Helper()
	ctx := s.t.Context()
	admin := resource.Caller{Writer: "ehealth-admin"}
	org, err := s.p.Registry.AddProvider(ctx, admin, name, "clinic")
	if err != nil {
		s.t.Fatal(err)
	}
	prac, role, err := s.p.Registry.AddProfessional(ctx, admin, registry.Professional{Name: "CHAN Siu Keung", Council: "mchk",
		Registration: "M" + org[:6], Org: "Organization/" + org, Profession: "doctor"})
	if err != nil {
		s.t.Fatal(err)
	}
	set, err := scope.Parse("user/*.rs")
	if err != nil {
		s.t.Fatal(err)
	}
	tok, _, err = s.stack.Tokens.Issue(ctx, token.Claims{Subject: "Practitioner/" + prac, ClientID: "web-test", Scope: set,
		FHIRUser: "Practitioner/" + prac, Org: "Organization/" + org, Role: "PractitionerRole/" + role}, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	return org, tok
}

// demoCode is the newest one-time code the demo outbox holds for patient.
func (s *webServer) demoCode(patient string) string {
	s.t.Helper()
	resp, err := http.Get(s.origin + login.Path + "/demo/outbox?format=json")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var entries []struct{ Patient, Code string }
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil {
		s.t.Fatal(err)
	}
	for _, e := range entries {
		if e.Patient == "Patient/"+patient || e.Patient == patient {
			return e.Code
		}
	}
	s.t.Fatalf("no code in the demo outbox for Patient/%s: %v", patient, entries)
	return ""
}

// signInByCode signs a citizen in to the app at prefix through /login
// with a one-time code, choosing patient on the authorization server's
// picker when it shows one.
func (s *webServer) signInByCode(b *webtest.Browser, prefix, hkid, citizen, patient string) {
	s.t.Helper()
	b.Open(s.origin + prefix + "/")
	if !strings.Contains(b.Location(), login.Path) {
		s.t.Fatalf("the app did not send the browser to the login: %s", b.Where())
	}
	b.Fill("#number", hkid)
	b.Submit(`form[action="/login/code"] button[type=submit]`)
	b.Fill("#code", s.demoCode(citizen))
	b.Submit(`form[action="/login/code/verify"] button[type=submit]`)
	if strings.Contains(b.Location(), login.Path) { // the offer to add a passkey
		b.Follow(b.Eval(`[...document.querySelectorAll('a')].find(a => a.textContent.includes('Not now')).click()`))
	}
	s.pick(b, patient)
	if !strings.HasPrefix(b.Location(), s.origin+prefix+"/") {
		s.t.Fatalf("signing in did not end in the app: %s", b.Where())
	}
}

// pick chooses patient on the picker, if the browser shows it.
func (s *webServer) pick(b *webtest.Browser, patient string) {
	s.t.Helper()
	if strings.Contains(b.Location(), "/oauth/authorize") && strings.Contains(b.Text(), "Choose a patient") {
		b.Follow(b.Eval(fmt.Sprintf(`document.querySelector('input[name=patient][value=%q]').checked = true;
			document.querySelector('form button[type=submit]:not([name])').click()`, patient)))
	}
}
