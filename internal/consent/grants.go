package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// The codes of the platform's Consent categories.
const (
	CategorySystem = "https://ehealth.hk/fhir/CodeSystem/consent-category"
	// CategorySharing: a provider organisation may view the record.
	CategorySharing = "sharing"
	// CategoryEmergency: one professional's time-boxed emergency access.
	CategoryEmergency = "emergency"
	// CategoryRestriction: the citizen's choice of record types or
	// categories to keep restricted (provision deny).
	CategoryRestriction = "restriction"
	// CategoryRestrictedAccess: one professional may open the restricted
	// records for a time, authorised by the citizen's one-time code.
	CategoryRestrictedAccess = "restricted-access"
)

// EpisodeTypeSystem codes the kinds of EpisodeOfCare the platform writes;
// EpisodeRegistered marks a care relationship registered when the patient
// was identified at the clinic: it ends at its period's end, with no
// CareAfter.
const (
	EpisodeTypeSystem = "https://ehealth.hk/fhir/CodeSystem/episode-type"
	EpisodeRegistered = "registered-relationship"
)

// DefaultCareAfter is how long a care relationship lasts after the
// encounter or episode that made it ended.
const DefaultCareAfter = 90 * 24 * time.Hour

// The grantee names of the grant rules.
func sharingGrantee(org string) string            { return "sharing/" + org }
func careGrantee(org string) string               { return "care/" + org }
func emergencyGrantee(practitioner string) string { return "emergency/" + practitioner }

// restrictedGrantee is recorded under a patient's store.RestrictedKey, so
// it matches only restricted records.
func restrictedGrantee(practitioner string) string { return "restricted/" + practitioner }

// Policy is the consent policy: which providers are deemed to hold a
// sharing consent, how long care relationships last, and the switches and
// windows of the consent operations (Operations). Zero durations take the
// defaults below.
type Policy struct {
	// Deemed are the providers deemed to hold every citizen's sharing
	// consent ("Organization/ha"): the public sector.
	Deemed []string
	// CareAfter is how long a care relationship outlives its encounter or
	// episode (DefaultCareAfter if zero).
	CareAfter time.Duration

	// Emergency turns emergency access (break-glass) on.
	Emergency bool
	// EmergencyWindow is how long an emergency access lasts.
	EmergencyWindow time.Duration
	// ShowRestrictedExists offers Patient/{id}/$restricted-exists, which
	// tells a professional who may see the patient whether restricted
	// records exist. Off, nothing reveals that they do.
	ShowRestrictedExists bool
	// RestrictedWindow is how long an opened restricted record stays open.
	RestrictedWindow time.Duration
	// RelationshipExpiry is how long a care relationship registered at the
	// clinic lasts.
	RelationshipExpiry time.Duration
	// SharingValidity is how long a sharing consent given without an end
	// date lasts; zero: indefinitely. (assumed: one year is an option.)
	SharingValidity time.Duration
	// CodeTTL is how long a one-time code may be used, CodeAttempts how
	// many wrong codes end it.
	CodeTTL      time.Duration
	CodeAttempts int
}

// The defaults of Policy's windows.
const (
	DefaultEmergencyWindow    = 24 * time.Hour
	DefaultRestrictedWindow   = 24 * time.Hour
	DefaultRelationshipExpiry = 30 * 24 * time.Hour
	DefaultCodeTTL            = 10 * time.Minute
	DefaultCodeAttempts       = 3
)

// or is d, or def when d is zero.
func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (p *Policy) emergencyWindow() time.Duration {
	return or(p.EmergencyWindow, DefaultEmergencyWindow)
}
func (p *Policy) restrictedWindow() time.Duration {
	return or(p.RestrictedWindow, DefaultRestrictedWindow)
}
func (p *Policy) relationshipExpiry() time.Duration {
	return or(p.RelationshipExpiry, DefaultRelationshipExpiry)
}
func (p *Policy) codeTTL() time.Duration { return or(p.CodeTTL, DefaultCodeTTL) }
func (p *Policy) codeAttempts() int {
	if p.CodeAttempts > 0 {
		return p.CodeAttempts
	}
	return DefaultCodeAttempts
}

// Types are the resource types whose versions carry grants: Policy.Hook
// must run on each.
var Types = []string{"Consent", "Encounter", "EpisodeOfCare", "Appointment", "ServiceRequest"}

