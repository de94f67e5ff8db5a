package portal

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/csvdeposit"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// sourceURI is the meta.source of what a provider deposits through the
// portal; each record also carries a source identifier under the
// provider's namespace (csvdeposit.SourceBase + org), as every deposit
// does.
func sourceURI(org string) string { return csvdeposit.SourceBase + org + "/portal" }

// field is one input of a deposit form.
type field struct {
	Name     string
	Input    string   // text, date, datetime-local, number, select
	Options  []string // a select's values (labels: opt.<name>.<value>)
	Required bool
}

// depositKind is a simple record a form deposits.
type depositKind struct {
	Key    string
	Fields []field
	// build makes the record from the form's values (checked for presence
	// and format already), for the patient, by the professional's role at
	// the provider.
	build func(v values, patient, role, org string) (map[string]any, []string)
}

// values are a form's values by field name.
type values map[string]string

// vital is a vital sign the form takes: LOINC code and display, UCUM
// unit and the plausible range.
type vital struct {
	Code, Display, Unit string
	Min, Max            float64
}

// vitals are the vital signs the form takes: LOINC code, UCUM unit and the
// plausible range.
var vitals = []vital{
	{"8867-4", "Heart rate", "/min", 20, 300},
	{"8310-5", "Body temperature", "Cel", 25, 45},
	{"29463-7", "Body weight", "kg", 0.2, 500},
	{"8302-2", "Body height", "cm", 20, 260},
	{"59408-5", "Oxygen saturation in arterial blood by pulse oximetry", "%", 40, 100},
	{"85354-9", "Blood pressure panel", "mm[Hg]", 20, 300},
}

// depositKinds are the forms, in the order the menu offers them.
var depositKinds = []depositKind{
	{Key: "allergy", Fields: []field{
		{Name: "substance", Input: "text", Required: true},
		{Name: "category", Input: "select", Options: []string{"medication", "food", "environment", "biologic"}},
		{Name: "criticality", Input: "select", Options: []string{"high", "low", "unable-to-assess"}},
		{Name: "reaction", Input: "text"},
		{Name: "date", Input: "date", Required: true},
	}, build: buildAllergy},
	{Key: "immunisation", Fields: []field{
		{Name: "vaccine", Input: "text", Required: true},
		{Name: "cvx", Input: "text"},
		{Name: "date", Input: "date", Required: true},
		{Name: "dose", Input: "number"},
		{Name: "lot", Input: "text"},
	}, build: buildImmunisation},
	{Key: "vital", Fields: []field{
		{Name: "measure", Input: "select", Options: vitalCodes(), Required: true},
		{Name: "value", Input: "text", Required: true},
		{Name: "when", Input: "datetime-local", Required: true},
	}, build: buildVital},
	{Key: "medication", Fields: []field{
		{Name: "drug", Input: "text", Required: true},
		{Name: "record", Input: "select", Options: []string{"statement", "prescription"}},
		{Name: "dosage", Input: "text"},
		{Name: "date", Input: "date", Required: true},
	}, build: buildMedication},
}

