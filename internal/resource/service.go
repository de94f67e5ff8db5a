package resource

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/store"
)

// Validator checks a resource before it is written; it returns nil or an
// *outcome.Error carrying every issue found.
type Validator interface {
	Validate(res map[string]any) error
}

// Caller is who is asking: the server-recorded writer of any version written
// for them. Access predicates join when consent does.
type Caller struct {
	Writer string // client id or organisation recorded on every version written
}

// Service is the FHIR interaction service over a store.
type Service struct {
	store     store.Store
	validator Validator
	now       func() time.Time
	newID     func() string
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock used to stamp versions (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithIDs sets the generator of server-assigned ids (tests).
func WithIDs(newID func() string) Option { return func(s *Service) { s.newID = newID } }

// New returns a service writing to st and validating every write with v.
func New(st store.Store, v Validator, opts ...Option) *Service {
	s := &Service{store: st, validator: v, now: time.Now, newID: uuid.NewString}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Ping checks the store answers (readiness).
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// stamp returns the time a new version is written: UTC, microseconds, the
// precision both stores keep.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
