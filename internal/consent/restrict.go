package consent

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// ResourceTypeSystem codes resource types in a restriction's provision.class.
const ResourceTypeSystem = "http://hl7.org/fhir/resource-types"

// categoryTypes are the record types a category restriction without a type
// labels: those with a category search parameter.
var categoryTypes = []string{"AllergyIntolerance", "CarePlan", "Composition", "Condition", "DiagnosticReport",
	"DocumentReference", "MedicationRequest", "MedicationStatement", "Observation", "Procedure", "ServiceRequest"}

// maxLabelled bounds how many existing records one patient-level $restrict
// labels.
const maxLabelled = 10000

// labelRecord serves {Type}/{id}/$restrict and $unrestrict: the citizen
// (or their SDM) for their own record, the provider that deposited it, or
// the operator adds or removes the restricted label as a new version. The
// version keeps the depositor as its writer, so the provider still sees
// and amends what it deposited.
func (o *Operations) labelRecord(ctx context.Context, c resource.Caller, typ, id string, on bool) (map[string]any, error) {
	v, res, err := o.read(ctx, typ, id)
	if err != nil {
		if missing(err) {
			return nil, notKnown(typ, id)
		}
		return nil, err
	}
	base := store.BaseKey(v.PatientKey)
	ok := operator(c) || (c.Writer != "" && c.Writer == v.Writer)
	if !ok && base != "" {
		if _, ok, err = o.citizenSide(ctx, c, base); err != nil {
			return nil, err
		}
	}
	if !ok {
		return nil, o.refuse(ctx, c, typ, id, "a record is restricted by the citizen, their substitute decision maker, the provider that deposited it or the operator")
	}
	if base == "" {
		return nil, outcome.New(outcome.Unprocessable, "%s/%s is in no patient's record", typ, id)
	}
	if !setLabel(res, on) {
		return parameters("resource", map[string]any{"resource": res}), nil
	}
	nv, _, err := o.svc.Update(ctx, resource.Caller{Writer: v.Writer}, typ, id, res, v.VersionID)
	if err != nil {
		return nil, err
	}
	return parameters("resource", map[string]any{"valueReference": ref(fmt.Sprintf("%s/%s/_history/%d", typ, id, nv.VersionID))}), nil
}

// setLabel adds (on) or removes the restricted label of res and reports
// whether it changed.
func setLabel(res map[string]any, on bool) bool {
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	labels, _ := meta["security"].([]any)
	var kept []any
	found := false
	for _, l := range labels {
		m, _ := l.(map[string]any)
		if m["system"] == ConfidentialitySystem && m["code"] == Restricted {
			found = true
			continue
		}
		kept = append(kept, l)
	}
	if found == on {
		return false
	}
	if on {
		kept = append(kept, restrictedLabel())
	}
	if len(kept) == 0 {
		delete(meta, "security")
	} else {
		meta["security"] = kept
	}
	res["meta"] = meta
	return true
}

