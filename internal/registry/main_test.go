package registry_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// testBase is the FHIR base the test servers' tokens name.
const testBase = "http://ehealth.test/fhir"

// clock is a settable time source for the registry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// logBuffer collects everything the server logs, for the redaction checks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// env is a FHIR server with the registry's and the terminology operations
// over one backend, an operator token, a clock and the logs.
type env struct {
	t        *testing.T
	reg      *registry.Registry
	svc      *resource.Service
	st       store.Store
	srv      *httptest.Server
	tokens   *token.Service
	operator string
	clock    *clock
	logs     *logBuffer
}

// registered is 2026-03-02 09:00 in Hong Kong, the tests' "now".
var registered = time.Date(2026, 3, 2, 9, 0, 0, 0, registry.HongKong)

// forEachBackend runs fn on a fresh env on SQLite and PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, newEnv(t, b)) })
	}
}

func newEnv(t *testing.T, b platformtest.Backend) *env {
	t.Helper()
	st := b.Open(t)
	p := platformtest.Open(t, st)
	e := &env{t: t, svc: p.Service, st: st, clock: &clock{t: registered}, logs: &logBuffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.reg = registry.New(p.Service, st, registry.WithClock(e.clock.Now), registry.WithLogger(log), registry.WithAccessKeyCost(1000))
	tokens, err := token.New(st, token.Config{Issuer: testBase, Audience: testBase})
	if err != nil {
		t.Fatal(err)
	}
	e.tokens = tokens
	api := rest.New(p.Service, rest.Config{Tokens: tokens, Operations: rest.OperationSet{p.Terminology, e.reg}, Access: p.AccessFor}, log)
	e.srv = httptest.NewServer(api.Handler())
	t.Cleanup(e.srv.Close)
	e.operator = e.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
	return e
}

// issue signs a token.
func (e *env) issue(c token.Claims) string {
	e.t.Helper()
	issue := e.tokens.Issue
	if c.Operator {
		issue = e.tokens.IssueOperator
	}
	raw, _, err := issue(e.t.Context(), c, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return raw
}

// clinic is a token for a clinic's system with the given scopes.
func (e *env) clinic(scopes string) string {
	return e.issue(token.Claims{Subject: "Organization/clinic-1", ClientID: "clinic-emr", Org: "Organization/clinic-1", Scope: scope.MustParse(scopes)})
}

// tokenFor is a person's token with the given scopes; patient/ scopes
// reach the fhirUser's own record when it is a Patient.
func tokenFor(fhirUser, scopes string) token.Claims {
	return token.Claims{Subject: fhirUser, ClientID: "app", FHIRUser: fhirUser, Scope: scope.MustParse(scopes)}
}

// response is an HTTP answer, its body parsed.
type response struct {
	status int
	body   map[string]any
	raw    string
}

// do sends a request with bearer (the operator's when "").
func (e *env) do(method, path string, body any, bearer string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	if bearer == "" {
		bearer = e.operator
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, raw: string(raw)}
	if len(raw) > 0 {
		r.body, _ = fhir.Parse(raw)
	}
	return r
}

// must checks the status.
func (r response) must(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// param returns the named output parameter of a Parameters body.
func (r response) param(name string) map[string]any {
	for _, p := range list(r.body["parameter"]) {
		m := p.(map[string]any)
		if m["name"] == name {
			return m
		}
	}
	return nil
}

// read reads typ/id as the operator.
func (e *env) read(typ, id string) map[string]any {
	e.t.Helper()
	return e.do("GET", "/fhir/"+typ+"/"+id, nil, "").must(e.t, 200).body
}

// citizen describes a test citizen.
type citizen struct {
	doc       map[string]any // identifier
	family    string
	given     string
	chinese   string
	birthDate string
	gender    string
}

func hkid(number string) map[string]any {
	return map[string]any{"system": "http://www.immd.gov.hk/hkid", "value": number}
}

// patient is the citizen as a Patient for $register or $match.
func (c citizen) patient() map[string]any {
	p := map[string]any{"resourceType": "Patient"}
	if c.doc != nil {
		p["identifier"] = []any{c.doc}
	}
	var names []any
	if c.family != "" {
		names = append(names, map[string]any{"use": "official", "family": c.family, "given": []any{c.given}})
	}
	if c.chinese != "" {
		names = append(names, map[string]any{"use": "official", "text": c.chinese})
	}
	if names != nil {
		p["name"] = names
	}
	if c.birthDate != "" {
		p["birthDate"] = c.birthDate
	}
	if c.gender != "" {
		p["gender"] = c.gender
	}
	p["telecom"] = []any{map[string]any{"system": "sms", "value": "+852 9123 4567"}}
	return p
}

// registerBody is $register's Parameters for c (and an SDM when sdm).
func registerBody(c citizen, sdm map[string]any) map[string]any {
	ps := []any{map[string]any{"name": "patient", "resource": c.patient()}}
	if sdm != nil {
		ps = append(ps, map[string]any{"name": "substitute-decision-maker", "resource": sdm})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": ps}
}

// parent is a parent as the SDM.
func parent(role string) map[string]any {
	return map[string]any{
		"resourceType": "RelatedPerson",
		"relationship": []any{map[string]any{"coding": []any{map[string]any{"system": registry.SDMRoleSystem, "code": role}}}},
		"name":         []any{map[string]any{"family": "CHAN", "given": []any{"Mei Ling"}}},
		"telecom":      []any{map[string]any{"system": "phone", "value": "+852 9876 5432"}},
		"identifier":   []any{hkid("D288754(2)")},
	}
}

// register registers c as the operator and returns the master Patient's id
// and the response.
func (e *env) register(c citizen, sdm map[string]any) (string, response) {
	e.t.Helper()
	r := e.do("POST", "/fhir/Patient/$register", registerBody(c, sdm), "").must(e.t, 200)
	p := r.param("patient")["resource"].(map[string]any)
	return p["id"].(string), r
}

func list(v any) []any { l, _ := v.([]any); return l }

// refOf reads a reference's string.
func refOf(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["reference"].(string)
	return s
}

// contains reports whether raw mentions s.
func contains(raw, s string) bool { return strings.Contains(raw, s) }