// decimalPattern is a FHIR decimal as people write it: digits with an
// optional point, no exponent, no leading zeros (the JSON number it
// becomes keeps the digits written).
var decimalPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,5})(\.[0-9]{1,4})?$`)

func vitalCodes() []string {
	var out []string
	for _, v := range vitals {
		out = append(out, v.Code)
	}
	return out
}

func depositKindOf(key string) (depositKind, bool) {
	i := slices.IndexFunc(depositKinds, func(k depositKind) bool { return k.Key == key })
	if i < 0 {
		return depositKind{}, false
	}
	return depositKinds[i], true
}

// depositMenu lists the forms.
func depositMenu(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	return c.Render("deposit", map[string]any{"ID": id, "Kinds": depositKinds})
}

// formView is a deposit form's data.
type formView struct {
	ID     string
	Kind   depositKind
	Values values
	Errors []string // message keys
}

// depositForm shows a form, dated today.
func depositForm(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	k, ok := depositKindOf(c.R.PathValue("form"))
	if !ok {
		return outcome.New(outcome.NotFound, "portal: no form %q", c.R.PathValue("form"))
	}
	now := time.Now().In(web.HongKong())
	return c.Render("depositform", formView{ID: id, Kind: k, Values: values{"date": now.Format(time.DateOnly), "when": now.Format("2006-01-02T15:04")}})
}

// depositPost checks the form and deposits the record as a transaction
// Bundle posted to the FHIR API with the professional's token.
func depositPost(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	k, ok := depositKindOf(c.R.PathValue("form"))
	if !ok {
		return outcome.New(outcome.NotFound, "portal: no form %q", c.R.PathValue("form"))
	}
	v := values{}
	for _, f := range k.Fields {
		v[f.Name] = c.Form(f.Name)
	}
	errs := checkFields(k, v, time.Now())
	var res map[string]any
	if len(errs) == 0 {
		res, errs = k.build(v, id, c.Session.Role, c.Session.Org)
	}
	if len(errs) > 0 {
		return c.RenderStatus(http.StatusUnprocessableEntity, "depositform", formView{ID: id, Kind: k, Values: v, Errors: errs})
	}
	org := orgID(c)
	res["identifier"] = []any{map[string]any{"system": csvdeposit.SourceBase + org + "/portal/" + k.Key, "value": uuid.NewString()}}
	res["meta"] = map[string]any{"source": sourceURI(org)}
	bundle := web.Resource{"resourceType": "Bundle", "type": "transaction", "entry": []any{map[string]any{
		"fullUrl": "urn:uuid:" + uuid.NewString(), "resource": res,
		"request": map[string]any{"method": "POST", "url": res["resourceType"]},
	}}}
	answer, err := c.FHIR.Do(c.R.Context(), http.MethodPost, "", bundle)
	if err != nil {
		return err
	}
	c.Flash("ok", "deposit.done")
	if loc := stored(answer); len(loc) == 1 {
		return c.Redirect("record/" + loc[0])
	}
	return c.Redirect("patients/" + id)
}

// stored lists the Type/id of each entry a transaction-response created
// or updated.
func stored(resp web.Resource) []string {
	var out []string
	for _, e := range web.List(resp, "entry") {
		parts := strings.Split(web.Str(e, "response", "location"), "/")
		for i := 0; i+1 < len(parts); i++ {
			if web.RecordType(web.RecordKinds, parts[i]) && idPattern.MatchString(parts[i+1]) {
				out = append(out, parts[i]+"/"+parts[i+1])
				break
			}
		}
	}
	return out
}

// checkFields checks presence, dates (not in the future, not before 1900)
// and numbers; it returns message keys.
func checkFields(k depositKind, v values, now time.Time) []string {
	var errs []string
	for _, f := range k.Fields {
		s := v[f.Name]
		if s == "" {
			if f.Required {
				errs = append(errs, "form.required."+f.Name)
			}
			continue
		}
		if len(s) > maxReason {
			errs = append(errs, "form.too_long")
			continue
		}
		switch f.Input {
		case "date", "datetime-local":
			layout := time.DateOnly
			if f.Input != "date" {
				layout = "2006-01-02T15:04"
			}
			t, err := time.ParseInLocation(layout, s, web.HongKong())
			if err != nil || t.After(now.Add(24*time.Hour)) || t.Year() < 1900 {
				errs = append(errs, "form.bad_date")
			}
		case "number":
			if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 20 {
				errs = append(errs, "form.bad_dose")
			}
		case "select":
			if !slices.Contains(f.Options, s) {
				errs = append(errs, "form.bad_choice")
			}
		}
	}
	return errs
}

func ref(r string) map[string]any { return map[string]any{"reference": r} }

func text(s string) map[string]any { return map[string]any{"text": s} }

// coding is a CodeableConcept of one coding (and text).
func coding(system, code, display, txt string) map[string]any {
	c := map[string]any{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	cc := map[string]any{"coding": []any{c}}
	if txt != "" {
		cc["text"] = txt
	}
	return cc
}

// author is the professional's role, else the provider.
func author(role, org string) map[string]any {
	if role != "" {
		return ref(role)
	}
	return ref(org)
}

func buildAllergy(v values, patient, role, org string) (map[string]any, []string) {
	r := map[string]any{"resourceType": "AllergyIntolerance",
		"clinicalStatus":     coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active", ""),
		"verificationStatus": coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed", ""),
		"code":               text(v["substance"]), "patient": ref("Patient/" + patient),
		"recordedDate": v["date"], "recorder": author(role, org)}
	if s := v["category"]; s != "" {
		r["category"] = []any{s}
	}
	if s := v["criticality"]; s != "" {
		r["criticality"] = s
	}
	if s := v["reaction"]; s != "" {
		r["reaction"] = []any{map[string]any{"manifestation": []any{text(s)}}}
	}
	return r, nil
}

func buildImmunisation(v values, patient, role, org string) (map[string]any, []string) {
	vaccine := text(v["vaccine"])
	if cvx := v["cvx"]; cvx != "" {
		if n, err := strconv.Atoi(cvx); err != nil || n < 0 || len(cvx) > 3 {
			return nil, []string{"form.bad_cvx"}
		}
		vaccine = coding("http://hl7.org/fhir/sid/cvx", cvx, "", v["vaccine"])
	}
	r := map[string]any{"resourceType": "Immunization", "status": "completed", "vaccineCode": vaccine,
		"patient": ref("Patient/" + patient), "occurrenceDateTime": v["date"], "primarySource": true,
		"performer": []any{map[string]any{"actor": author(role, org)}}}
	if s := v["lot"]; s != "" {
		r["lotNumber"] = s
	}
	if s := v["dose"]; s != "" {
		n, _ := strconv.Atoi(s)
		r["protocolApplied"] = []any{map[string]any{"doseNumberPositiveInt": n}}
	}
	return r, nil
}

func buildVital(v values, patient, role, org string) (map[string]any, []string) {
	i := slices.IndexFunc(vitals, func(x vital) bool { return x.Code == v["measure"] })
	if i < 0 {
		return nil, []string{"form.bad_choice"}
	}
	vs := vitals[i]
	when, _ := time.ParseInLocation("2006-01-02T15:04", v["when"], web.HongKong())
	r := map[string]any{"resourceType": "Observation", "status": "final",
		"category": []any{coding("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs", "Vital Signs", "")},
		"code":     coding("http://loinc.org", vs.Code, vs.Display, ""), "subject": ref("Patient/" + patient),
		"effectiveDateTime": when.Format(time.RFC3339), "performer": []any{author(role, org)}}
	quantity := func(s string) (map[string]any, bool) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < vs.Min || f > vs.Max || !decimalPattern.MatchString(s) {
			return nil, false
		}
		return map[string]any{"value": json.Number(s), "unit": vs.Unit, "system": "http://unitsofmeasure.org", "code": vs.Unit}, true
	}
	if vs.Code == "85354-9" {
		sys, dia, ok := strings.Cut(strings.ReplaceAll(v["value"], " ", ""), "/")
		qs, ok1 := quantity(sys)
		qd, ok2 := quantity(dia)
		if !ok || !ok1 || !ok2 {
			return nil, []string{"form.bad_pressure"}
		}
		r["component"] = []any{
			map[string]any{"code": coding("http://loinc.org", "8480-6", "Systolic blood pressure", ""), "valueQuantity": qs},
			map[string]any{"code": coding("http://loinc.org", "8462-4", "Diastolic blood pressure", ""), "valueQuantity": qd},
		}
		return r, nil
	}
	q, ok := quantity(v["value"])
	if !ok {
		return nil, []string{"form.bad_value"}
	}
	r["valueQuantity"] = q
	return r, nil
}

func buildMedication(v values, patient, role, org string) (map[string]any, []string) {
	drug := text(v["drug"])
	if v["record"] == "prescription" {
		r := map[string]any{"resourceType": "MedicationRequest", "status": "active", "intent": "order",
			"medicationCodeableConcept": drug, "subject": ref("Patient/" + patient), "authoredOn": v["date"],
			"requester": author(role, org)}
		if s := v["dosage"]; s != "" {
			r["dosageInstruction"] = []any{map[string]any{"text": s}}
		}
		return r, nil
	}
	r := map[string]any{"resourceType": "MedicationStatement", "status": "active",
		"medicationCodeableConcept": drug, "subject": ref("Patient/" + patient),
		"effectivePeriod": map[string]any{"start": v["date"]}, "dateAsserted": time.Now().UTC().Format(time.RFC3339),
		"informationSource": author(role, org)}
	if s := v["dosage"]; s != "" {
		r["dosage"] = []any{map[string]any{"text": s}}
	}
	return r, nil
}
