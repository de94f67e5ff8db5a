package journal

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Service serves the journal: AuditEvents, access histories and reports.
type Service struct {
	log store.AuditLog
	svc *resource.Service
	reg *registry.Registry
	now func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns the service reading log (the store's journal), names and
// records through svc as the platform, and citizens' keys and substitute
// decision makers from reg.
func New(log store.AuditLog, svc *resource.Service, reg *registry.Registry, opts ...Option) *Service {
	s := &Service{log: log, svc: svc, reg: reg, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// view is the part of the journal a caller may see.
type view struct {
	all bool // the operator (or the platform's own code)
	// subjects are the citizens whose entries the caller sees (a citizen
	// themself, the child an SDM acts for), and keys every patient key of
	// their records, restricted sub-keys included.
	subjects []string
	keys     []string
	// org is the provider whose own accesses the caller sees.
	org string
}

// empty reports whether v shows nothing.
func (v view) empty() bool { return !v.all && len(v.keys) == 0 && v.org == "" }

// viewOf decides what c may see of the journal.
func (s *Service) viewOf(ctx context.Context, c resource.Caller) (view, error) {
	if c.Grants == nil {
		return view{all: true}, nil
	}
	if !c.View.Sees("AuditEvent") {
		// The role's view leaves AuditEvents out of a patient's record
		// (resource.View): as if there were none.
		return view{}, nil
	}
	w := c.Who
	if strings.HasPrefix(w.FHIRUser, "Patient/") || strings.HasPrefix(w.FHIRUser, "RelatedPerson/") {
		return s.citizenView(ctx, w)
	}
	if strings.HasPrefix(w.Org, "Organization/") {
		return view{org: w.Org}, nil
	}
	return view{}, nil
}

// citizenView is what a citizen or an SDM sees: the citizen's own entries
// and those of the patient they launched for, when they may act for them.
func (s *Service) citizenView(ctx context.Context, w resource.Who) (view, error) {
	var v view
	if id, ok := strings.CutPrefix(w.FHIRUser, "Patient/"); ok {
		v.subjects = append(v.subjects, id)
	}
	if w.Patient != "" && !slices.Contains(v.subjects, w.Patient) {
		ok, err := s.actsFor(ctx, w.FHIRUser, w.Patient)
		if err != nil {
			return view{}, err
		}
		if ok {
			v.subjects = append(v.subjects, w.Patient)
		}
	}
	for _, id := range v.subjects {
		keys, err := s.keysOf(ctx, id)
		if err != nil {
			return view{}, err
		}
		v.keys = append(v.keys, keys...)
	}
	return v, nil
}

// actsFor reports whether fhirUser may act for patient as a substitute
// decision maker now: a RelatedPerson with the authority, or a citizen
// whose own record links (seealso) to such a RelatedPerson.
func (s *Service) actsFor(ctx context.Context, fhirUser, patient string) (bool, error) {
	var related []string
	if id, ok := strings.CutPrefix(fhirUser, "RelatedPerson/"); ok {
		related = []string{id}
	} else if id, ok := strings.CutPrefix(fhirUser, "Patient/"); ok {
		p, err := s.read(ctx, "Patient", id)
		if err != nil || p == nil {
			return false, err
		}
		for _, l := range list(p["link"]) {
			if ref := refOf(get(l, "other")); strings.HasPrefix(ref, "RelatedPerson/") && get(l, "type") == "seealso" {
				related = append(related, strings.TrimPrefix(ref, "RelatedPerson/"))
			}
		}
	}
	for _, id := range related {
		child, _, ok, err := s.reg.ActsFor(ctx, id)
		if err != nil {
			return false, err
		}
		if ok && child == patient {
			return true, nil
		}
	}
	return false, nil
}

// keysOf is every patient key of a citizen's record, each with its
// restricted sub-key: the journal files an access under the key of the
// record touched. A Patient that is not known has only its own id.
func (s *Service) keysOf(ctx context.Context, patient string) ([]string, error) {
	keys, err := s.reg.Compartments(ctx, patient)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		keys, err = []string{patient}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		out = append(out, k, store.RestrictedKey(k))
	}
	return out, nil
}

// about reports whether entry e concerns one of keys (compared by base key).
func about(e store.AuditEntry, keys []string) bool {
	for _, p := range e.Patients {
		for _, k := range keys {
			if store.BaseKey(p) == store.BaseKey(k) {
				return true
			}
		}
	}
	return false
}

// sees reports whether v shows entry e, whose parsed event is ev.
func (v view) sees(e store.AuditEntry, ev event) bool {
	switch {
	case v.all:
		return true
	case len(v.keys) > 0:
		return about(e, v.keys)
	case v.org != "":
		return ev.hasAgent(v.org)
	}
	return false
}

// mayRead reports whether c's token grants p on AuditEvent in any context,
// unfiltered (the journal does not evaluate finer scopes' queries).
func mayRead(c resource.Caller, p scope.Perm) bool {
	if c.Grants == nil {
		return true
	}
	for _, ctx := range []scope.Context{scope.Patient, scope.User, scope.System} {
		if ok, filters := c.Grants.Scopes.Allows(ctx, p, "AuditEvent"); ok && filters == nil {
			return true
		}
	}
	return false
}

// needScope is the 403 of a token without AuditEvent read or search.
func needScope(p scope.Perm) error {
	return outcome.New(outcome.Forbidden, "reading the audit journal needs a scope granting AuditEvent %s", p)
}

// notKnown answers for what the caller may not see, word for word as for
// what does not exist.
func notKnown(typ, id string) error {
	return outcome.New(outcome.NotFound, "%s/%s is not known", typ, id)
}

// read reads typ/id as the platform, parsed; nil when it is not known.
func (s *Service) read(ctx context.Context, typ, id string) (map[string]any, error) {
	v, err := s.svc.Read(ctx, resource.Caller{}, typ, id)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	res, err := fhir.Parse(v.Body)
	if err != nil {
		return nil, outcome.Wrap(outcome.Internal, "journal: decode "+typ+"/"+id, err)
	}
	return res, nil
}
