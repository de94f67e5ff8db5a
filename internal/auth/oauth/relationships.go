package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// PatientChoice is a patient a signed-in person may launch an app for.
type PatientChoice struct {
	ID   string // the Patient's id
	Name string // as shown on the picker
	// Relationship says why: "self", or the RelatedPerson's relationship
	// (e.g. "mother", "guardian").
	Relationship string
}

// Relationships tells for whom a person may act: the patients a standalone
// launch with launch/patient can be for.
type Relationships interface {
	// PatientsFor returns the patients fhirUser may choose, the person
	// themself first when they are a patient; none is not an error.
	PatientsFor(ctx context.Context, fhirUser string) ([]PatientChoice, error)
}

// ResourceReader reads current resources: store.Store is one.
type ResourceReader interface {
	Read(ctx context.Context, typ, id string) (store.Version, error)
}

// StoreRelationships finds the patients a person acts for in the stored
// resources, by reads only:
//
//   - a Patient acts for themself, and for the patient of each RelatedPerson
//     their Patient.link names with type "seealso" (FHIR R4: a link to a
//     RelatedPerson that is the same person) — how a citizen who is a
//     parent or a substitute decision maker is tied to the children they
//     act for;
//   - a RelatedPerson acts for its patient.
//
// Inactive RelatedPersons and Patients, and RelatedPersons whose period has
// ended, count for nothing. The registration work decides how these links
// are written; if it ties people together differently, this type follows.
type StoreRelationships struct {
	Store ResourceReader
	Now   func() time.Time // time.Now if nil
}

// personJSON is the part of a Patient or RelatedPerson read here.
type personJSON struct {
	Active  *bool       `json:"active"`
	Name    []humanName `json:"name"`
	Patient *reference  `json:"patient"`
	Link    []struct {
		Other reference `json:"other"`
		Type  string    `json:"type"`
	} `json:"link"`
	Relationship []struct {
		Text   string `json:"text"`
		Coding []struct {
			Code    string `json:"code"`
			Display string `json:"display"`
		} `json:"coding"`
	} `json:"relationship"`
	Period *struct {
		End string `json:"end"`
	} `json:"period"`
	Practitioner *reference `json:"practitioner"`
	Organization *reference `json:"organization"`
}

type reference struct {
	Reference string `json:"reference"`
}

type humanName struct {
	Text   string   `json:"text"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
}

// PatientsFor implements Relationships.
func (s StoreRelationships) PatientsFor(ctx context.Context, fhirUser string) ([]PatientChoice, error) {
	typ, id, _ := strings.Cut(fhirUser, "/")
	switch typ {
	case "Patient":
		p, ok, err := s.read(ctx, "Patient", id)
		if err != nil || !ok {
			return nil, err
		}
		out := []PatientChoice{{ID: id, Name: displayName(p.Name), Relationship: "self"}}
		for _, l := range p.Link {
			rtyp, rid, _ := strings.Cut(l.Other.Reference, "/")
			if l.Type != "seealso" || rtyp != "RelatedPerson" {
				continue
			}
			c, ok, err := s.relatedPatient(ctx, rid)
			if err != nil {
				return nil, err
			}
			if ok && c.ID != id {
				out = append(out, c)
			}
		}
		return out, nil
	case "RelatedPerson":
		c, ok, err := s.relatedPatient(ctx, id)
		if err != nil || !ok {
			return nil, err
		}
		return []PatientChoice{c}, nil
	}
	return nil, nil
}

// relatedPatient returns the patient of an active RelatedPerson.
func (s StoreRelationships) relatedPatient(ctx context.Context, id string) (PatientChoice, bool, error) {
	rp, ok, err := s.read(ctx, "RelatedPerson", id)
	if err != nil || !ok || rp.Patient == nil || s.ended(rp) {
		return PatientChoice{}, false, err
	}
	ptyp, pid, _ := strings.Cut(rp.Patient.Reference, "/")
	if ptyp != "Patient" {
		return PatientChoice{}, false, nil
	}
	p, ok, err := s.read(ctx, "Patient", pid)
	if err != nil || !ok {
		return PatientChoice{}, false, err
	}
	return PatientChoice{ID: pid, Name: displayName(p.Name), Relationship: relationshipText(rp)}, true, nil
}

// ended reports whether a RelatedPerson's period is over.
func (s StoreRelationships) ended(rp personJSON) bool {
	if rp.Period == nil || rp.Period.End == "" {
		return false
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, rp.Period.End); err == nil {
			return !now().Before(t)
		}
	}
	return false
}

// read returns an active, not deleted resource; ok is false otherwise.
func (s StoreRelationships) read(ctx context.Context, typ, id string) (personJSON, bool, error) {
	return readPerson(ctx, s.Store, typ, id)
}

func readPerson(ctx context.Context, st ResourceReader, typ, id string) (personJSON, bool, error) {
	if id == "" {
		return personJSON{}, false, nil
	}
	v, err := st.Read(ctx, typ, id)
	if outcome.Is(err, outcome.NotFound) {
		return personJSON{}, false, nil
	}
	if err != nil {
		return personJSON{}, false, fmt.Errorf("oauth: read %s/%s: %w", typ, id, err)
	}
	if v.Deleted {
		return personJSON{}, false, nil
	}
	var p personJSON
	if err := json.Unmarshal(v.Body, &p); err != nil {
		return personJSON{}, false, fmt.Errorf("oauth: read %s/%s: %w", typ, id, err)
	}
	if p.Active != nil && !*p.Active {
		return personJSON{}, false, nil
	}
	return p, true, nil
}

// displayName joins a person's names (English and Chinese are usually two
// HumanNames) for the picker.
func displayName(names []humanName) string {
	var parts []string
	for _, n := range names {
		s := n.Text
		if s == "" {
			s = strings.TrimSpace(strings.Join(n.Given, " ") + " " + n.Family)
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " / ")
}

func relationshipText(rp personJSON) string {
	for _, r := range rp.Relationship {
		if r.Text != "" {
			return r.Text
		}
		for _, c := range r.Coding {
			if c.Display != "" {
				return c.Display
			}
			if c.Code != "" {
				return c.Code
			}
		}
	}
	return "related person"
}

// Roles confirms the role a clinic system asserts for its professional in a
// token exchange.
type Roles interface {
	// CheckRole returns nil if role (PractitionerRole/ID) is an active role
	// of practitioner (Practitioner/ID) at org (Organization/ID).
	CheckRole(ctx context.Context, practitioner, role, org string) error
}

// StoreRoles checks roles against the stored PractitionerRole resources.
type StoreRoles struct {
	Store ResourceReader
}

// CheckRole implements Roles.
func (s StoreRoles) CheckRole(ctx context.Context, practitioner, role, org string) error {
	_, id, _ := strings.Cut(role, "/")
	pr, ok, err := readPerson(ctx, s.Store, "PractitionerRole", id)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return fmt.Errorf("%s is not an active PractitionerRole", role)
	case pr.Practitioner == nil || pr.Practitioner.Reference != practitioner:
		return fmt.Errorf("%s is not a role of %s", role, practitioner)
	case pr.Organization == nil || pr.Organization.Reference != org:
		return fmt.Errorf("%s is not a role at %s", role, org)
	}
	return nil
}
