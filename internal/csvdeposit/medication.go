package csvdeposit

import (
	"fmt"
	"strings"
)

// The medications template: one drug a row, prescribed by the clinic (a
// MedicationRequest) or taken as the clinic learnt (a MedicationStatement).
var _ = register(&Spec{
	Name: Medications, Title: "Medication", TitleZH: "藥物", ResourceTypes: []string{"MedicationRequest", "MedicationStatement"},
	Columns: []Column{
		{Name: "drug_code", Required: true, Format: "the drug's code in drug_system", Example: "PARA500"},
		{Name: "drug_system", Format: "local (default: " + LocalDrugSystem + "), atc or rxnorm", Example: "local"},
		{Name: "drug_name", Format: "the drug as the clinic knows it, with its strength", Example: "Paracetamol 500 mg tablet"},
		{Name: "record_kind", Format: "prescription (default: prescribed here, a MedicationRequest) or statement (taken, as reported: a MedicationStatement)", Example: "prescription"},
		{Name: "start_date", Required: true, Format: "YYYY-MM-DD: the prescription's date, or when the patient started taking it", Example: "2026-03-01"},
		{Name: "end_date", Format: "YYYY-MM-DD, not before start_date (may be in the future)", Example: "2026-03-05"},
		{Name: "dose_quantity", Format: "a number: how much a dose is", Example: "1"},
		{Name: "dose_unit", Format: "the dose's unit: " + doseUnitNames(), Example: "tablet"},
		{Name: "times_per_day", Format: "1 to 24", Example: "4"},
		{Name: "dosage_text", Format: "the instructions in words", Example: "1 tablet 4 times a day when needed for pain"},
		{Name: "status", Format: "active (default), completed or stopped", Example: "active"},
		{Name: "note", Format: "free text, up to 2000 characters", Example: ""},
	},
	build: medication,
})

var drugCode = codeField{code: "drug_code", system: "drug_system", name: "drug_name", systems: []codeSystem{localDrug, atc, rxnorm}}

var (
	medicationKinds  = map[string]string{"prescription": "MedicationRequest", "statement": "MedicationStatement"}
	medicationStatus = map[string]string{"active": "active", "completed": "completed", "stopped": "stopped"}
)

// doseUnits are the units a dose is written in, by what people write, as
// UCUM codes.
var doseUnits = []struct{ names, ucum, text string }{
	{"mg", "mg", "mg"}, {"g", "g", "g"}, {"ug mcg", "ug", "µg"}, {"ml", "mL", "mL"}, {"l", "L", "L"},
	{"iu", "[iU]", "IU"}, {"unit units", "[U]", "unit"}, {"mmol", "mmol", "mmol"},
	{"tablet tablets tab", "{tablet}", "tablet"}, {"capsule capsules cap", "{capsule}", "capsule"},
	{"puff puffs", "{puff}", "puff"}, {"drop drops", "[drp]", "drop"}, {"sachet sachets", "{sachet}", "sachet"},
	{"patch patches", "{patch}", "patch"}, {"suppository suppositories", "{suppository}", "suppository"},
	{"application applications", "{application}", "application"},
}

func doseUnitNames() string {
	var out []string
	for _, u := range doseUnits {
		out = append(out, strings.Fields(u.names)[0])
	}
	return strings.Join(out, ", ")
}

// medication maps a row to a MedicationRequest (an order of the
// professional or provider) or a MedicationStatement they recorded.
func medication(r *row) map[string]any {
	typ := r.choice("record_kind", medicationKinds, "MedicationRequest")
	if typ == "" {
		typ = "MedicationRequest"
	}
	subject := "subject"
	res := r.common(map[string]any{"resourceType": typ}, subject)
	res["status"] = r.choice("status", medicationStatus, "active")
	if cc := r.coded(drugCode); cc != nil {
		res["medicationCodeableConcept"] = cc
	}
	start, okStart := r.date("start_date")
	if okStart {
		r.notBeforeBirth("start_date", start)
	}
	end := ""
	if t, ok := r.anyDate("end_date"); ok {
		end = r.get("end_date")
		if okStart && end < start {
			r.fail("end_date", CodeRange, "the end date is before the start date", "結束日期早於開始日期")
		} else if t.After(r.p.now.AddDate(10, 0, 0)) {
			r.fail("end_date", CodeRange, "the end date is more than ten years ahead", "結束日期在十年以後")
		}
	}
	period := map[string]any{}
	if okStart {
		period["start"] = start
	}
	if end != "" {
		period["end"] = end
	}
	dosage := r.dosage(period)
	if typ == "MedicationRequest" {
		res["intent"] = "order"
		if okStart {
			res["authoredOn"] = start
		}
		res["requester"] = r.author()
		if dosage != nil {
			res["dosageInstruction"] = []any{dosage}
		}
	} else {
		if len(period) > 0 {
			res["effectivePeriod"] = period
		}
		res["informationSource"] = r.author()
		if dosage != nil {
			res["dosage"] = []any{dosage}
		}
	}
	r.note(res)
	return res
}

// dosage is the row's Dosage: the text, the dose and how often, within
// period (for a prescription, the timing's bounds); nil when the row says
// nothing of it.
func (r *row) dosage(period map[string]any) map[string]any {
	d := map[string]any{}
	if t := r.text("dosage_text", 500); t != "" {
		d["text"] = t
	}
	if q := r.dose(); q != nil {
		d["doseAndRate"] = []any{map[string]any{"doseQuantity": q}}
	}
	repeat := map[string]any{}
	if n, ok := r.positiveInt("times_per_day", 24); ok {
		repeat["frequency"], repeat["period"], repeat["periodUnit"] = n, 1, "d"
	}
	if len(repeat) > 0 && len(period) > 0 {
		repeat["boundsPeriod"] = period
	}
	if len(repeat) > 0 {
		d["timing"] = map[string]any{"repeat": repeat}
	}
	if len(d) == 0 {
		return nil
	}
	return d
}

// dose reads dose_quantity and dose_unit (both or neither).
func (r *row) dose() map[string]any {
	qs, us := r.get("dose_quantity"), r.get("dose_unit")
	if qs == "" && us == "" {
		return nil
	}
	if qs == "" || us == "" {
		col := "dose_unit"
		if qs == "" {
			col = "dose_quantity"
		}
		r.fail(col, CodeRequired, "dose_quantity and dose_unit go together", "dose_quantity 與 dose_unit 須同時填寫")
		return nil
	}
	n, f, ok := r.number("dose_quantity", qs)
	if ok && (f <= 0 || f > 100000) {
		r.fail("dose_quantity", CodeRange, "a dose is more than 0 and at most 100000", "劑量須大於 0 且不超過 100000")
		ok = false
	}
	for _, u := range doseUnits {
		for _, name := range strings.Fields(u.names) {
			if strings.EqualFold(us, name) || us == u.ucum {
				if !ok {
					return nil
				}
				return map[string]any{"value": n, "unit": u.text, "system": systemUCUM, "code": u.ucum}
			}
		}
	}
	r.fail("dose_unit", CodeUnit, fmt.Sprintf("%q is not a dose unit: use one of %s", truncate(us, 30), doseUnitNames()),
		fmt.Sprintf("「%s」不是劑量單位：請用 %s 其中之一", truncate(us, 30), doseUnitNames()))
	return nil
}
