package consent

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Access is the predicate c's reads and searches apply: the operator sees
// everything; a citizen their own record, and a citizen or substitute
// decision maker the patient they launched for — restricted records
// (store.RestrictedKey) included; a professional the citizens their
// provider holds a sharing consent and a care relationship for (the
// relationship alone for a provider deemed to hold consent), those of
// their own emergency accesses, and the restricted records the citizen
// let them open (a grant recorded only under restricted keys); a provider's professionals and
// systems see what the provider deposited (a system with no professional
// sees only that); everyone sees resources outside every compartment
// (practitioners, organisations, terminology). Anyone else sees nothing.
func (p *Policy) Access(w resource.Who) store.Access {
	switch {
	case w.Operator:
		return store.AccessAll
	case strings.HasPrefix(w.FHIRUser, "Patient/") || strings.HasPrefix(w.FHIRUser, "RelatedPerson/"):
		var patients []string
		if id, ok := strings.CutPrefix(w.FHIRUser, "Patient/"); ok {
			patients = append(patients, id)
		}
		if w.Patient != "" && !slices.Contains(patients, w.Patient) {
			patients = append(patients, w.Patient)
		}
		for _, id := range patients {
			patients = append(patients, store.RestrictedKey(id))
		}
		return store.Access{Patients: patients, NonPatient: true}
	case strings.HasPrefix(w.FHIRUser, "Practitioner/") && strings.HasPrefix(w.Org, "Organization/"):
		care := []string{careGrantee(w.Org)}
		if !slices.Contains(p.Deemed, w.Org) {
			care = append([]string{sharingGrantee(w.Org)}, care...)
		}
		rules := [][]string{care, {restrictedGrantee(w.FHIRUser)}}
		if p.Emergency { // off, no emergency access holds, however recently given
			rules = append(rules, []string{emergencyGrantee(w.FHIRUser)})
		}
		return store.Access{NonPatient: true, Writers: []string{w.Org}, Grants: rules}
	case w.FHIRUser == "" && strings.HasPrefix(w.Org, "Organization/"):
		return store.Access{NonPatient: true, Writers: []string{w.Org}}
	}
	return store.Access{}
}

// InEmergency reports whether who, a professional, holds an emergency
// access (break-glass) to patient now: what they read of that patient is
// then audited as an emergency access.
func (p *Policy) InEmergency(ctx context.Context, s store.Searcher, who resource.Who, patient string) (bool, error) {
	if !p.Emergency || !strings.HasPrefix(who.FHIRUser, "Practitioner/") {
		return false, nil // no query on every read while the switch is off
	}
	ok, err := s.Visible(ctx, store.Access{Grants: [][]string{{emergencyGrantee(who.FHIRUser)}}}, patient, "")
	if err != nil {
		return false, fmt.Errorf("consent: emergency access of %s to Patient/%s: %w", who.FHIRUser, patient, err)
	}
	return ok, nil
}
