package consent

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// platform is how the operations read and write: the platform's own code.
var platform = resource.Caller{Writer: Writer}

// operator reports whether c is the platform operator (or the platform's
// own code): a caller without Grants.
func operator(c resource.Caller) bool { return c.Grants == nil }

// professional is the practitioner and provider c acts as ("" when c is
// not a professional acting for a provider).
func professional(c resource.Caller) (practitioner, org string) {
	if c.Grants == nil || !strings.HasPrefix(c.Who.FHIRUser, "Practitioner/") || !strings.HasPrefix(c.Who.Org, "Organization/") {
		return "", ""
	}
	return c.Who.FHIRUser, c.Who.Org
}

// citizenSide reports whether c is, in the app, the citizen patientID or
// a substitute decision maker acting for them now — a RelatedPerson who is
// their active SDM, or a citizen signed in as themself whose own record
// links (seealso) to such a RelatedPerson — with patientID as the launch
// patient; it returns who ("Patient/ID", "RelatedPerson/ID"). The token
// must let the app change the patient's Consents (patient/Consent.u).
func (o *Operations) citizenSide(ctx context.Context, c resource.Caller, patientID string) (string, bool, error) {
	if c.Grants == nil || c.Grants.Patient != patientID {
		return "", false, nil
	}
	if ok, filters := c.Grants.Scopes.Allows(scope.Patient, scope.Update, "Consent"); !ok || filters != nil {
		return "", false, nil
	}
	user := c.Who.FHIRUser
	if user == "Patient/"+patientID {
		return user, true, nil
	}
	if c.Who.Patient != patientID {
		return "", false, nil
	}
	if rp, ok := strings.CutPrefix(user, "RelatedPerson/"); ok {
		ok, err := o.sdmOf(ctx, rp, patientID)
		return user, ok, err
	}
	self, ok := strings.CutPrefix(user, "Patient/")
	if !ok {
		return "", false, nil
	}
	var p struct {
		Link []struct {
			Other reference `json:"other"`
			Type  string    `json:"type"`
		} `json:"link"`
	}
	if err := o.readInto(ctx, "Patient", self, &p); err != nil {
		return "", false, ignoreMissing(err)
	}
	for _, l := range p.Link {
		if rp, ok := strings.CutPrefix(l.Other.Reference, "RelatedPerson/"); ok && l.Type == "seealso" {
			if ok, err := o.sdmOf(ctx, rp, patientID); err != nil || ok {
				return "RelatedPerson/" + rp, ok, err
			}
		}
	}
	return "", false, nil
}

// sdmOf reports whether RelatedPerson/rp may act now for patientID.
func (o *Operations) sdmOf(ctx context.Context, rp, patientID string) (bool, error) {
	if o.citizens.ActsFor == nil {
		return false, nil
	}
	p, ok, err := o.citizens.ActsFor(ctx, rp)
	return ok && p == patientID, err
}

// sdms are the RelatedPersons acting now as substitute decision makers
// for patientID: they receive the one-time codes of a child (or of an
// adult who cannot consent) and a copy of every notice.
func (o *Operations) sdms(ctx context.Context, patientID string) ([]string, error) {
	res, err := o.svc.Search(ctx, platform, "RelatedPerson", url.Values{"patient": {"Patient/" + patientID}, "_count": {"50"}},
		resource.SearchOptions{Strict: true})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range res.Matches {
		ok, err := o.sdmOf(ctx, v.ID, patientID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, "RelatedPerson/"+v.ID)
		}
	}
	return out, nil
}

// citizen reads the registered citizen patientID (a master Patient, not
// deleted); ok is false when there is none.
func (o *Operations) citizen(ctx context.Context, patientID string) (map[string]any, bool, error) {
	var p map[string]any
	if err := o.readInto(ctx, "Patient", patientID, &p); err != nil {
		return nil, false, ignoreMissing(err)
	}
	var tagged struct {
		Meta struct {
			Tag []struct{ System, Code string } `json:"tag"`
		} `json:"meta"`
	}
	data, _ := json.Marshal(p)
	_ = json.Unmarshal(data, &tagged)
	for _, t := range tagged.Meta.Tag {
		if t.System == mpiSystem && t.Code == "master" {
			return p, true, nil
		}
	}
	return nil, false, nil
}

// mpiSystem codes the registry's tags (registry.MPISystem): a master
// Patient is a registered citizen.
const mpiSystem = "https://ehealth.hk/fhir/CodeSystem/mpi"

// withdrawn reports whether the citizen's master record is tagged
// withdrawn (registry.TagWithdrawn).
func withdrawn(p map[string]any) bool {
	meta, _ := p["meta"].(map[string]any)
	tags, _ := meta["tag"].([]any)
	for _, t := range tags {
		m, _ := t.(map[string]any)
		if m["system"] == mpiSystem && m["code"] == "withdrawn" {
			return true
		}
	}
	return false
}

// read reads typ/id as the platform; a delete marker counts as missing.
func (o *Operations) read(ctx context.Context, typ, id string) (store.Version, map[string]any, error) {
	v, err := o.svc.Read(ctx, platform, typ, id)
	if err != nil {
		return v, nil, err
	}
	var res map[string]any
	if err := json.Unmarshal(v.Body, &res); err != nil {
		return v, nil, outcome.Wrap(outcome.Internal, "consent: decode "+typ+"/"+id, err)
	}
	return v, res, nil
}

// readInto reads typ/id as the platform into dst.
func (o *Operations) readInto(ctx context.Context, typ, id string, dst any) error {
	v, err := o.svc.Read(ctx, platform, typ, id)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(v.Body, dst); err != nil {
		return outcome.Wrap(outcome.Internal, "consent: decode "+typ+"/"+id, err)
	}
	return nil
}

// missing reports whether err says a resource does not exist (or was
// deleted).
func missing(err error) bool {
	return outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone)
}

// ignoreMissing drops a "does not exist" error.
func ignoreMissing(err error) error {
	if missing(err) {
		return nil
	}
	return err
}

// name is a display name of an Organization or Practitioner for notices
// (its reference when it has none).
func (o *Operations) name(ctx context.Context, reference string) string {
	typ, id, _ := strings.Cut(reference, "/")
	var r struct {
		Name json.RawMessage `json:"name"`
	}
	if err := o.readInto(ctx, typ, id, &r); err != nil {
		return reference
	}
	var s string
	if json.Unmarshal(r.Name, &s) == nil && s != "" {
		return s
	}
	var names []struct {
		Text   string   `json:"text"`
		Family string   `json:"family"`
		Given  []string `json:"given"`
	}
	if json.Unmarshal(r.Name, &names) == nil && len(names) > 0 {
		n := names[0]
		if n.Text != "" {
			return n.Text
		}
		return strings.TrimSpace(strings.Join(append(n.Given, n.Family), " "))
	}
	return reference
}