// restrictPatient serves Patient/{id}/$restrict (type: resource types,
// category: tokens system|code; repeated): the citizen, their SDM or the
// operator records which kinds of record stay restricted — a Consent of
// category restriction, one per citizen, denying them (provision.class,
// provision.code) — and the existing records of those kinds are labelled
// (each a new version kept by its depositor).
func (o *Operations) restrictPatient(ctx context.Context, c resource.Caller, patientID string, in params) (map[string]any, error) {
	types, err := in.all("type")
	if err != nil {
		return nil, err
	}
	cats, err := in.all("category")
	if err != nil {
		return nil, err
	}
	if len(types) == 0 && len(cats) == 0 {
		return nil, outcome.At(outcome.Invalid, "Parameters.parameter", "give the record types (type) or categories (category, system|code) to restrict")
	}
	if !operator(c) {
		if _, ok, err := o.citizenSide(ctx, c, patientID); err != nil {
			return nil, err
		} else if !ok {
			return nil, o.refuse(ctx, c, "Patient", patientID, "records are restricted by the citizen, their substitute decision maker or the operator")
		}
	}
	for _, t := range types {
		if len(o.svc.SearchParameters(t)) == 0 {
			return nil, outcome.At(outcome.Invalid, at("type"), "%q is not a resource type", t)
		}
	}
	for _, cat := range cats {
		if sys, code, ok := strings.Cut(cat, "|"); !ok || sys == "" || code == "" {
			return nil, outcome.At(outcome.Invalid, at("category"), "a category is a token system|code, not %q", cat)
		}
	}
	if _, ok, err := o.citizen(ctx, patientID); err != nil || !ok {
		if err == nil {
			err = notKnown("Patient", patientID)
		}
		return nil, err
	}
	stored, err := o.writeRestriction(ctx, patientID, types, cats)
	if err != nil {
		return nil, err
	}
	labelled, err := o.labelExisting(ctx, patientID, types, cats)
	if err != nil {
		return nil, err
	}
	return parameters("consent", map[string]any{"resource": stored},
		"labelled", map[string]any{"valueInteger": labelled}), nil
}

// writeRestriction adds types and categories to the citizen's restriction
// Consent (created on first use).
func (o *Operations) writeRestriction(ctx context.Context, patientID string, types, cats []string) (map[string]any, error) {
	id := stableID("restriction", patientID)
	v, old, err := o.read(ctx, "Consent", id)
	if err != nil && !missing(err) {
		return nil, err
	}
	if err == nil && old["status"] == "active" {
		prov, _ := old["provision"].(map[string]any)
		for _, cl := range listOf(prov["class"]) {
			m, _ := cl.(map[string]any)
			if code, _ := m["code"].(string); !slices.Contains(types, code) {
				types = append(types, code)
			}
		}
		for _, cc := range listOf(prov["code"]) {
			for _, cd := range listOf(cc.(map[string]any)["coding"]) {
				m, _ := cd.(map[string]any)
				if tok := fmt.Sprint(m["system"]) + "|" + fmt.Sprint(m["code"]); !slices.Contains(cats, tok) {
					cats = append(cats, tok)
				}
			}
		}
	}
	now := o.now()
	cons := platformConsent(CategoryRestriction, "Restricted records", patientID, now, "deny", periodOf(now, time.Time{}), nil)
	cons["performer"] = []any{ref("Patient/" + patientID)}
	prov := cons["provision"].(map[string]any)
	var class, codes []any
	for _, t := range types {
		class = append(class, map[string]any{"system": ResourceTypeSystem, "code": t})
	}
	for _, cat := range cats {
		sys, code, _ := strings.Cut(cat, "|")
		codes = append(codes, map[string]any{"coding": []any{map[string]any{"system": sys, "code": code}}})
	}
	if class != nil {
		prov["class"] = class
	}
	if codes != nil {
		prov["code"] = codes
	}
	stored, err := o.transact(ctx, write{typ: "Consent", id: id, res: cons, ifMatch: v.VersionID})
	if err != nil {
		return nil, err
	}
	return stored[0], nil
}

// labelExisting labels the citizen's current records of the restricted
// types and categories and returns how many it labelled. Each keeps its
// depositor as writer, so each is its own write.
func (o *Operations) labelExisting(ctx context.Context, patientID string, types, cats []string) (int, error) {
	searches := map[string][]url.Values{}
	for _, t := range types {
		if len(cats) == 0 {
			searches[t] = append(searches[t], url.Values{})
		}
		for _, cat := range cats {
			searches[t] = append(searches[t], url.Values{"category": {cat}})
		}
	}
	if len(types) == 0 {
		for _, t := range categoryTypes {
			for _, cat := range cats {
				searches[t] = append(searches[t], url.Values{"category": {cat}})
			}
		}
	}
	n := 0
	for t, qs := range searches {
		for _, q := range qs {
			q.Set("_count", "100")
			for cursor := ""; ; {
				res, err := o.svc.Search(ctx, platform, t, q, resource.SearchOptions{Patient: patientID, Cursor: cursor})
				if err != nil {
					return n, err
				}
				for _, v := range res.Matches {
					if err := o.labelVersion(ctx, v); err != nil {
						return n, err
					}
					n++
				}
				if cursor = res.Next; cursor == "" || n >= maxLabelled {
					break
				}
			}
		}
	}
	return n, nil
}

