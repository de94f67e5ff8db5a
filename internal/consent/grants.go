package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// The codes of the platform's Consent categories.
const (
	CategorySystem  = "https://ehealth.hk/fhir/CodeSystem/consent-category"
	CategorySharing = "sharing"
)

// DefaultCareAfter is how long a care relationship lasts after the
// encounter or episode that made it ended.
const DefaultCareAfter = 90 * 24 * time.Hour

// The grantee names of the grant rules.
func sharingGrantee(org string) string            { return "sharing/" + org }
func careGrantee(org string) string               { return "care/" + org }
func emergencyGrantee(practitioner string) string { return "emergency/" + practitioner }

// Policy is the consent policy: which providers are deemed to hold a
// sharing consent, and how long care relationships last.
type Policy struct {
	// Deemed are the providers deemed to hold every citizen's sharing
	// consent ("Organization/ha"): the public sector.
	Deemed []string
	// CareAfter is how long a care relationship outlives its encounter or
	// episode (DefaultCareAfter if zero).
	CareAfter time.Duration
}

// Types are the resource types whose versions carry grants: Policy.Hook
// must run on each.
var Types = []string{"Consent", "Encounter", "EpisodeOfCare"}

// Hook records the grants one version carries, replacing what its earlier
// versions carried (a resource.TxHook: it runs inside the write's
// transaction).
func (p *Policy) Hook(ctx context.Context, tx store.Tx, v store.Version) error {
	source := v.Type + "/" + v.ID
	if _, err := tx.DeleteGrants(ctx, source); err != nil {
		return err
	}
	if v.Deleted || v.PatientKey == "" {
		return nil
	}
	var grants []store.Grant
	var err error
	switch v.Type {
	case "Consent":
		grants, err = sharingGrants(v)
	case "Encounter", "EpisodeOfCare":
		grants, err = p.careGrants(v)
	}
	if err != nil {
		return fmt.Errorf("consent: grants of %s: %w", source, err)
	}
	for _, g := range grants {
		g.PatientKey, g.Source = v.PatientKey, source
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

// sharingGrants are the grants of an active sharing Consent: one per
// organisation its permitting provision names, over the provision's
// period (from the consent's date when it has none).
func sharingGrants(v store.Version) ([]store.Grant, error) {
	var c struct {
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
	if err := json.Unmarshal(v.Body, &c); err != nil {
		return nil, err
	}
	sharing := false
	for _, cat := range c.Category {
		sharing = sharing || cat.has(CategorySystem, CategorySharing)
	}
	if !sharing || c.Status != "active" || (c.Provision.Type != "" && c.Provision.Type != "permit") {
		return nil, nil
	}
	from, to, err := window(c.Provision.Period, c.DateTime, v.Updated)
	if err != nil {
		return nil, err
	}
	var out []store.Grant
	for _, a := range c.Provision.Actor {
		if org := a.Reference.Reference; strings.HasPrefix(org, "Organization/") {
			out = append(out, store.Grant{Grantee: sharingGrantee(org), From: from, To: to})
		}
	}
	return out, nil
}

// careGrants is the care relationship an Encounter or EpisodeOfCare makes
// with the provider that serves or manages it, from its start until
// CareAfter past its end (open while it has none); cancelled and
// mistaken ones make none.
func (p *Policy) careGrants(v store.Version) ([]store.Grant, error) {
	var r struct {
		Status               string    `json:"status"`
		Period               period    `json:"period"`
		ServiceProvider      reference `json:"serviceProvider"`
		ManagingOrganization reference `json:"managingOrganization"`
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
	if !to.IsZero() {
		after := p.CareAfter
		if after == 0 {
			after = DefaultCareAfter
		}
		to = to.Add(after)
	}
	return []store.Grant{{Grantee: careGrantee(org), From: from, To: to}}, nil
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
