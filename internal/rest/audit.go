package rest

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Auditor records audited interactions (audit.Auditor does, in the
// tamper-evident journal).
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// record writes one audited interaction of request r to the journal,
// durably, before the response goes out: the caller named by the token
// (person, role, provider, client, purpose of use), the resource or query,
// and the patients whose data is returned. A failure is the request's
// failure (503), so nothing is served unrecorded. Without an Auditor
// (tests of other things) nothing is recorded.
func (a *API) record(r *http.Request, e audit.Event) error {
	if a.cfg.Audit == nil {
		return nil
	}
	if claims, ok := r.Context().Value(claimsKey{}).(token.Claims); ok {
		e.Caller = audit.CallerOf(claims)
	}
	e.RequestID = requestID(r.Context())
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		e.ClientAddress = host
	}
	if err := a.cfg.Audit.Record(r.Context(), e); err != nil {
		return outcome.Wrap(outcome.Transient, "the access could not be recorded in the audit journal; nothing was served", err)
	}
	return nil
}

// patientsOf lists, once each, the patients whose compartments versions
// belong to.
func patientsOf(sets ...[]store.Version) []string {
	seen := map[string]bool{}
	var out []string
	for _, vs := range sets {
		for _, v := range vs {
			if v.PatientKey != "" && !seen[v.PatientKey] {
				seen[v.PatientKey] = true
				out = append(out, v.PatientKey)
			}
		}
	}
	return out
}

// queryOf is the search as received after the base: "Observation?code=…".
func queryOf(r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/fhir/")
	if r.URL.RawQuery == "" {
		return path
	}
	return path + "?" + r.URL.RawQuery
}