// labelVersion writes v's resource again with the restricted label, as
// its writer.
func (o *Operations) labelVersion(ctx context.Context, v store.Version) error {
	_, res, err := o.read(ctx, v.Type, v.ID)
	if err != nil {
		return ignoreMissing(err)
	}
	if !setLabel(res, true) {
		return nil
	}
	_, _, err = o.svc.Update(ctx, resource.Caller{Writer: v.Writer}, v.Type, v.ID, res, 0)
	return err
}

// careAccess is the predicate of org's professionals by consent and care
// alone: who may ask to open restricted records.
func (o *Operations) careAccess(org string) store.Access {
	rule := []string{careGrantee(org)}
	if !slices.Contains(o.policy.Deemed, org) {
		rule = append([]string{sharingGrantee(org)}, rule...)
	}
	return store.Access{Grants: [][]string{rule}}
}

// caring reports whether practitioner's provider org holds a sharing
// consent (or is deemed to) and a care relationship for patientID.
func (o *Operations) caring(ctx context.Context, org, patientID string) (bool, error) {
	return o.store.Visible(ctx, o.careAccess(org), patientID, "")
}

// restrictedCode serves Patient/{id}/$restricted-code (reason): a
// professional whose provider has the citizen's sharing consent and a
// care relationship asks to open the restricted records; a one-time code
// goes to the citizen (to the SDM for a child). Its answer is the same
// whether or not restricted records exist.
func (o *Operations) restrictedCode(ctx context.Context, c resource.Caller, patientID string, in params) (map[string]any, error) {
	practitioner, org := professional(c)
	if practitioner == "" {
		return nil, o.refuse(ctx, c, "Patient", patientID, "restricted records are opened by a healthcare professional caring for the citizen")
	}
	reason, err := in.required("reason", "why the restricted records must be opened")
	if err != nil {
		return nil, err
	}
	if ok, err := o.caring(ctx, org, patientID); err != nil || !ok {
		if err == nil {
			err = o.refuse(ctx, c, "Patient", patientID, "restricted records are opened by a provider holding the citizen's sharing consent and a care relationship")
		}
		return nil, err
	}
	who, where := o.name(ctx, practitioner), o.name(ctx, org)
	err = o.sendCode(ctx, purposeRestricted, patientID, practitioner, org, reason, func(code string, expires time.Time) notify.Message {
		return notify.Message{
			English: fmt.Sprintf("%s of %s asks to open your restricted eHealth records. Reason given: %s. Your one-time code is %s (valid until %s); give it only if you agree.",
				who, where, reason, code, when(expires)),
			Chinese: fmt.Sprintf("%s（%s）要求查閱你的醫健通受限制記錄。所述原因：%s。你的一次性密碼是%s（有效至%s）；只在你同意時才提供。",
				who, where, reason, code, when(expires)),
		}
	})
	if err != nil {
		return nil, err
	}
	return parameters("outcome", informational(fmt.Sprintf(
		"a one-time code was sent to the citizen (or their substitute decision maker); it lasts %s", o.policy.codeTTL()))), nil
}

