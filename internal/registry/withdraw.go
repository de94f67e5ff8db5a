package registry

import (
	"context"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// runWithdraw serves POST Patient/{id}/$withdraw (an empty Parameters).
func (r *Registry) runWithdraw(ctx context.Context, c resource.Caller, instance, body map[string]any) (map[string]any, error) {
	id, _ := instance["id"].(string)
	if !mayWithdraw(c, id) {
		return nil, outcome.New(outcome.Forbidden, "only the citizen, their substitute decision maker (with patient/Consent.u for this patient) or the operator withdraws a registration")
	}
	if _, err := parseParams(body); err != nil {
		return nil, err
	}
	ended, err := r.Withdraw(ctx, c, id)
	if err != nil {
		return nil, err
	}
	out := []any{"outcome", map[string]any{"resource": outcome.Resource([]outcome.Issue{{
		Severity: outcome.SeverityInformation, Code: "informational",
		Message: "withdrawn from eHealth: deposits and sharing stop; the record and its audit trail are kept",
	}})}}
	for _, id := range ended {
		out = append(out, "consent", map[string]any{"valueReference": ref("Consent", id)})
	}
	return parameters(out...), nil
}

// mayWithdraw: the operator, or a token for this patient whose person is
// the citizen or their SDM (fhirUser a Patient or a RelatedPerson) that
// may update their Consents; never a professional launched in the
// citizen's context.
func mayWithdraw(c resource.Caller, patientID string) bool {
	if Operator(c) {
		return true
	}
	if c.Grants.Patient != patientID {
		return false
	}
	if who := c.Who.FHIRUser; !strings.HasPrefix(who, "Patient/") && !strings.HasPrefix(who, "RelatedPerson/") {
		return false
	}
	ok, filters := c.Grants.Scopes.Allows(scope.Patient, scope.Update, "Consent")
	return ok && filters == nil
}

// Withdraw ends a citizen's participation: every active joining and
// sharing Consent becomes inactive (a new version: the history keeps the
// consent as it was), the master Patient is tagged withdrawn, and the
// access key is dropped, all but the last in one transaction. Nothing is
// deleted. It returns the Consents ended. Participating is the check that
// makes deposits and sharing stop.
func (r *Registry) Withdraw(ctx context.Context, c resource.Caller, patientID string) ([]string, error) {
	var ended []string
	err := retried(func() error {
		ended = nil
		p, err := r.read(ctx, "Patient", patientID)
		if err != nil {
			return err
		}
		if !hasTag(p.res, TagMaster) {
			return outcome.New(outcome.Unprocessable, "Patient/%s is not the master record of a registered citizen", patientID)
		}
		if hasTag(p.res, TagWithdrawn) {
			return outcome.New(outcome.Conflict, "Patient/%s has withdrawn already", patientID)
		}
		consents, err := r.activeConsents(ctx, patientID, CategoryJoining, CategorySharing)
		if err != nil {
			return err
		}
		addTag(p.res, TagWithdrawn, "Withdrawn from eHealth")
		writes := []write{{typ: "Patient", id: patientID, res: p.res, ifMatch: p.v.VersionID}}
		for _, f := range consents {
			f.res["status"] = "inactive"
			writes = append(writes, write{typ: "Consent", id: f.v.ID, res: f.res, ifMatch: f.v.VersionID})
			ended = append(ended, f.v.ID)
		}
		_, err = r.transact(ctx, c, writes)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := r.keys.DeleteKey(ctx, AccessKeyNS, patientID); err != nil {
		return nil, err
	}
	r.log.Info("citizen withdrew", "patient", patientID, "consents_ended", len(ended), "by", c.Writer)
	return ended, nil
}

// activeConsents finds the patient's active Consents of the given eHealth
// categories.
func (r *Registry) activeConsents(ctx context.Context, patientID string, categories ...string) ([]found, error) {
	var cats string
	for i, c := range categories {
		if i > 0 {
			cats += ","
		}
		cats += ConsentCategorySystem + "|" + c
	}
	q := url.Values{"patient": {"Patient/" + patientID}, "status": {"active"}, "category": {cats}}
	return r.search(ctx, "Consent", q, "")
}

// Participating reports whether the citizen behind Patient/id takes part
// in eHealth: the master record (or, for a provider's record linked to it,
// its master) has an active joining Consent. It is the check that stops
// deposits and sharing after withdrawal — deposit and consent code call it
// before accepting a record for, or showing one of, a patient — and it is
// false for a provider's record not linked to any master.
func (r *Registry) Participating(ctx context.Context, id string) (bool, error) {
	return r.participating(ctx, id, true)
}

// participating is Participating; follow says a provider's record may be
// followed to its master (one hop only).
func (r *Registry) participating(ctx context.Context, id string, follow bool) (bool, error) {
	p, err := r.read(ctx, "Patient", id)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !hasTag(p.res, TagMaster) {
		masters := linked(p.res, "refer")
		if len(masters) == 0 || !follow {
			return false, nil
		}
		return r.participating(ctx, masters[0], false)
	}
	if active, ok := p.res["active"].(bool); (ok && !active) || hasTag(p.res, TagWithdrawn) {
		return false, nil
	}
	consents, err := r.activeConsents(ctx, id, CategoryJoining)
	return len(consents) > 0, err
}

// Deposits refuses a token's write into a compartment the platform may
// not accept records into: patientKey names it (the master record, once a
// provider's record is linked; a restricted sub-compartment counts as its
// patient's). A citizen who withdrew accepts none. A record about a patient
// who never registered — no master record with an active joining Consent
// at the key, an unknown patient, or a provider's local record not linked
// to a master — is refused too: the joining consent is what allows
// deposits. The compartment's own Patient record (resource.DepositOf: a
// provider creating or updating its local Patient before it is linked) is
// not a deposit about the patient and passes unless the citizen withdrew.
// The platform's operations and the operator are not checked. It is the
// resource service's deposit check (resource.WithDepositCheck): with in
// set it reads through the write's transaction.
func (r *Registry) Deposits(ctx context.Context, in resource.Records, patientKey string) error {
	key := store.BaseKey(patientKey)
	p, err := r.readIn(ctx, in, "Patient", key)
	missing := outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone)
	if err != nil && !missing {
		return err
	}
	if !missing && hasTag(p.res, TagMaster) && hasTag(p.res, TagWithdrawn) {
		return outcome.New(outcome.Forbidden, "this citizen has withdrawn from eHealth: no records are accepted for them")
	}
	if d, ok := resource.DepositOf(ctx); ok && d.Type == "Patient" && d.ID == key {
		return nil
	}
	if !missing && hasTag(p.res, TagMaster) {
		joined, err := r.joinedIn(ctx, in, p)
		if err != nil || joined {
			return err
		}
	}
	return outcome.New(outcome.Forbidden, "Patient/%s has not joined eHealth (no joining consent): records about them are not accepted; "+
		"register the citizen, or link the provider's record to their master record ($link)", key)
}

// readIn reads typ/id as read does, through in when it is set.
func (r *Registry) readIn(ctx context.Context, in resource.Records, typ, id string) (found, error) {
	if in == nil {
		return r.read(ctx, typ, id)
	}
	v, err := in.Read(ctx, typ, id)
	if err == nil && v.Deleted {
		err = outcome.New(outcome.Gone, "%s/%s is deleted", typ, id)
	}
	if err != nil {
		return found{}, err
	}
	body, err := fhir.Parse(v.Body)
	if err != nil {
		return found{}, outcome.Wrap(outcome.Internal, "registry: decode "+typ+"/"+id, err)
	}
	return found{v, body}, nil
}

// joinedIn reports whether the master record p takes part in eHealth, as
// participating does for a master, reading its joining Consents through
// in when it is set (the Consents filed under the master's own key).
func (r *Registry) joinedIn(ctx context.Context, in resource.Records, p found) (bool, error) {
	if in == nil {
		return r.participating(ctx, p.v.ID, false)
	}
	if active, ok := p.res["active"].(bool); (ok && !active) || hasTag(p.res, TagWithdrawn) {
		return false, nil
	}
	consents, err := in.CurrentIn(ctx, "Consent", p.v.ID)
	if err != nil {
		return false, err
	}
	for _, v := range consents {
		if v.Deleted {
			continue
		}
		c, err := fhir.Parse(v.Body)
		if err != nil {
			return false, outcome.Wrap(outcome.Internal, "registry: decode Consent/"+v.ID, err)
		}
		if c["status"] == "active" && inCategory(c, CategoryJoining) {
			return true, nil
		}
	}
	return false, nil
}

// inCategory reports whether a Consent has category ConsentCategorySystem|code.
func inCategory(c map[string]any, code string) bool {
	cats, _ := c["category"].([]any)
	for _, cat := range cats {
		m, _ := cat.(map[string]any)
		codings, _ := m["coding"].([]any)
		for _, cd := range codings {
			cm, _ := cd.(map[string]any)
			if cm["system"] == ConsentCategorySystem && cm["code"] == code {
				return true
			}
		}
	}
	return false
}
