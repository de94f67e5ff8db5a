package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/login"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/web/console"
	"github.com/ehealthplus/ehealth/internal/web/webtest"
)

// startConsoleServer is startWebServer with emergency access switched on
// (the console reviews emergency accesses) and an operator account,
// alice, whose TOTP URI it returns.
func startConsoleServer(ctx context.Context, t *testing.T) (*webServer, string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := openPlatform(ctx, "sqlite:"+filepath.Join(t.TempDir(), "console.db"), log,
		platform.WithPolicy(consent.Policy{Emergency: true}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer{p}.Close() })
	srv := httptest.NewUnstartedServer(nil)
	s := &webServer{t: t, p: p, origin: "http://" + srv.Listener.Addr().String()}
	key := filepath.Join(t.TempDir(), "audit.key")
	if _, err := audit.GenerateKey(key); err != nil {
		t.Fatal(err)
	}
	s.stack, err = newStack(p, stackConfig{BaseURL: s.origin + "/fhir", LoginURL: "/login", Login: login.Config{Demo: true, IPRate: -1},
		AuditKey: key}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stack.Audit.Close(context.Background()) })
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
	ops := login.NewOperators(p.Store, login.PasswordParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1})
	if err := ops.Add(ctx, "alice", "CHAN Alice", operatorPassword); err != nil {
		t.Fatal(err)
	}
	uri, err := ops.EnrolTOTP(ctx, "alice", "eHealth+")
	if err != nil {
		t.Fatal(err)
	}
	return s, uri
}

const operatorPassword = "correct horse battery staple"

