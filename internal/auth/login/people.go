package login

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Reader reads and searches the FHIR record: *resource.Service is one. The
// login reads as the platform (a Caller without Grants): it looks people up
// before anyone is signed in.
type Reader interface {
	Read(ctx context.Context, c resource.Caller, typ, id string) (store.Version, error)
	Search(ctx context.Context, c resource.Caller, typ string, params url.Values, opts resource.SearchOptions) (resource.SearchResult, error)
}

// directory answers the login's questions about people from the record.
type directory struct {
	reader Reader
	now    func() time.Time
}

// person is the part of a Patient, Practitioner, PractitionerRole or
// Organization the login reads.
type person struct {
	Active  *bool           `json:"active"`
	Name    json.RawMessage `json:"name"`
	Telecom []struct {
		System string  `json:"system"`
		Value  string  `json:"value"`
		Use    string  `json:"use"`
		Rank   int     `json:"rank"`
		Period *period `json:"period"`
	} `json:"telecom"`
	Link []struct {
		Other ref    `json:"other"`
		Type  string `json:"type"`
	} `json:"link"`
	Practitioner *ref    `json:"practitioner"`
	Organization *ref    `json:"organization"`
	Period       *period `json:"period"`
	Code         []struct {
		Text   string `json:"text"`
		Coding []struct {
			Code    string `json:"code"`
			Display string `json:"display"`
		} `json:"coding"`
	} `json:"code"`
}

type ref struct {
	Reference string `json:"reference"`
}

type period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// read returns typ/id if it exists and is active; ok is false otherwise.
func (d *directory) read(ctx context.Context, typ, id string) (person, bool, error) {
	if id == "" {
		return person{}, false, nil
	}
	v, err := d.reader.Read(ctx, resource.Caller{}, typ, id)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		return person{}, false, nil
	}
	if err != nil {
		return person{}, false, fmt.Errorf("login: read %s/%s: %w", typ, id, err)
	}
	return decodePerson(v)
}

func decodePerson(v store.Version) (person, bool, error) {
	if v.Deleted {
		return person{}, false, nil
	}
	var p person
	if err := json.Unmarshal(v.Body, &p); err != nil {
		return person{}, false, fmt.Errorf("login: decode %s/%s: %w", v.Type, v.ID, err)
	}
	return p, p.Active == nil || *p.Active, nil
}

// search returns the first page of a search as the platform.
func (d *directory) search(ctx context.Context, typ string, q url.Values) ([]store.Version, error) {
	res, err := d.reader.Search(ctx, resource.Caller{}, typ, q, resource.SearchOptions{Strict: true})
	if err != nil {
		return nil, fmt.Errorf("login: search %s: %w", typ, err)
	}
	return res.Matches, nil
}

// citizen returns the id of the master Patient registered with doc: a
// Patient with the document's identifier, or the master a provider's own
// record links to (link type "refer"). Several masters (which the
// registry's claims prevent) count as none.
func (d *directory) citizen(ctx context.Context, doc identity.Document) (string, bool, error) {
	matches, err := d.search(ctx, "Patient", url.Values{"identifier": {doc.System() + "|" + doc.Number}})
	if err != nil {
		return "", false, err
	}
	found := map[string]bool{}
	for _, v := range matches {
		p, active, err := decodePerson(v)
		if err != nil {
			return "", false, err
		}
		if !active {
			continue
		}
		id := v.ID
		for _, l := range p.Link {
			if t, master, _ := strings.Cut(l.Other.Reference, "/"); l.Type == "refer" && t == "Patient" {
				id = master
			}
		}
		found[id] = true
	}
	if len(found) != 1 {
		return "", false, nil
	}
	for id := range found {
		if _, ok, err := d.read(ctx, "Patient", id); err != nil || !ok {
			return "", false, err
		}
		return id, true, nil
	}
	return "", false, nil
}

// Contact is a place a code can be sent: a telecom of the Patient.
type Contact struct {
	System string // "sms" or "email"
	Value  string
}

// contacts returns where a citizen's codes may go: mobile numbers first
// (telecom system sms, or phone with use mobile), then email addresses;
// old and ended ones are left out.
func (d *directory) contacts(ctx context.Context, patient string) ([]Contact, error) {
	p, ok, err := d.read(ctx, "Patient", patient)
	if err != nil || !ok {
		return nil, err
	}
	var phones, emails []Contact
	for _, t := range p.Telecom {
		if t.Value == "" || t.Use == "old" || d.ended(t.Period) {
			continue
		}
		switch {
		case t.System == "sms" || t.System == "phone" && t.Use == "mobile":
			phones = append(phones, Contact{System: "sms", Value: t.Value})
		case t.System == "email":
			emails = append(emails, Contact{System: "email", Value: t.Value})
		}
	}
	return append(phones, emails...), nil
}

// ended reports whether a period is over.
func (d *directory) ended(p *period) bool {
	if p == nil || p.End == "" {
		return false
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, p.End); err == nil {
			return !d.now().Before(t)
		}
	}
	return false
}

// Role is a PractitionerRole a professional may act as.
type Role struct {
	Ref     string // PractitionerRole/ID
	Org     string // Organization/ID
	OrgName string
	Label   string // the role's code, as shown
}

// roles returns the active roles of an active practitioner at active
// organizations.
func (d *directory) roles(ctx context.Context, practitioner string) ([]Role, error) {
	_, id, _ := strings.Cut(practitioner, "/")
	if _, ok, err := d.read(ctx, "Practitioner", id); err != nil || !ok {
		return nil, err
	}
	matches, err := d.search(ctx, "PractitionerRole", url.Values{"practitioner": {practitioner}})
	if err != nil {
		return nil, err
	}
	var out []Role
	for _, v := range matches {
		pr, active, err := decodePerson(v)
		if err != nil {
			return nil, err
		}
		if !active || d.ended(pr.Period) || pr.Organization == nil || pr.Practitioner == nil || pr.Practitioner.Reference != practitioner {
			continue
		}
		typ, orgID, _ := strings.Cut(pr.Organization.Reference, "/")
		org, ok, err := d.read(ctx, "Organization", orgID)
		if err != nil {
			return nil, err
		}
		if typ != "Organization" || !ok {
			continue
		}
		out = append(out, Role{Ref: "PractitionerRole/" + v.ID, Org: pr.Organization.Reference, OrgName: orgName(org), Label: roleLabel(pr)})
	}
	return out, nil
}

// orgName is an Organization's name (a string, unlike a person's).
func orgName(org person) string {
	var s string
	if json.Unmarshal(org.Name, &s) == nil {
		return s
	}
	return ""
}

// displayName joins a person's names (one per language).
func displayName(p person) string {
	var names []struct {
		Text   string   `json:"text"`
		Family string   `json:"family"`
		Given  []string `json:"given"`
	}
	_ = json.Unmarshal(p.Name, &names)
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

func roleLabel(pr person) string {
	for _, c := range pr.Code {
		if c.Text != "" {
			return c.Text
		}
		for _, cd := range c.Coding {
			if cd.Display != "" {
				return cd.Display
			}
			if cd.Code != "" {
				return cd.Code
			}
		}
	}
	return "practitioner"
}