// Hook records the grants one version carries, replacing what its earlier
// versions carried (a resource.TxHook: it runs inside the write's
// transaction).
func (p *Policy) Hook(ctx context.Context, tx store.Tx, v store.Version) error {
	source := v.Type + "/" + v.ID
	if _, err := tx.DeleteGrants(ctx, source); err != nil {
		return err
	}
	// Grants are about the patient, whichever of their compartment keys
	// the version is filed under (a restricted Encounter still makes a
	// care relationship with the whole record).
	base := store.BaseKey(v.PatientKey)
	if v.Deleted || base == "" {
		return nil
	}
	var grants []store.Grant
	var err error
	switch v.Type {
	case "Consent":
		grants, err = consentGrants(v)
	case "Encounter", "EpisodeOfCare":
		grants, err = p.careGrants(v)
	case "Appointment", "ServiceRequest":
		grants, err = p.bookedCare(ctx, tx, v)
	}
	if err != nil {
		return fmt.Errorf("consent: grants of %s: %w", source, err)
	}
	for _, g := range grants {
		if g.PatientKey == "" {
			g.PatientKey = base
		}
		g.Source = source
		if err := tx.PutGrant(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

type reference struct {
	Reference string `json:"reference"`
}

type period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type codeable struct {
	Coding []struct {
		System string `json:"system"`
		Code   string `json:"code"`
	} `json:"coding"`
}

func (c codeable) has(system, code string) bool {
	for _, cd := range c.Coding {
		if cd.System == system && cd.Code == code {
			return true
		}
	}
	return false
}

// consentBody is what the grants of a Consent are read from.
type consentBody struct {
	Status    string     `json:"status"`
	Category  []codeable `json:"category"`
	DateTime  string     `json:"dateTime"`
	Provision struct {
		Type   string `json:"type"`
		Period period `json:"period"`
		Actor  []struct {
			Reference reference `json:"reference"`
		} `json:"actor"`
	} `json:"provision"`
}

// category is the first of the platform's categories c carries.
func (c consentBody) category() string {
	for _, cat := range c.Category {
		for _, cd := range cat.Coding {
			if cd.System == CategorySystem {
				return cd.Code
			}
		}
	}
	return ""
}

// consentGrants are the grants of an active, permitting Consent, over the
// provision's period (from the consent's date when it has none): a
// sharing consent grants each organisation its provision names; an
// emergency access each practitioner; a restricted access each
// practitioner, under the patient's restricted key.
func consentGrants(v store.Version) ([]store.Grant, error) {
	var c consentBody
	if err := json.Unmarshal(v.Body, &c); err != nil {
		return nil, err
	}
	if c.Status != "active" || (c.Provision.Type != "" && c.Provision.Type != "permit") {
		return nil, nil
	}
	var prefix string
	var grantee func(string) string
	key := ""
	switch c.category() {
	case CategorySharing:
		prefix, grantee = "Organization/", sharingGrantee
	case CategoryEmergency:
		prefix, grantee = "Practitioner/", emergencyGrantee
	case CategoryRestrictedAccess:
		prefix, grantee = "Practitioner/", restrictedGrantee
		key = store.RestrictedKey(store.BaseKey(v.PatientKey))
	default:
		return nil, nil
	}
	from, to, err := window(c.Provision.Period, c.DateTime, v.Updated)
	if err != nil {
		return nil, err
	}
	var out []store.Grant
	for _, a := range c.Provision.Actor {
		if who := a.Reference.Reference; strings.HasPrefix(who, prefix) {
			out = append(out, store.Grant{Grantee: grantee(who), PatientKey: key, From: from, To: to})
		}
	}
	return out, nil
}

// careGrants is the care relationship an Encounter or EpisodeOfCare makes
// with the provider that serves or manages it, from its start until
// CareAfter past its end (open while it has none) — a relationship
// registered at the clinic (EpisodeRegistered) to its end exactly;
// cancelled and mistaken ones make none.
func (p *Policy) careGrants(v store.Version) ([]store.Grant, error) {
	var r struct {
		Status               string     `json:"status"`
		Type                 []codeable `json:"type"`
		Period               period     `json:"period"`
		ServiceProvider      reference  `json:"serviceProvider"`
		ManagingOrganization reference  `json:"managingOrganization"`
	}
	if err := json.Unmarshal(v.Body, &r); err != nil {
		return nil, err
	}
	switch r.Status {
	case "cancelled", "entered-in-error":
		return nil, nil
	}
	org := r.ServiceProvider.Reference
	if v.Type == "EpisodeOfCare" {
		org = r.ManagingOrganization.Reference
	}
	if !strings.HasPrefix(org, "Organization/") {
		return nil, nil
	}
	from, to, err := window(r.Period, "", v.Updated)
	if err != nil {
		return nil, err
	}
	registered := false
	for _, t := range r.Type {
		registered = registered || (v.Type == "EpisodeOfCare" && t.has(EpisodeTypeSystem, EpisodeRegistered))
	}
	if !to.IsZero() && !registered {
		after := p.CareAfter
		if after == 0 {
			after = DefaultCareAfter
		}
		to = to.Add(after)
	}
	return []store.Grant{{Grantee: careGrantee(org), From: from, To: to}}, nil
}

// bookedCare is the care relationship an appointment or a referral makes
// with the providers it books or refers the patient to: an Appointment's
// participants, a ServiceRequest's performers — an Organization, or the
// organisation of a PractitionerRole, HealthcareService or Location (read
// in the write's transaction). An appointment holds from its start (or
// when written) until CareAfter past its end; a referral from when it was
// authored while it is active or on hold, and until CareAfter past its
// completion. Proposed, cancelled, no-show, draft, revoked and mistaken
// ones make none.
func (p *Policy) bookedCare(ctx context.Context, tx store.Tx, v store.Version) ([]store.Grant, error) {
	var r struct {
		Status      string `json:"status"`
		Start       string `json:"start"`
		End         string `json:"end"`
		AuthoredOn  string `json:"authoredOn"`
		Participant []struct {
			Actor  reference `json:"actor"`
			Status string    `json:"status"`
		} `json:"participant"`
		Performer []reference `json:"performer"`
	}
	if err := json.Unmarshal(v.Body, &r); err != nil {
		return nil, err
	}
	after := p.CareAfter
	if after == 0 {
		after = DefaultCareAfter
	}
	var refs []string
	var from, to time.Time
	var err error
	switch v.Type {
	case "Appointment":
		switch r.Status {
		case "proposed", "cancelled", "noshow", "entered-in-error", "":
			return nil, nil
		}
		for _, pt := range r.Participant {
			if pt.Status != "declined" {
				refs = append(refs, pt.Actor.Reference)
			}
		}
		if from, to, err = window(period{Start: r.Start, End: r.End}, "", v.Updated); err != nil {
			return nil, err
		}
		if !to.IsZero() {
			to = to.Add(after)
		}
	case "ServiceRequest":
		switch r.Status {
		case "active", "on-hold":
		case "completed":
			to = v.Updated.Add(after)
		default:
			return nil, nil
		}
		for _, pf := range r.Performer {
			refs = append(refs, pf.Reference)
		}
		from = v.Updated
		if r.AuthoredOn != "" {
			if from, err = parseTime(r.AuthoredOn, false); err != nil {
				return nil, err
			}
		}
	}
	var out []store.Grant
	seen := map[string]bool{}
	for _, ref := range refs {
		org, err := organisationOf(ctx, tx, ref)
		if err != nil {
			return nil, err
		}
		if org != "" && !seen[org] {
			seen[org] = true
			out = append(out, store.Grant{Grantee: careGrantee(org), From: from, To: to})
		}
	}
	return out, nil
}

// organisationOf is the provider a participant or performer reference
// stands for: the Organization itself, or the organisation of the
// PractitionerRole, HealthcareService or Location it names ("" for
// anything else: a Practitioner alone belongs to no one provider).
func organisationOf(ctx context.Context, tx store.Tx, ref string) (string, error) {
	typ, id, ok := strings.Cut(ref, "/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", nil
	}
	field := map[string]string{"PractitionerRole": "organization", "HealthcareService": "providedBy", "Location": "managingOrganization"}[typ]
	switch {
	case typ == "Organization":
		return ref, nil
	case field == "":
		return "", nil
	}
	v, err := tx.Read(ctx, typ, id)
	if outcome.Is(err, outcome.NotFound) || (err == nil && v.Deleted) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(v.Body, &res); err != nil {
		return "", err
	}
	var org reference
	if raw, ok := res[field]; ok {
		if err := json.Unmarshal(raw, &org); err != nil {
			return "", err
		}
	}
	if !strings.HasPrefix(org.Reference, "Organization/") {
		return "", nil
	}
	return org.Reference, nil
}

// window is the validity of a period: from its start (else fallback, else
// written), to its end (zero: open). A date-only end runs to the end of
// its day.
func window(p period, fallback string, written time.Time) (from, to time.Time, err error) {
	from = written
	for _, s := range []string{p.Start, fallback} {
		if s != "" {
			if from, err = parseTime(s, false); err != nil {
				return
			}
			break
		}
	}
	if p.End != "" {
		to, err = parseTime(p.End, true)
	}
	return
}

// parseTime reads a FHIR date or dateTime; end takes the end of a partial
// date's span.
func parseTime(s string, end bool) (time.Time, error) {
	for _, layout := range []struct {
		f    string
		span func(time.Time) time.Time
	}{
		{time.RFC3339Nano, func(t time.Time) time.Time { return t }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
	} {
		if t, err := time.Parse(layout.f, s); err == nil {
			if end {
				return layout.span(t), nil
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a FHIR date or dateTime", s)
}