// TestConsoleDenyByDefault checks, without a browser, that every console
// page and form sends a request without an operator session to the
// sign-in (and does nothing), that a wrong factor is refused, and that
// the sign-in form refuses a post without its own CSRF token.
func TestConsoleDenyByDefault(t *testing.T) {
	s, uri := startConsoleServer(t.Context(), t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/providers"}, {"GET", "/providers/x"}, {"GET", "/clients"}, {"GET", "/emergency"},
		{"GET", "/emergency/x"}, {"GET", "/reports"}, {"GET", "/reports/x"}, {"GET", "/audit"}, {"GET", "/outbox"},
		{"POST", "/providers"}, {"POST", "/providers/x/active"}, {"POST", "/providers/x/professionals"},
		{"POST", "/providers/x/accreditation"}, {"POST", "/clients"}, {"POST", "/clients/x/disable"},
		{"POST", "/emergency/x"}, {"POST", "/audit"}, {"POST", "/outbox/x/requeue"},
	} {
		req, _ := http.NewRequest(c.method, s.origin+console.Prefix+c.path, strings.NewReader("name=Evil+Clinic&kind=clinic"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, console.Prefix+"/login") {
			t.Errorf("%s %s without a session: %d %q, want 303 to the sign-in", c.method, c.path, resp.StatusCode, loc)
		}
	}
	if _, out := s.fhir(s.operator, "GET", "Organization?name=Evil", nil); out["total"] != float64(0) {
		t.Error("a form posted without a session registered a provider")
	}
	code, err := login.TOTPCode(uri, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	post := func(form url.Values, withCookie bool) int {
		req, _ := http.NewRequest("POST", s.origin+console.Prefix+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if withCookie {
			req.AddCookie(&http.Cookie{Name: "admin-login", Value: "tok"})
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := url.Values{"_login": {"tok"}, "username": {"alice"}, "password": {operatorPassword}, "code": {"000000"}}
	if got := post(good, true); got != http.StatusUnauthorized {
		t.Errorf("a wrong code: %d, want 401", got)
	}
	good.Set("code", code)
	if got := post(good, false); got != http.StatusForbidden {
		t.Errorf("a sign-in without the form's cookie: %d, want 403", got)
	}

	// Signed in (a browser's cookies), then disabled: the next request
	// ends the session.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	get := func(path string) (*http.Response, string) {
		resp, err := browser.Get(s.origin + console.Prefix + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	_, page := get("/login")
	m := regexp.MustCompile(`name="_login" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in token on the form: %s", page)
	}
	good.Set("_login", m[1])
	resp, err := browser.PostForm(s.origin+console.Prefix+"/login", good)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != console.Prefix+"/" {
		t.Fatalf("signing in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get("/providers"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in, the providers: %d", resp.StatusCode)
	}
	if err := login.NewOperators(s.p.Store, login.PasswordParams{}).SetDisabled(t.Context(), "alice", true); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get("/providers"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), console.Prefix+"/login") {
		t.Errorf("a disabled operator's session: %d %q, want 303 to the sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestConsole walks the operator's journeys in Chromium against the
// server as serve assembles it: signing in with password and TOTP,
// registering a provider, a professional and a system client (then
// disabling it), running the provider's accreditation, reviewing an
// emergency access, reading a reported access, verifying the audit
// journal, and re-queuing a stopped notice; the journal names the
// operator for the registry's writes. Every page, in both languages, has
// no missing message, no serious or critical axe-core violation, and
// weighs under webtest.MaxPageWeight.
//
// SQLite only: the storage is tested on both backends elsewhere.
func TestConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	b := webtest.NewBrowser(ctx, t)
	axe := webtest.LoadAxe(ctx, t)
	s, uri := startConsoleServer(ctx, t)

	// A citizen, a doctor who opens their record in an emergency, and the
	// citizen reporting that access.
	citizen := s.register("A123456(3)", "CHAN", "Tai Man", "1980-02-03", "")
	_, doctor := s.professional("Happy Valley Clinic")
	if status, out := s.fhir(doctor, "POST", "Patient/"+citizen+"/$emergency-access", map[string]any{"resourceType": "Parameters",
		"parameter": []any{map[string]any{"name": "reason", "valueString": "unconscious in A&E"}}}); status != http.StatusOK {
		t.Fatalf("emergency access: %d %v", status, out)
	}
	if status, _ := s.fhir(doctor, "GET", "Patient/"+citizen, nil); status != http.StatusOK {
		t.Fatalf("the doctor reads the record in the emergency: %d", status)
	}
	set, _ := scope.Parse("patient/*.rs")
	citizenTok, _, err := s.stack.Tokens.Issue(ctx, token.Claims{Subject: "Patient/" + citizen, ClientID: "web-test",
		FHIRUser: "Patient/" + citizen, Patient: citizen, Scope: set}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	event := lastAccessEvent(t, s, citizenTok, citizen)
	if status, out := s.fhir(citizenTok, "POST", "Patient/"+citizen+"/$report-access", map[string]any{"resourceType": "Parameters",
		"parameter": []any{map[string]any{"name": "event", "valueReference": map[string]any{"reference": "AuditEvent/" + event}},
			map[string]any{"name": "comment", "valueString": "I was never in A&E"}}}); status != http.StatusOK {
		t.Fatalf("report the access: %d %v", status, out)
	}
	// A notice whose delivery failed for good.
	stopped := stopNotice(t, s)

	admin := s.origin + console.Prefix
	weights := map[string]int64{}
	check := func(name string) {
		t.Helper()
		weights[name] = b.CheckPage(axe, name)
	}

	// Not signed in: the console asks to sign in.
	b.Open(admin + "/emergency")
	if !strings.Contains(b.Location(), console.Prefix+"/login") {
		t.Fatalf("the console opened without a sign-in: %s", b.Where())
	}
	check("login")
	code, err := login.TOTPCode(uri, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.Fill("#username", "alice")
	b.Fill("#password", operatorPassword)
	b.Fill("#code", code)
	b.Submit(`form[action$="/login"] button[type=submit]`)
	if !strings.HasPrefix(b.Location(), admin+"/emergency") || !strings.Contains(b.Text(), "Welcome, CHAN Alice") {
		t.Fatalf("signing in did not end on the page asked for: %s", b.Where())
	}
	check("emergency")

	// Review the emergency access: justified.
	if !strings.Contains(b.Text(), "opened the record of CHAN Tai Man in an emergency") || !strings.Contains(b.Text(), "unconscious in A&E") {
		t.Errorf("the emergency access in plain words: %s", b.Where())
	}
	b.Submit(`a.button[href*="/emergency/"]`)
	check("review")
	b.Do(b.Eval(`document.querySelector('#justified').click()`))
	b.Fill("#outcome", "Confirmed with the A&E department: the patient was unconscious.")
	b.Submit(`form[action*="/emergency/"] button[type=submit]`)
	if text := b.Text(); !strings.Contains(text, "The review is recorded") || !strings.Contains(text, "Confirmed with the A&E department") {
		t.Errorf("after the review: %s", b.Where())
	}
	_, tasks := s.fhir(s.operator, "GET", "Task?code="+url.QueryEscape(consent.TaskCodeSystem+"|"+consent.TaskEmergencyReview), nil)
	if got := taskStatus(tasks); got != "completed" {
		t.Errorf("the review Task is %q, want completed", got)
	}

	// The reported access, in plain words.
	b.Open(admin + "/reports")
	if text := b.Text(); !strings.Contains(text, "CHAN Tai Man reported an access") {
		t.Errorf("the reported access: %s", b.Where())
	}
	check("reports")
	b.Submit(`a[href*="/reports/"]`)
	if text := b.Text(); !strings.Contains(text, "I was never in A&E") || !strings.Contains(text, "AuditEvent/"+event) {
		t.Errorf("the report's details: %s", b.Where())
	}
	check("report")

	// Register a provider, a professional there, and assess it.
	b.Open(admin + "/providers")
	check("providers")
	b.Fill("#name", "Kowloon Bay Medical Centre")
	b.Follow(b.Eval(`document.querySelector('#kind').value = 'clinic'; document.querySelector('form[action$="/providers"] button').click()`))
	if text := b.Text(); !strings.Contains(text, "Kowloon Bay Medical Centre is registered") {
		t.Fatalf("registering a provider: %s", b.Where())
	}
	org := strings.TrimPrefix(b.Location(), admin+"/providers/")
	check("provider")
	b.Fill("#pname", "WONG Siu Ming")
	b.Fill("#registration", "M99999")
	b.Follow(b.Eval(`document.querySelector('#council').value = 'mchk'; document.querySelector('#profession').value = 'doctor';
		document.querySelector('form[action$="/professionals"] button').click()`))
	if text := b.Text(); !strings.Contains(text, "WONG Siu Ming is registered") || !strings.Contains(text, "M99999") {
		t.Errorf("registering a professional: %s", b.Where())
	}
	b.Submit(`form[action$="/accreditation"] button`)
	if text := b.Text(); !strings.Contains(text, "The provider was assessed") || !strings.Contains(text, "Not accredited") {
		t.Errorf("the accreditation: %s", b.Where())
	}
	if _, out := s.fhir(s.operator, "GET", "Organization/"+org, nil); out["name"] != "Kowloon Bay Medical Centre" {
		t.Errorf("the provider is not in the registry: %v", out)
	}
	if !journalNames(t, s, "operator/alice", "Organization/"+org) {
		t.Error("the audit journal does not name the operator for the provider's registration")
	}

	// A system client of the provider, with its public key; then disabled.
	b.Open(admin + "/clients")
	check("clients")
	b.Fill("#id", "kowloon-bay-emr")
	b.Fill("#cname", "Kowloon Bay EMR")
	b.Fill("#org", "Organization/"+org)
	b.Fill("#jwks", publicJWKS(t))
	b.Submit(`form[action$="/clients"] button[type=submit]`)
	if text := b.Text(); !strings.Contains(text, "Client kowloon-bay-emr is registered") || !strings.Contains(text, "Backend system") {
		t.Fatalf("registering a system client: %s", b.Where())
	}
	if c, err := s.stack.Authz.Clients().Get(ctx, "kowloon-bay-emr"); err != nil || c.Org != "Organization/"+org || c.Disabled {
		t.Errorf("the registered client: %+v, %v", c, err)
	}
	b.Submit(`form[action$="/clients/kowloon-bay-emr/disable"] button`)
	if c, err := s.stack.Authz.Clients().Get(ctx, "kowloon-bay-emr"); err != nil || !c.Disabled {
		t.Errorf("the client is not disabled: %+v, %v", c, err)
	}

	// Verify the audit journal, signed up to a checkpoint.
	cp, ok, err := s.stack.Audit.Checkpoint(ctx)
	if err != nil || !ok {
		t.Fatalf("checkpoint: %v %v", ok, err)
	}
	b.Open(admin + "/audit")
	b.Submit(`form[action$="/audit"] button`)
	if text := b.Text(); !strings.Contains(text, "No problems found") || !strings.Contains(text, "by alice") ||
		!strings.Contains(text, fmt.Sprintf("seq %d,", cp.Seq)) || strings.Contains(text, "no checkpoint key") {
		t.Errorf("the audit verification: %s", b.Where())
	}
	check("audit")

	// The outbox: the stopped notice goes back in the queue.
	b.Open(admin + "/outbox?status=stopped")
	if text := b.Text(); !strings.Contains(text, "Stopped because: gateway refused the number") {
		t.Errorf("the stopped notice: %s", b.Where())
	}
	check("outbox stopped")
	b.Submit(`form[action$="/requeue"] button`)
	if _, out := s.fhir(s.operator, "GET", "Communication/"+stopped, nil); out["status"] != "preparation" {
		t.Errorf("the re-queued notice is %v, want preparation", out["status"])
	}

	// Every page in both languages.
	pages := []string{"/", "/providers", "/providers/" + org, "/clients", "/emergency", "/reports", "/audit",
		"/outbox", "/outbox?status=in-progress", "/outbox?status=completed", "/outbox?status=stopped"}
	for _, lang := range []string{"zh-Hant", "en"} {
		b.Open(admin + "/?lang=" + lang)
		for _, p := range pages {
			b.Open(admin + p)
			if got := b.Lang(); got != lang {
				t.Errorf("%s: html lang %q, want %q", p, got, lang)
			}
			check(lang + " " + p)
			if *screenshots && slicesContains([]string{"/", "/providers/" + org, "/emergency", "/audit", "/outbox"}, p) {
				name := "console" + strings.ReplaceAll(strings.TrimSuffix(p, "/"), "/", "-")
				if p == "/providers/"+org {
					name = "console-provider"
				}
				if lang == "en" {
					shoot(b, name)
				} else if p == "/" {
					shoot(b, "console-zh-Hant")
				}
			}
		}
	}
	b.Open(admin + "/emergency")
	b.Submit(`a[href*="/emergency/"]`)
	check("en review (closed)")

	// Signing out ends the session.
	b.Submit(`form[action$="/signout"] button`)
	check("signed out")
	if *screenshots {
		b.Open(admin + "/login")
		shoot(b, "console-login")
	}
	b.Open(admin + "/providers")
	if !strings.Contains(b.Location(), console.Prefix+"/login") {
		t.Errorf("after signing out the console still opens: %s", b.Where())
	}

	names := make([]string, 0, len(weights))
	for n := range weights {
		names = append(names, n)
	}
	sort.Strings(names)
	var report strings.Builder
	for _, n := range names {
		fmt.Fprintf(&report, "  %-36s %6d bytes\n", n, weights[n])
	}
	t.Logf("page weight (HTML+CSS+JS transferred, cache disabled):\n%s", report.String())
}

// lastAccessEvent is the newest AuditEvent id of the citizen's access
// history.
func lastAccessEvent(t *testing.T, s *webServer, tok, patient string) string {
	t.Helper()
	status, out := s.fhir(tok, "GET", "Patient/"+patient+"/$access-history", nil)
	if status != http.StatusOK {
		t.Fatalf("access history: %d %v", status, out)
	}
	for _, p := range out["parameter"].([]any) {
		if p.(map[string]any)["name"] != "access" {
			continue
		}
		for _, part := range p.(map[string]any)["part"].([]any) {
			m := part.(map[string]any)
			if m["name"] == "event" {
				return strings.TrimPrefix(m["valueReference"].(map[string]any)["reference"].(string), "AuditEvent/")
			}
		}
	}
	t.Fatalf("no access in the history: %v", out)
	return ""
}

// stopNotice marks a notice stopped, as the delivery worker does after
// its last attempt, and returns its id.
func stopNotice(t *testing.T, s *webServer) string {
	t.Helper()
	out := s.must(http.StatusOK, "GET", "Communication?status=preparation&_count=1", nil)
	entries, _ := out["entry"].([]any)
	if len(entries) == 0 {
		t.Fatalf("no notice in the outbox: %v", out)
	}
	c := entries[0].(map[string]any)["resource"].(map[string]any)
	c["status"] = "stopped"
	c["statusReason"] = map[string]any{"text": "gateway refused the number"}
	s.must(http.StatusOK, "PUT", "Communication/"+c["id"].(string), c)
	return c["id"].(string)
}

// taskStatus is the status of a searchset's first Task.
func taskStatus(bundle map[string]any) string {
	entries, _ := bundle["entry"].([]any)
	if len(entries) == 0 {
		return ""
	}
	s, _ := entries[0].(map[string]any)["resource"].(map[string]any)["status"].(string)
	return s
}

// journalNames reports whether an entry of the audit journal names both
// who and what.
func journalNames(t *testing.T, s *webServer, who, what string) bool {
	t.Helper()
	entries, err := s.p.Store.ReadAudit(t.Context(), store.AuditQuery{From: 1, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if bytes.Contains(e.Body, []byte(`"`+who+`"`)) && bytes.Contains(e.Body, []byte(what)) {
			return true
		}
	}
	return false
}

// publicJWKS is a new ES384 public key set.
func publicJWKS(t *testing.T) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "k1", Algorithm: "ES384", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
