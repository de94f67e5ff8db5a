package oauth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// BenchmarkClientCredentials is the token endpoint's throughput for SMART
// Backend Services, in process (the handler called directly, no network):
// each request verifies an ES384 client assertion, records its jti,
// signs an ES256 access token and stores its record. The assertions are
// signed outside the timer. Reported as req/s per backend.
func BenchmarkClientCredentials(b *testing.B) {
	for _, backend := range platformtest.Backends {
		b.Run(backend.Name, func(b *testing.B) {
			e := newEnv(b, backend, Config{TokenRate: -1})
			h := e.srv.Handler()
			bodies := make([]string, b.N)
			for i := range bodies {
				bodies[i] = merge(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}},
					clientAuth(b, "clinic", clinicKey, nil)).Encode()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				r := httptest.NewRequest("POST", PathToken, strings.NewReader(bodies[i]))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
