package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// backends are SQLite and PostgreSQL.
var backends = platformtest.Backends

// forEachBackend runs fn against a fresh server on every backend, with a
// request size limit of 1 MiB.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *server)) {
	t.Helper()
	forEachBackendLimit(t, 1<<20, fn)
}

// forEachBackendLimit is forEachBackend with the given request size limit.
func forEachBackendLimit(t *testing.T, limit int64, fn func(t *testing.T, s *server)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, newServer(t, b.Open(t), limit))
		})
	}
}

// server is a FHIR API over a test store. Requests carry an operator
// token unless they set their own Authorization header ("" for none).
type server struct {
	t      *testing.T
	svc    *resource.Service
	srv    *httptest.Server
	tokens *token.Service
	keys   store.Keyed // where the tokens' signing keys are
	bearer string
	// importDir is the directory $import reads file: inputs from
	// (fullServer).
	importDir string
}

// testBase is the FHIR base the test servers' tokens name as audience.
const testBase = "http://ehealth.test/fhir"

// newTokens returns a token service over st for the test servers.
func newTokens(t *testing.T, st store.Store) *token.Service {
	t.Helper()
	tokens, err := token.New(st, token.Config{Issuer: testBase, Audience: testBase})
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// issue returns a token with claims c (an operator token when c.Operator).
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

func newServer(t *testing.T, st store.Store, limit int64) *server {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	return serverOn(t, st, limit)
}

// serverOn builds a server over st, which the caller closes: a second
// server on one store is the platform restarted.
func serverOn(t *testing.T, st store.Store, limit int64) *server {
	t.Helper()
	p := platformtest.OpenShared(t, st)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tokens := newTokens(t, st)
	api := rest.New(p.Service, rest.Config{MaxBodyBytes: limit, Operations: p.Terminology, Tokens: tokens, Access: p.AccessFor}, log)
	hs := httptest.NewServer(api.Handler())
	t.Cleanup(hs.Close)
	s := &server{t: t, svc: p.Service, srv: hs, tokens: tokens, keys: st}
	s.bearer = s.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
	return s
}

// response is an HTTP answer with its body parsed when it is JSON.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends a request; body may be a map (sent as FHIR JSON), a string or nil.
func (s *server) do(method, path string, body any, headers ...string) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
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
	if req.Header.Get("Authorization") == "" {
		req.Header.Del("Authorization")
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
	if ct := resp.Header.Get("Content-Type"); len(raw) > 0 && strings.Contains(ct, "json") && !strings.Contains(ct, "ndjson") {
		if r.body, err = fhir.Parse(raw); err != nil {
			s.t.Fatalf("%s %s: response is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return r
}

// must checks the status and returns the response.
func (r response) must(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.raw)
	}
	return r
}

// expressions lists every issue expression of an OperationOutcome body.
func (r response) expressions() []string {
	var out []string
	issues, _ := r.body["issue"].([]any)
	for _, is := range issues {
		m, _ := is.(map[string]any)
		ex, _ := m["expression"].([]any)
		for _, e := range ex {
			out = append(out, e.(string))
		}
	}
	return out
}

// obj parses a JSON literal for a test.
func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	m, err := fhir.Parse([]byte(s))
	if err != nil {
		t.Fatalf("bad test JSON: %v\n%s", err, s)
	}
	return m
}
