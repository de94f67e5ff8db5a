package oauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// TestFHIRCORS: the FHIR API's CORS answers preflights itself (the API
// would want a token) for registered origins only, lets other OPTIONS
// through, and exposes the headers an app reads to registered origins only.
// The origins come from the client registry, tested on both backends in
// TestCORS; one backend is enough here.
func TestFHIRCORS(t *testing.T) {
	e := newEnv(t, platformtest.Backends[0], Config{})
	var reached int
	api := e.srv.CORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.Header().Set("ETag", `W/"1"`)
		w.WriteHeader(http.StatusUnauthorized) // as the API answers without a token
	}))
	do := func(method, origin string, preflight bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, testFHIRBase+"/Patient/p1", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if preflight {
			r.Header.Set("Access-Control-Request-Method", "PUT")
			r.Header.Set("Access-Control-Request-Headers", "authorization,if-match")
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		return w
	}

	w := do("OPTIONS", appOrigin, true)
	h := w.Header()
	if w.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != appOrigin ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "PUT") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "If-Match") {
		t.Errorf("preflight from a registered origin: %d %v", w.Code, h)
	}
	if w := do("OPTIONS", "https://evil.example", true); w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from an unregistered origin: %d %v", w.Code, w.Header())
	}
	if reached != 0 {
		t.Errorf("a preflight reached the API")
	}
	if w := do("OPTIONS", appOrigin, false); w.Code != http.StatusUnauthorized || reached != 1 {
		t.Errorf("OPTIONS that is no preflight: %d, API reached %d times", w.Code, reached)
	}

	w = do("GET", appOrigin, false)
	if h := w.Header(); h.Get("Access-Control-Allow-Origin") != appOrigin || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Errorf("GET from a registered origin: %v", h)
	}
	for _, origin := range []string{"https://evil.example", ""} {
		w := do("GET", origin, false)
		if h := w.Header(); h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Expose-Headers") != "" || w.Code != http.StatusUnauthorized {
			t.Errorf("GET from origin %q: %d %v", origin, w.Code, h)
		}
	}
}
