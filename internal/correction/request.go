package correction

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// platform is how the operations read: the platform's own code.
var platform = resource.Caller{Writer: "ehealth-correction"}

// request serves POST {typ}/{id}/$request-correction: the Task asking the
// provider that deposited the version of the record the citizen saw
// (instance) to correct it. Only the citizen whose record it is, or their
// substitute decision maker, may ask; only a record a provider deposited
// can be corrected by one.
func (o *Operations) request(ctx context.Context, c resource.Caller, typ, id string, instance map[string]any, comment string) (map[string]any, error) {
	version, err := versionOf(instance)
	if err != nil {
		return nil, err
	}
	// Whose record it is, the current version says (a merge or a link
	// moves a record, not its past versions); who deposited what the
	// citizen saw, that version.
	cur, err := o.svc.Read(ctx, platform, typ, id)
	if err != nil {
		return nil, err
	}
	v, err := o.svc.VRead(ctx, platform, typ, id, version)
	if err != nil {
		return nil, err
	}
	patient := store.BaseKey(cur.PatientKey)
	requester, ok, err := o.citizenSide(ctx, c, patient)
	if err != nil {
		return nil, err
	}
	if !ok || store.IsPrivateKey(cur.PatientKey) {
		return nil, outcome.New(outcome.Forbidden, "only the citizen whose record holds %s/%s, or their substitute decision maker, asks for its correction", typ, id)
	}
	if !strings.HasPrefix(v.Writer, "Organization/") {
		return nil, outcome.New(outcome.Unprocessable, "%s/%s was not deposited by a healthcare provider: no provider can correct it (ask the eHealth operator)", typ, id)
	}
	now := o.now().UTC().Format(time.RFC3339)
	focus := typ + "/" + id + "/_history/" + strconv.FormatInt(v.VersionID, 10)
	task := map[string]any{
		"resourceType": "Task",
		"meta":         resource.PlatformOriginMeta(),
		"status":       "requested",
		"intent":       "order",
		"code": map[string]any{"coding": []any{map[string]any{
			"system": TaskCodeSystem, "code": TaskCorrection, "display": "Correction requested by the citizen"}}},
		"description":  "Correction requested for " + focus,
		"focus":        ref(focus),
		"for":          ref("Patient/" + patient),
		"requester":    ref(requester),
		"owner":        ref(v.Writer),
		"authoredOn":   now,
		"lastModified": now,
		"note":         []any{map[string]any{"text": comment, "time": now, "authorReference": ref(requester)}},
	}
	if store.IsRestrictedKey(cur.PatientKey) {
		// A request about a restricted record says what the record is:
		// it is filed with the restricted records too.
		task["meta"] = map[string]any{"security": []any{map[string]any{
			"system": resource.RestrictionLabel.System, "code": resource.RestrictionLabel.Code}}}
	}
	saved, err := o.svc.Create(ctx, resource.Caller{Writer: v.Writer}, "Task", task)
	if err != nil {
		return nil, err
	}
	return decode(saved)
}

// versionOf is the version of the record the caller read.
func versionOf(instance map[string]any) (int64, error) {
	meta, _ := instance["meta"].(map[string]any)
	s, _ := meta["versionId"].(string)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, outcome.New(outcome.Internal, "the record read has no version (meta.versionId %q)", s)
	}
	return n, nil
}

// citizenSide reports whether c is, in the app, the citizen patient or a
// substitute decision maker acting for them now — a RelatedPerson who is
// their SDM, or a citizen signed in as themself whose own record links
// (seealso) to such a RelatedPerson — with patient as the patient in
// context; it returns who ("Patient/ID", "RelatedPerson/ID"). The token
// must let the app create the patient's Tasks.
func (o *Operations) citizenSide(ctx context.Context, c resource.Caller, patient string) (string, bool, error) {
	if c.Grants == nil || patient == "" || c.Grants.Patient != patient {
		return "", false, nil
	}
	if ok, filters := c.Grants.Scopes.Allows(scope.Patient, scope.Create, "Task"); !ok || filters != nil {
		return "", false, nil
	}
	user := c.Who.FHIRUser
	if user == "Patient/"+patient {
		return user, true, nil
	}
	if c.Who.Patient != patient {
		return "", false, nil
	}
	if rp, ok := strings.CutPrefix(user, "RelatedPerson/"); ok {
		ok, err := o.actsFor(ctx, rp, patient)
		return user, ok, err
	}
	self, ok := strings.CutPrefix(user, "Patient/")
	if !ok {
		return "", false, nil
	}
	v, err := o.svc.Read(ctx, platform, "Patient", self)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	p, err := fhir.Parse(v.Body)
	if err != nil {
		return "", false, outcome.Wrap(outcome.Internal, "correction: decode Patient/"+self, err)
	}
	links, _ := p["link"].([]any)
	for _, l := range links {
		m, _ := l.(map[string]any)
		other, _ := m["other"].(map[string]any)
		r, _ := other["reference"].(string)
		if rp, ok := strings.CutPrefix(r, "RelatedPerson/"); ok && m["type"] == "seealso" {
			if ok, err := o.actsFor(ctx, rp, patient); err != nil || ok {
				return "RelatedPerson/" + rp, ok, err
			}
		}
	}
	return "", false, nil
}

// actsFor reports whether RelatedPerson/rp may act for patient now.
func (o *Operations) actsFor(ctx context.Context, rp, patient string) (bool, error) {
	p, _, ok, err := o.reg.ActsFor(ctx, rp)
	return ok && p == patient, err
}

// ref is a Reference.
func ref(s string) map[string]any { return map[string]any{"reference": s} }

// decode parses a stored version.
func decode(v store.Version) (map[string]any, error) {
	res, err := fhir.Parse(v.Body)
	if err != nil {
		return nil, outcome.Wrap(outcome.Internal, "correction: decode "+v.Type+"/"+v.ID, err)
	}
	return res, nil
}
