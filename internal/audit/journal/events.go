package journal

import (
	"bytes"
	"context"
	"math"
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// ReadEvent returns the journal's AuditEvent id ("j-<seq>",
// https://hl7.org/fhir/R4/http.html#read) as c may see it. An entry c may
// not see answers exactly as one that does not exist.
func (s *Service) ReadEvent(ctx context.Context, c resource.Caller, id string) (audit.Served, error) {
	if !mayRead(c, scope.Read) {
		return audit.Served{}, needScope(scope.Read)
	}
	seq, ok := audit.ParseEventID(id)
	if !ok {
		return audit.Served{}, notKnown("AuditEvent", id)
	}
	v, err := s.viewOf(ctx, c)
	if err != nil || v.empty() {
		return audit.Served{}, orNotKnown(err, "AuditEvent", id)
	}
	e, found, err := s.entry(ctx, seq)
	if err != nil || !found {
		return audit.Served{}, orNotKnown(err, "AuditEvent", id)
	}
	ev, err := parse(e)
	if err != nil {
		return audit.Served{}, err
	}
	if !v.sees(e, ev) {
		return audit.Served{}, notKnown("AuditEvent", id)
	}
	return serve(e, v)
}

// orNotKnown is err, or the not-known answer when there is none.
func orNotKnown(err error, typ, id string) error {
	if err != nil {
		return err
	}
	return notKnown(typ, id)
}

// entry reads journal entry seq.
func (s *Service) entry(ctx context.Context, seq int64) (store.AuditEntry, bool, error) {
	got, err := s.log.ReadAudit(ctx, store.AuditQuery{From: seq, To: seq, Limit: 1})
	if err != nil {
		return store.AuditEntry{}, false, outcome.Wrap(outcome.Internal, "journal: read entry", err)
	}
	if len(got) != 1 || got[0].Seq != seq {
		return store.AuditEntry{}, false, nil
	}
	return got[0], true, nil
}

// serve renders entry e for a reader with view v. A citizen or SDM does
// not get the security details of the professional's session — the
// client's network address and the token id (agent.network of type IP
// address, agent.policy) — which are for the provider and the operator.
func serve(e store.AuditEntry, v view) (audit.Served, error) {
	body, err := audit.Resource(e)
	if err != nil {
		return audit.Served{}, outcome.Wrap(outcome.Internal, "journal: serve", err)
	}
	if !v.all && len(v.keys) > 0 {
		res, err := fhir.Parse(body)
		if err != nil {
			return audit.Served{}, outcome.Wrap(outcome.Internal, "journal: serve", err)
		}
		for _, a := range list(res["agent"]) {
			m, _ := a.(map[string]any)
			delete(m, "policy")
			if str(m, "network", "type") == "2" {
				delete(m, "network")
			}
		}
		if body, err = fhir.Marshal(res); err != nil {
			return audit.Served{}, outcome.Wrap(outcome.Internal, "journal: serve", err)
		}
	}
	return audit.Served{Seq: e.Seq, Time: e.Time, Body: body, Patients: e.Patients}, nil
}

// searchParams are the parameters an AuditEvent search of the journal
// takes; _format and _pretty are the API's. _total is accepted and no
// total given (counting a filtered journal costs as much as reading it).
var searchParams = []string{"patient", "date", "_count", "_cursor", "_total", "_sort", "_format", "_pretty"}

// query is a parsed search of the journal.
type query struct {
	patients []string
	from, to int64 // recorded in [from, to), µs since the epoch
	count    int
	before   int64
}

// SearchEvents runs GET AuditEvent?patient=&date=&_count= over the journal
// (https://hl7.org/fhir/R4/auditevent.html#search): the entries c may see,
// newest first, a page at a time. What c may not see is simply not there.
func (s *Service) SearchEvents(ctx context.Context, c resource.Caller, params url.Values) (audit.Page, error) {
	if !mayRead(c, scope.Search) {
		return audit.Page{}, needScope(scope.Search)
	}
	q, err := parseQuery(params)
	if err != nil {
		return audit.Page{}, err
	}
	v, err := s.viewOf(ctx, c)
	if err != nil || v.empty() {
		return audit.Page{}, err
	}
	src, err := s.sourceFor(ctx, v, q.patients)
	if err != nil || src == nil {
		return audit.Page{}, err
	}
	entries, next, err := scan(ctx, src, q.before, q.count, func(e store.AuditEntry) (verdict, error) {
		return q.judge(e, v)
	})
	if err != nil {
		return audit.Page{}, err
	}
	page := audit.Page{Next: encodeCursor(next), Events: make([]audit.Served, 0, len(entries))}
	for _, e := range entries {
		served, err := serve(e, v)
		if err != nil {
			return audit.Page{}, err
		}
		page.Events = append(page.Events, served)
	}
	return page, nil
}

// sourceFor is where a search reads: the keys of the patients asked for
// (only those the view covers), the view's keys, or the whole journal
// (the operator, a provider). nil: nothing to read.
func (s *Service) sourceFor(ctx context.Context, v view, patients []string) (source, error) {
	if len(patients) == 0 {
		if len(v.keys) > 0 {
			return byKeys(s.log, v.keys), nil
		}
		return whole(s.log), nil
	}
	var keys []string
	for _, p := range patients {
		got, err := s.keysOf(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, k := range got {
			if (v.all || v.org != "" || slices.Contains(v.keys, k)) && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return byKeys(s.log, keys), nil
}

// judge decides whether entry e is on a page of q for view v. Dates are
// a filter, not a bound on the scan: an entry's time is when the event
// happened, which need not follow the seq order exactly.
func (q query) judge(e store.AuditEntry, v view) (verdict, error) {
	if t := e.Time.UnixMicro(); t < q.from || t >= q.to {
		return skip, nil
	}
	if v.org == "" {
		return keep, nil // byKeys and the operator's view need no more
	}
	if !bytes.Contains(e.Body, []byte(`"`+v.org+`"`)) {
		return skip, nil
	}
	ev, err := parse(e)
	if err != nil || !v.sees(e, ev) {
		return skip, err
	}
	return keep, nil
}

// parseQuery reads the parameters of a journal search.
func parseQuery(params url.Values) (query, error) {
	q := query{from: math.MinInt64, to: math.MaxInt64}
	for name, values := range params {
		if !slices.Contains(searchParams, name) {
			return q, outcome.New(outcome.Invalid, "a search of the audit journal takes patient, date, _count and _cursor, not %s (AuditEvents sent by other systems: _tag=%s)", name, ExternalTag)
		}
		if name != "date" && len(values) > 1 {
			return q, outcome.New(outcome.Invalid, "%s is given more than once", name)
		}
	}
	var err error
	if q.count, err = parseCount(params.Get("_count")); err != nil {
		return q, err
	}
	if q.before, err = decodeCursor(params.Get("_cursor")); err != nil {
		return q, err
	}
	if s := params.Get("_sort"); s != "" && s != "-date" {
		return q, outcome.New(outcome.Invalid, "the audit journal is served newest first (_sort=-date) only")
	}
	if s := params.Get("patient"); s != "" {
		for _, p := range strings.Split(s, ",") {
			id := strings.TrimPrefix(p, "Patient/")
			if id == "" || strings.Contains(id, "/") {
				return q, outcome.New(outcome.Invalid, "patient=%s is not a Patient reference", p)
			}
			q.patients = append(q.patients, id)
		}
	}
	for _, d := range params["date"] {
		if err := q.addDate(d); err != nil {
			return q, err
		}
	}
	return q, nil
}

// addDate narrows q by one date parameter (eq, ge, gt, le, lt); several
// are ANDed. A date without a zone is read in Hong Kong time.
func (q *query) addDate(s string) error {
	prefix := "eq"
	if len(s) > 2 && s[0] >= 'a' && s[0] <= 'z' {
		prefix, s = s[:2], s[2:]
	}
	r, err := search.ParseDate(s, registry.HongKong)
	if err != nil || strings.Contains(s, ",") {
		return outcome.New(outcome.Invalid, "date=%s is not a FHIR date", s)
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	switch prefix {
	case "eq":
		from, to = r.Lo, r.Hi
	case "ge":
		from = r.Lo
	case "gt":
		from = r.Hi
	case "le":
		to = r.Hi
	case "lt":
		to = r.Lo
	default:
		return outcome.New(outcome.Invalid, "date takes the prefixes eq, ge, gt, le and lt, not %s", prefix)
	}
	q.from, q.to = max(q.from, from), min(q.to, to)
	return nil
}

// ExternalTag marks AuditEvents sent by other systems (IHE ATNA "record
// audit event"): stored as ordinary resources, outside the journal. A
// search with _tag=ExternalTag goes to the ordinary store search.
const ExternalTag = "https://ehealth.hk/fhir/CodeSystem/audit-origin|external"
