package rest

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Auditor records audited interactions (audit.Auditor does, in the
// tamper-evident journal): reads durably before the answer (Record),
// writes inside their own transaction (RecordTx).
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
	RecordTx(ctx context.Context, tx store.AuditAppender, e audit.Event) error
}

// record writes one audited interaction of request r to the journal,
// durably, before the response goes out: the caller named by the token
// (person, role, provider, client, purpose of use), the resource or query,
// and the patients whose data is returned. A failure is the request's
// failure (503), so nothing is served unrecorded. A provider's first
// access to a citizen's record then notifies the citizen (notice.go).
// Without an Auditor (tests of other things) nothing is recorded.
func (a *API) record(r *http.Request, e audit.Event) error {
	if a.cfg.Audit == nil {
		return nil
	}
	e = attributed(r, e)
	if err := a.cfg.Audit.Record(r.Context(), e); err != nil {
		return outcome.Wrap(outcome.Transient, "the access could not be recorded in the audit journal; nothing was served", err)
	}
	return a.noticeFirstAccess(r, e)
}

// attributed is e with who asked and from where: the token's caller, the
// request id and the client's address.
func attributed(r *http.Request, e audit.Event) audit.Event {
	if claims, ok := r.Context().Value(claimsKey{}).(token.Claims); ok {
		e.Caller = audit.CallerOf(claims)
	}
	e.RequestID = requestID(r.Context())
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		e.ClientAddress = host
	}
	return e
}

// auditingWrites returns r's context carrying the audit of every write
// the resource service makes for r (resource.AuditWrites): one BALP
// AuditEvent per patient per version written — create, update, patch,
// delete, each batch or transaction entry, an operation's writes (as
// "operation": E) — and per version a batch or transaction GET entry read,
// appended in the write's transaction so it lands or goes with it.
// Without an Auditor it is r's context unchanged.
func (a *API) auditingWrites(r *http.Request) context.Context {
	if a.cfg.Audit == nil {
		return r.Context()
	}
	base := attributed(r, audit.Event{})
	operation := strings.Contains(r.URL.Path, "/$")
	return resource.AuditWrites(r.Context(), a.writeAudit(base, operation))
}

// writeAudit records what a write did as base's caller; operation marks
// the writes of an operation ($register, $merge …).
func (a *API) writeAudit(base audit.Event, operation bool) resource.WriteAudit {
	return func(ctx context.Context, tx store.AuditAppender, done []resource.Done) error {
		for _, d := range done {
			e := base
			e.Interaction = writeInteraction(d, operation)
			e.Resource = versionRef(d.Version)
			e.Patients = patientsOf([]store.Version{d.Version})
			if err := a.cfg.Audit.RecordTx(ctx, tx, e); err != nil {
				return outcome.Wrap(outcome.Transient, "the write could not be recorded in the audit journal; nothing was stored", err)
			}
		}
		return nil
	}
}

// writeInteraction is the audited interaction of one thing a write did.
func writeInteraction(d resource.Done, operation bool) audit.Interaction {
	switch {
	case d.Read:
		return audit.Read
	case operation:
		return audit.Operation
	}
	switch d.Version.Method {
	case store.MethodCreate:
		return audit.Create
	case store.MethodPatch:
		return audit.Patch
	case store.MethodDelete:
		return audit.Delete
	}
	return audit.Update
}

// versionRef is "Type/id/_history/n".
func versionRef(v store.Version) string {
	return v.Type + "/" + v.ID + "/_history/" + strconv.FormatInt(v.VersionID, 10)
}

// patientsOf lists, once each, the patients whose compartments versions
// belong to, by their own key: a restricted record (filed under
// store.RestrictedKey) is recorded against its patient.
func patientsOf(sets ...[]store.Version) []string {
	seen := map[string]bool{}
	var out []string
	for _, vs := range sets {
		for _, v := range vs {
			k := store.BaseKey(v.PatientKey)
			if k != "" && !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// restrictedOf lists, once each, the patients some of whose restricted
// records versions hold.
func restrictedOf(sets ...[]store.Version) []string {
	seen := map[string]bool{}
	var out []string
	for _, vs := range sets {
		for _, v := range vs {
			if k := store.BaseKey(v.PatientKey); store.IsRestrictedKey(v.PatientKey) && !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// recordServed records e about the patients whose records sets hold, one
// event per kind of access, so the citizen's access history can say which
// were emergency accesses (the caller's own break-glass was in force:
// Config.Emergency) and which opened restricted records.
func (a *API) recordServed(r *http.Request, e audit.Event, sets ...[]store.Version) error {
	patients, restricted := patientsOf(sets...), restrictedOf(sets...)
	type kind struct{ emergency, restricted bool }
	groups := map[kind][]string{}
	var kinds []kind
	for _, p := range patients {
		k := kind{restricted: slices.Contains(restricted, p)}
		if a.cfg.Emergency != nil {
			claims, _ := r.Context().Value(claimsKey{}).(token.Claims)
			in, err := a.cfg.Emergency(r.Context(), resource.Who{FHIRUser: claims.FHIRUser, Org: claims.Org}, p)
			if err != nil {
				return outcome.Wrap(outcome.Transient, "the access could not be recorded in the audit journal; nothing was served", err)
			}
			k.emergency = in
		}
		if _, ok := groups[k]; !ok {
			kinds = append(kinds, k)
		}
		groups[k] = append(groups[k], p)
	}
	if len(kinds) == 0 {
		return a.record(r, e)
	}
	for _, k := range kinds {
		ek := e
		ek.Patients, ek.Emergency, ek.Restricted = groups[k], k.emergency, k.restricted
		if err := a.record(r, ek); err != nil {
			return err
		}
	}
	return nil
}

// queryOf is the search as received after the base: "Observation?code=…".
func queryOf(r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/fhir/")
	if r.URL.RawQuery == "" {
		return path
	}
	return path + "?" + r.URL.RawQuery
}
