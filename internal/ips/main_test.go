package ips_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/ips"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// testBase is the FHIR base the test servers' tokens name as audience.
const testBase = "http://ehealth.test/fhir"

// server is the FHIR API as serve assembles it (consent, role views,
// audit, the consent operations and the summaries) over one test store.
// Requests carry an operator token unless they set their own
// Authorization header.
type server struct {
	t      *testing.T
	p      *platform.Platform
	st     store.Store
	srv    *httptest.Server
	tokens *token.Service
	bearer string
}

// forEachBackend runs fn against a fresh server on SQLite and PostgreSQL.
func forEachBackend(t *testing.T, cfg ips.Config, fn func(t *testing.T, s *server)) {
	t.Helper()
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, newServer(t, b.Open(t), cfg))
		})
	}
}

// newServer assembles the API over st, which it closes at the end.
func newServer(t *testing.T, st store.Store, cfg ips.Config) *server {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	p, err := platform.Open(t.Context(), st, slog.New(slog.DiscardHandler), platform.WithPolicy(consent.Policy{Emergency: true}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	tokens, err := token.New(st, token.Config{Issuer: testBase, Audience: testBase})
	if err != nil {
		t.Fatal(err)
	}
	auditor, err := audit.New(st, audit.Config{Source: audit.Source{Base: testBase, Name: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auditor.Close(context.Background()) })
	summaries, err := ips.New(p.Service, p.Terminology.Service(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	api := rest.New(p.Service, rest.Config{Tokens: tokens, Access: p.AccessFor, Audit: auditor, View: p.Roles.View, Emergency: p.InEmergency,
		Operations: rest.OperationSet{p.Terminology, p.Registry, p.ConsentOps, summaries}}, slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(api.Handler())
	t.Cleanup(hs.Close)
	s := &server{t: t, p: p, st: st, srv: hs, tokens: tokens}
	s.bearer = s.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
	return s
}

// issue returns a bearer token with claims c.
func (s *server) issue(c token.Claims) string {
	s.t.Helper()
	issue := s.tokens.Issue
	if c.Operator {
		issue = s.tokens.IssueOperator
	}
	raw, _, err := issue(s.t.Context(), c, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	return raw
}

// response is an answer: its status, headers, raw body and, for JSON, the
// parsed resource.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// must checks the status and returns the response.
func (r response) must(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %.2000s", r.status, status, r.raw)
	}
	return r
}

// do sends a request with body (a string, or a map sent as JSON) and
// header pairs; "Authorization" replaces the operator's token.
func (s *server) do(method, path string, body any, headers ...string) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	req.Header.Set("Authorization", "Bearer "+s.bearer)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && len(raw) > 0 {
		if r.body, err = fhir.Parse(raw); err != nil {
			s.t.Fatalf("%s %s: the answer is not FHIR JSON: %v", method, path, err)
		}
	}
	return r
}

// put writes a resource as the operator, expecting it created.
func (s *server) put(res string) {
	s.t.Helper()
	m, err := fhir.Parse([]byte(res))
	if err != nil {
		s.t.Fatalf("%v: %s", err, res)
	}
	s.do("PUT", "/fhir/"+m["resourceType"].(string)+"/"+m["id"].(string), res).must(s.t, http.StatusCreated)
}
