package correction

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

const testBase = "http://ehealth.test/fhir"

// env is the FHIR API with the correction operations over one backend.
type env struct {
	t      *testing.T
	st     store.Store
	svc    *resource.Service
	srv    *httptest.Server
	tokens *token.Service
}

func newEnv(t *testing.T, b platformtest.Backend) *env {
	t.Helper()
	st := b.Open(t)
	p := platformtest.Open(t, st)
	tokens, err := token.New(st, token.Config{Issuer: testBase, Audience: testBase})
	if err != nil {
		t.Fatal(err)
	}
	api := rest.New(p.Service, rest.Config{Tokens: tokens, Access: p.AccessFor, Operations: rest.OperationSet{New(p.Service, p.Registry)}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	e := &env{t: t, st: st, svc: p.Service, srv: httptest.NewServer(api.Handler()), tokens: tokens}
	t.Cleanup(e.srv.Close)
	return e
}

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

func (e *env) operator() string {
	return e.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
}

// citizen is the app's token of citizen p.
func (e *env) citizen(p string) string {
	return e.issue(token.Claims{Subject: "Patient/" + p, ClientID: "app", FHIRUser: "Patient/" + p, Patient: p, Scope: scope.MustParse("patient/*.cruds")})
}

// professional is a professional's token at org.
func (e *env) professional(practitioner, org string) string {
	return e.issue(token.Claims{Subject: practitioner, ClientID: "emr", FHIRUser: "Practitioner/" + practitioner,
		Org: "Organization/" + org, Purpose: "TREAT", Scope: scope.MustParse("user/*.cruds")})
}

// system is a provider's system client token.
func (e *env) system(org string) string {
	return e.issue(token.Claims{Subject: org + "-emr", ClientID: org + "-emr", Org: "Organization/" + org, Scope: scope.MustParse("system/*.cruds")})
}

// response is an answer with its JSON body.
type response struct {
	status int
	body   map[string]any
}

func (r response) must(t *testing.T, status int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %v", r.status, status, r.body)
	}
	return r.body
}

func (e *env) do(method, path, bearer string, body any) response {
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
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return response{resp.StatusCode, out}
}

// join registers citizen p: a master Patient with the joining Consent.
func (e *env) join(p string) {
	e.t.Helper()
	op := resource.Caller{Writer: "operator"}
	if _, _, err := e.svc.Update(e.t.Context(), op, "Patient", p, map[string]any{"resourceType": "Patient", "id": p,
		"meta": map[string]any{"tag": []any{map[string]any{"system": registry.MPISystem, "code": registry.TagMaster}}},
		"name": []any{map[string]any{"family": "Citizen " + p}}}, 0); err != nil {
		e.t.Fatal(err)
	}
	c, err := fhir.Parse(fmt.Appendf(nil, `{"resourceType":"Consent","id":"join-%s","status":"active",
 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
 "category":[{"coding":[{"system":%q,"code":%q}]},{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
 "patient":{"reference":"Patient/%s"},"dateTime":"2024-01-01T00:00:00Z","policy":[{"uri":%q}],"provision":{"type":"permit"}}`,
		p, registry.ConsentCategorySystem, registry.CategoryJoining, p, registry.JoiningPolicy))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.svc.Update(e.t.Context(), op, "Consent", "join-"+p, c, 0); err != nil {
		e.t.Fatal(err)
	}
}

// parameters is a Parameters body; each value is the parameter's value
// element ({"valueString": …}).
func parameters(pairs ...any) map[string]any {
	var list []any
	for i := 0; i+1 < len(pairs); i += 2 {
		m := map[string]any{"name": pairs[i]}
		for k, v := range pairs[i+1].(map[string]any) {
			m[k] = v
		}
		list = append(list, m)
	}
	return map[string]any{"resourceType": "Parameters", "parameter": list}
}

func str(s string) map[string]any  { return map[string]any{"valueString": s} }
func code(s string) map[string]any { return map[string]any{"valueCode": s} }
func refTo(s string) map[string]any {
	return map[string]any{"valueReference": map[string]any{"reference": s}}
}
func jsonOf(v any) string        { b, _ := json.Marshal(v); return string(b) }
func refOf(v any) string         { m, _ := v.(map[string]any); s, _ := m["reference"].(string); return s }
func first(v any) map[string]any { l, _ := v.([]any); m, _ := l[0].(map[string]any); return m }
