package accreditation

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/profile"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Checker judges one resource against the eHealth+ profile that applies
// to it (profile.Set).
type Checker interface {
	Check(ctx context.Context, res map[string]any) (profile.Report, error)
}

// Writer is the writer recorded on the MeasureReports the service stores.
const Writer = "ehealth-accreditation"

// DefaultTypes are the resource types a provider's sharable records are
// made of (profile.RecordType): only these are read and judged.
var DefaultTypes = []string{
	"AllergyIntolerance", "Appointment", "Composition", "Condition", "DiagnosticReport", "DocumentReference",
	"Encounter", "ImagingStudy", "Immunization", "MedicationDispense", "MedicationRequest",
	"MedicationStatement", "Observation", "Procedure", "ServiceRequest",
}

// pageSize is how many deposits are read and judged at a time.
const pageSize = 200

// Service assesses providers' connectivity and keeps the assessments.
type Service struct {
	svc     *resource.Service
	checker Checker
	types   []string
	now     func() time.Time
	page    int // deposits read at a time
}

// Option configures a Service.
type Option func(*Service)

// WithTypes sets the resource types read (DefaultTypes otherwise).
func WithTypes(types ...string) Option { return func(s *Service) { s.types = types } }

// WithClock makes the service read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns the accreditation service reading deposits through svc and
// judging them with checker.
func New(svc *resource.Service, checker Checker, opts ...Option) *Service {
	s := &Service{svc: svc, checker: checker, types: DefaultTypes, now: time.Now, page: pageSize}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Period is the span assessed: FHIR dates or dateTimes, both ends
// included (a date covers its whole day, as in search).
type Period struct {
	Start, End string
}

// ParsePeriod reads a period's ends as given to the operation or the
// command (YYYY-MM-DD or an RFC 3339 dateTime); an absent end is today, an
// absent start a year before the end.
func ParsePeriod(start, end string, now time.Time) (Period, error) {
	e, err := parseBound("end", end)
	if err != nil {
		return Period{}, err
	}
	if end == "" {
		end, e = now.UTC().Format(time.DateOnly), now.UTC()
	}
	s, err := parseBound("start", start)
	if err != nil {
		return Period{}, err
	}
	if start == "" {
		s = e.AddDate(-1, 0, 0)
		start = s.Format(time.DateOnly)
	}
	if s.After(e) {
		return Period{}, outcome.At(outcome.Invalid, "start", "the period starts (%s) after it ends (%s)", start, end)
	}
	return Period{Start: start, End: end}, nil
}

// parseBound reads one end of a period ("" is absent).
func parseBound(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil && strings.Contains(v, "T") {
		return t, nil
	}
	return time.Time{}, outcome.At(outcome.Invalid, name, "%s %q: give a date (YYYY-MM-DD) or a dateTime with its time zone", name, v)
}

// TypeScore is what a provider deposited of one record type.
type TypeScore struct {
	Type  profile.RecordType
	Count int64 // records deposited
	Valid int64 // of them, valid against the profile
	Coded int64 // of them, coded from the expected code systems
}

// ValidShare is the share of the records valid against the profile.
func (t TypeScore) ValidShare() float64 { return share(t.Valid, t.Count) }

// CodedShare is the share of the records coded from the expected systems.
func (t TypeScore) CodedShare() float64 { return share(t.Coded, t.Count) }

// share is n/of, 0 when of is 0, rounded to four decimals.
func share(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(n)/float64(of), 'f', 4, 64), 64)
	return v
}

// Counts reports whether the type counts toward the level: at least one
// record of it conforms to its profile. A provider whose every record of
// a type fails the profile has not shown it can deposit that type.
func (t TypeScore) Counts() bool { return t.Valid > 0 }

// Assessment is one provider's accreditation for a period.
type Assessment struct {
	Org    string // "Organization/ID"
	Period Period
	Date   time.Time   // when it was made
	Types  []TypeScore // by record type, in the order of the type's name
	Level  Level
	Marks  []Mark
}

// Counted are the record types that count toward the level.
func (a Assessment) Counted() []profile.RecordType {
	var out []profile.RecordType
	for _, t := range a.Types {
		if t.Counts() {
			out = append(out, t.Type)
		}
	}
	return out
}

// Assess reads what org ("Organization/ID") deposited in p — the
// resources of the service's types whose current version it wrote, last
// updated in the period — page by page, judges each with the checker and
// returns the assessment (not stored: see Record).
func (s *Service) Assess(ctx context.Context, org string, p Period) (Assessment, error) {
	if !strings.HasPrefix(org, "Organization/") || len(org) == len("Organization/") {
		return Assessment{}, outcome.New(outcome.Invalid, "a provider is an Organization/ID, not %q", org)
	}
	scores := map[profile.RecordType]*TypeScore{}
	err := s.deposits(ctx, org, p, func(res map[string]any) error {
		rep, err := s.checker.Check(ctx, res)
		if err != nil {
			return fmt.Errorf("accreditation: check %v/%v: %w", res["resourceType"], res["id"], err)
		}
		if rep.RecordType == "" {
			return nil
		}
		sc := scores[rep.RecordType]
		if sc == nil {
			sc = &TypeScore{Type: rep.RecordType}
			scores[rep.RecordType] = sc
		}
		sc.Count++
		if rep.Valid() {
			sc.Valid++
		}
		if rep.Coded {
			sc.Coded++
		}
		return nil
	})
	if err != nil {
		return Assessment{}, err
	}
	a := Assessment{Org: org, Period: p, Date: s.now().UTC().Truncate(time.Second)}
	for _, sc := range scores {
		a.Types = append(a.Types, *sc)
	}
	slices.SortFunc(a.Types, func(x, y TypeScore) int { return strings.Compare(string(x.Type), string(y.Type)) })
	counted := a.Counted()
	a.Level, a.Marks = LevelFor(len(counted)), marksFor(counted)
	return a, nil
}

// deposits calls fn with each resource org deposited in p, a page at a
// time.
func (s *Service) deposits(ctx context.Context, org string, p Period, fn func(map[string]any) error) error {
	c := resource.Caller{Writer: Writer, Access: &store.Access{Writers: []string{org}}}
	params := url.Values{
		"_type":        {strings.Join(s.types, ",")},
		"_lastUpdated": {"ge" + p.Start, "le" + p.End},
		"_count":       {strconv.Itoa(s.page)},
		"_total":       {"none"},
	}
	cursor := ""
	for {
		page, err := s.svc.Search(ctx, c, "", params, resource.SearchOptions{Strict: true, Cursor: cursor})
		if err != nil {
			return fmt.Errorf("accreditation: deposits of %s: %w", org, err)
		}
		for _, v := range page.Matches {
			res, err := fhir.Parse(v.Body)
			if err != nil {
				return outcome.Wrap(outcome.Internal, "accreditation: decode "+v.Type+"/"+v.ID, err)
			}
			if err := fn(res); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		cursor = page.Next
	}
}
