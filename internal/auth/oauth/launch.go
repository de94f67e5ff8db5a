package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/ory/fosite"

	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/store"
)

// nsLaunch holds EHR launch contexts, keyed by the hash of the launch id.
const nsLaunch = "oauth.launch"

// Launch is the context an EHR hands an app it launches (SMART EHR launch):
// who is signed in and which patient and encounter are open.
type Launch struct {
	Patient   string `json:"patient,omitempty"`   // Patient id
	Encounter string `json:"encounter,omitempty"` // Encounter id
	// FHIRUser, when set, is the only person who may use the launch.
	FHIRUser string `json:"fhirUser,omitempty"`
	// Purpose is the purpose of use the EHR declares (v3 PurposeOfUse).
	Purpose string `json:"purpose,omitempty"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

func (l Launch) check() error {
	switch {
	case l.Patient != "" && !idPattern.MatchString(l.Patient):
		return fmt.Errorf("launch patient %q: want a FHIR id", l.Patient)
	case l.Encounter != "" && !idPattern.MatchString(l.Encounter):
		return fmt.Errorf("launch encounter %q: want a FHIR id", l.Encounter)
	case l.FHIRUser != "" && !fhirUserPattern.MatchString(l.FHIRUser):
		return fmt.Errorf("launch fhirUser %q: want Patient/ID, RelatedPerson/ID or Practitioner/ID", l.FHIRUser)
	case l.Purpose != "" && !token.IsPurposeOfUse(l.Purpose):
		return fmt.Errorf("launch purpose %q: not a v3 PurposeOfUse code", l.Purpose)
	}
	return nil
}

// CreateLaunch stores a launch context and returns the opaque launch id the
// EHR passes to the app (launch=…). It can be used once, within
// Config.LaunchTTL.
func (s *Server) CreateLaunch(ctx context.Context, l Launch) (string, error) {
	if err := l.check(); err != nil {
		return "", fmt.Errorf("oauth: %w", err)
	}
	body, err := json.Marshal(l)
	if err != nil {
		return "", err
	}
	id, key, err := newSecret()
	if err != nil {
		return "", err
	}
	if err := s.keys.PutKey(ctx, store.Key{NS: nsLaunch, Key: key}, body, s.now().Add(s.cfg.LaunchTTL)); err != nil {
		return "", fmt.Errorf("oauth: create launch: %w", err)
	}
	return id, nil
}

// takeLaunch returns a launch context and forgets it.
func (s *Server) takeLaunch(ctx context.Context, id string) (Launch, error) {
	body, err := s.keys.TakeKey(ctx, nsLaunch, hashSecret(id))
	if err != nil {
		return Launch{}, fosite.ErrInvalidRequest.WithHint("The launch is unknown, expired or already used.")
	}
	var l Launch
	if err := json.Unmarshal(body, &l); err != nil {
		return Launch{}, fosite.ErrServerError.WithWrap(err)
	}
	return l, nil
}
