package csvdeposit

// The allergies template: one allergy or adverse drug reaction a row, an
// AllergyIntolerance.
var _ = register(&Spec{
	Name: Allergies, Title: "Allergies and adverse drug reactions", TitleZH: "過敏及藥物不良反應", ResourceTypes: []string{"AllergyIntolerance"},
	Columns: []Column{
		{Name: "substance_code", Required: true, Format: "the substance's code in substance_system", Example: "91936005"},
		{Name: "substance_system", Format: "snomed (default: SNOMED CT), rxnorm, atc or local (" + LocalDrugSystem + ")", Example: "snomed"},
		{Name: "substance_name", Format: "the substance as the clinic knows it", Example: "Penicillin"},
		{Name: "category", Format: "food, medication, environment or biologic", Example: "medication"},
		{Name: "criticality", Format: "low, high or unable-to-assess", Example: "high"},
		{Name: "reaction", Format: "what happened, in words (e.g. rash, anaphylaxis)", Example: "Urticaria"},
		{Name: "severity", Format: "the reaction's severity: mild, moderate or severe", Example: "moderate"},
		{Name: "onset_date", Format: "YYYY-MM-DD", Example: "2019-05-02"},
		{Name: "recorded_date", Format: "YYYY-MM-DD (default: none)", Example: "2026-03-01"},
		{Name: "clinical_status", Format: "active (default), inactive or resolved", Example: "active"},
		{Name: "verification_status", Format: "confirmed (default), unconfirmed or refuted", Example: "confirmed"},
		{Name: "note", Format: "free text, up to 2000 characters", Example: ""},
	},
	build: allergy,
})

var substanceCode = codeField{code: "substance_code", system: "substance_system", name: "substance_name", systems: []codeSystem{snomed, rxnorm, atc, localDrug}}

var (
	allergyCategories  = map[string]string{"food": "food", "medication": "medication", "drug": "medication", "environment": "environment", "biologic": "biologic"}
	allergyCriticality = map[string]string{"low": "low", "high": "high", "unable-to-assess": "unable-to-assess"}
	reactionSeverity   = map[string]string{"mild": "mild", "moderate": "moderate", "severe": "severe"}
	allergyClinical    = map[string]string{"active": "active", "inactive": "inactive", "resolved": "resolved"}
	allergyVerified    = map[string]string{"confirmed": "confirmed", "unconfirmed": "unconfirmed", "refuted": "refuted"}
)

// allergy maps a row to an AllergyIntolerance recorded by the
// professional (or the provider).
func allergy(r *row) map[string]any {
	res := r.common(map[string]any{"resourceType": "AllergyIntolerance"}, "patient")
	res["clinicalStatus"] = concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", r.choice("clinical_status", allergyClinical, "active"))
	res["verificationStatus"] = concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", r.choice("verification_status", allergyVerified, "confirmed"))
	if c := r.choice("category", allergyCategories, ""); c != "" {
		res["category"] = []any{c}
	}
	if c := r.choice("criticality", allergyCriticality, ""); c != "" {
		res["criticality"] = c
	}
	if cc := r.coded(substanceCode); cc != nil {
		res["code"] = cc
	}
	if d, ok := r.date("onset_date"); ok {
		res["onsetDateTime"] = d
		r.notBeforeBirth("onset_date", d)
	}
	if d, ok := r.date("recorded_date"); ok {
		res["recordedDate"] = d
	}
	severity := r.choice("severity", reactionSeverity, "")
	if text := r.text("reaction", 200); text != "" {
		reaction := map[string]any{"manifestation": []any{map[string]any{"text": text}}}
		if severity != "" {
			reaction["severity"] = severity
		}
		res["reaction"] = []any{reaction}
	} else if severity != "" {
		r.fail("severity", CodeRequired, "a severity needs the reaction it describes (column reaction)", "填寫嚴重程度時須同時填寫反應（reaction 欄）")
	}
	res["recorder"] = r.author()
	r.note(res)
	return res
}

// concept is a CodeableConcept of one coding ("" code: nil).
func concept(system, code string) map[string]any {
	if code == "" {
		return nil
	}
	return map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}
}
