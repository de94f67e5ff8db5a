package rest_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/rest"
)

// outcomes returns the issues of a searchset's outcome entries.
func outcomes(r response) []map[string]any {
	var out []map[string]any
	entries, _ := r.body["entry"].([]any)
	for _, e := range entries {
		m := e.(map[string]any)
		if m["search"].(map[string]any)["mode"] != "outcome" {
			continue
		}
		for _, is := range m["resource"].(map[string]any)["issue"].([]any) {
			out = append(out, is.(map[string]any))
		}
	}
	return out
}

func TestSearchExplain(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			t.Cleanup(func() { st.Close() })
			p := platformtest.OpenShared(t, st)
			tokens := newTokens(t, st)
			api := rest.New(p.Service, rest.Config{AllowExplain: true, Operations: p.Terminology, Tokens: tokens, Access: p.AccessFor}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			hs := httptest.NewServer(api.Handler())
			t.Cleanup(hs.Close)
			s := &server{t: t, svc: p.Service, srv: hs, tokens: tokens}
			s.bearer = s.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
			seedClinic(t, s)

			r := s.do("GET", "/fhir/Patient/p1/Observation?code=8480-6&_explain=true", nil).must(t, http.StatusOK)
			if got := ids(r, "match"); len(got) != 3 {
				t.Errorf("matches %v, want o1 o2 o3", got)
			}
			var plan string
			for _, is := range outcomes(r) {
				if is["severity"] == "information" && is["code"] == "informational" {
					plan, _ = is["diagnostics"].(string)
				}
			}
			switch {
			case !strings.Contains(plan, "SQL:\nSELECT"):
				t.Errorf("no SQL in the outcome: %s", r.raw)
			case strings.Contains(plan, "8480-6"):
				t.Errorf("the SQL writes out a value: %s", plan)
			case !strings.Contains(strings.ToLower(plan[strings.Index(plan, "Plan:"):]), "index"):
				t.Errorf("the plan of a patient-scoped search reads no index:\n%s", plan)
			}
			if r := s.do("GET", "/fhir/Patient?name=chan", nil).must(t, http.StatusOK); len(outcomes(r)) != 0 {
				t.Errorf("an outcome without _explain: %s", r.raw)
			}
		})
	}
}

func TestSearchExplainNotAllowed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		r := s.do("GET", "/fhir/Observation?patient=p1&_explain=true", nil).must(t, http.StatusOK)
		is := outcomes(r)
		if len(is) != 1 || is[0]["severity"] != "warning" || is[0]["code"] != "not-supported" ||
			strings.Contains(string(r.raw), "SELECT") {
			t.Errorf("_explain without AllowExplain: %s", r.raw)
		}
		s.do("GET", "/fhir/Observation?patient=p1&_explain=true", nil, "Prefer", "handling=strict").must(t, http.StatusBadRequest)
	})
}