// openRestricted serves Patient/{id}/$open-restricted (code): with the
// citizen's code, the professional may see the restricted records for
// Policy.RestrictedWindow — a Consent of category restricted-access whose
// grant is recorded under the patient's restricted key — and the citizen
// is told.
func (o *Operations) openRestricted(ctx context.Context, c resource.Caller, patientID string, in params) (map[string]any, error) {
	practitioner, org := professional(c)
	if practitioner == "" {
		return nil, o.refuse(ctx, c, "Patient", patientID, "restricted records are opened by a healthcare professional caring for the citizen")
	}
	code, err := in.required("code", "the one-time code the citizen received")
	if err != nil {
		return nil, err
	}
	if ok, err := o.caring(ctx, org, patientID); err != nil || !ok {
		if err == nil {
			err = o.refuse(ctx, c, "Patient", patientID, "restricted records are opened by a provider holding the citizen's sharing consent and a care relationship")
		}
		return nil, err
	}
	p, ok, err := o.useCode(ctx, purposeRestricted, patientID, practitioner, code)
	if err != nil {
		return nil, err
	}
	if !ok || p.Org != org {
		return nil, o.refuse(ctx, c, "Patient", patientID, "the one-time code is not valid (or has expired)")
	}
	now := o.now()
	end := now.Add(o.policy.restrictedWindow())
	cons := platformConsent(CategoryRestrictedAccess, "Restricted records opened", patientID, now, "permit", periodOf(now, end),
		[]any{actor("PRCP", practitioner)})
	cons["verification"] = []any{map[string]any{"verified": true, "verifiedWith": ref("Patient/" + patientID), "verificationDate": instant(now)}}
	to, err := o.sdms(ctx, patientID)
	if err != nil {
		return nil, err
	}
	who, where := o.name(ctx, practitioner), o.name(ctx, org)
	stored, err := o.transact(ctx, write{typ: "Consent", id: o.newID(), res: cons},
		o.notice(notify.KindRestrictedAccess, patientID, append([]string{"Patient/" + patientID}, to...), notify.Message{
			English: fmt.Sprintf("With your one-time code, %s of %s may see your restricted eHealth records until %s. Reason given: %s.", who, where, when(end), p.Reason),
			Chinese: fmt.Sprintf("憑你的一次性密碼，%s（%s）可查閱你的醫健通受限制記錄，直至%s。所述原因：%s。", who, where, when(end), p.Reason),
		}))
	if err != nil {
		return nil, err
	}
	return parameters("consent", map[string]any{"resource": stored[0]}), nil
}

// restrictedExists serves Patient/{id}/$restricted-exists, offered only
// with Policy.ShowRestrictedExists: whether the citizen has restricted
// records, for a caller who may see the patient.
func (o *Operations) restrictedExists(ctx context.Context, c resource.Caller, patientID string, _ params) (map[string]any, error) {
	if !o.policy.ShowRestrictedExists {
		return nil, outcome.New(outcome.NotFound, "operation %q is not known on Patient", OpRestrictedExists)
	}
	if _, err := o.svc.Read(ctx, c, "Patient", patientID); err != nil {
		return nil, notKnown("Patient", patientID)
	}
	restricted := store.Access{Patients: []string{store.RestrictedKey(patientID)}}
	n := 0
	for _, t := range o.restrictableTypes() {
		res, err := o.svc.Search(ctx, resource.Caller{Writer: Writer, Access: &restricted}, t, url.Values{"_summary": {"count"}}, resource.SearchOptions{})
		if err != nil {
			return nil, err
		}
		n += int(res.Total)
		if n > 0 {
			break
		}
	}
	return parameters("exists", map[string]any{"valueBoolean": n > 0}), nil
}

// restrictableTypes are the types searched for restricted records.
func (o *Operations) restrictableTypes() []string {
	return append(slices.Clone(categoryTypes), "Encounter", "Immunization", "MedicationDispense", "ImagingStudy",
		"Appointment", "EpisodeOfCare", "Flag", "Goal", "ClinicalImpression", "RiskAssessment")
}

func listOf(v any) []any { l, _ := v.([]any); return l }
