// Package ops is the process's operational HTTP surface around the APIs:
// liveness (/healthz), readiness (/readyz, the database answers) and
// Prometheus metrics (/metrics) for every request.
package ops

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pinger reports whether the platform's backing services answer.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Handler mounts api under / with /healthz, /readyz and /metrics beside it,
// counting and timing every request.
func Handler(api http.Handler, db Pinger, log *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ehealth_http_request_duration_seconds",
		Help:    "HTTP requests by method, route class and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route", "status"})
	reg.MustRegister(requests)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := db.Ping(ctx); err != nil {
			log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", api)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		requests.WithLabelValues(r.Method, route(r.URL.Path), strconv.Itoa(rec.status)).Observe(time.Since(start).Seconds())
	})
}

// route classifies a path into a label with bounded cardinality: the FHIR
// interaction level, never ids.
func route(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if segs[0] != "fhir" {
		return "other"
	}
	switch n := len(segs); {
	case n == 1:
		return "system"
	case n == 2 && (segs[1] == "metadata" || segs[1] == "_history"):
		return segs[1]
	case n == 2:
		return "type"
	case n == 3 && strings.HasPrefix(segs[2], "$"):
		return "type-operation"
	case n == 3:
		return "instance"
	default:
		return "instance-history"
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
