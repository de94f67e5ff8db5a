package csvdeposit

// The immunisations template: one vaccine dose a row, an Immunization.
var _ = register(&Spec{
	Name: Immunisations, Title: "Immunisations", TitleZH: "疫苗接種", ResourceTypes: []string{"Immunization"},
	Columns: []Column{
		{Name: "vaccine_code", Required: true, Format: "the vaccine's code in vaccine_system", Example: "140"},
		{Name: "vaccine_system", Format: "cvx (default: CDC CVX codes) or local (" + LocalVaccineSystem + ")", Example: "cvx"},
		{Name: "vaccine_name", Format: "the vaccine's name as the clinic knows it", Example: "Influenza, seasonal, injectable, preservative free"},
		{Name: "date_given", Required: true, Format: "YYYY-MM-DD", Example: "2026-10-15"},
		{Name: "dose_number", Format: "1, 2, 3 … the dose in the series", Example: "1"},
		{Name: "lot_number", Format: "the vaccine lot", Example: "FL2026-113"},
		{Name: "status", Format: "completed (default) or not-done", Example: "completed"},
		{Name: "note", Format: "free text, up to 2000 characters", Example: ""},
	},
	build: immunization,
})

var vaccineCode = codeField{code: "vaccine_code", system: "vaccine_system", name: "vaccine_name", systems: []codeSystem{cvx, localVaccine}}

var immunizationStatus = map[string]string{"completed": "completed", "not-done": "not-done", "not done": "not-done"}

// immunization maps a row to an Immunization given by the provider (and
// the professional): a primary-source record of the dose.
func immunization(r *row) map[string]any {
	res := r.common(map[string]any{"resourceType": "Immunization", "primarySource": true}, "patient")
	res["status"] = r.choice("status", immunizationStatus, "completed")
	if cc := r.coded(vaccineCode); cc != nil {
		res["vaccineCode"] = cc
	}
	if d, ok := r.date("date_given"); ok {
		res["occurrenceDateTime"] = d
		r.notBeforeBirth("date_given", d)
	}
	if n, ok := r.positiveInt("dose_number", 20); ok {
		res["protocolApplied"] = []any{map[string]any{"doseNumberPositiveInt": n}}
	}
	if lot := r.text("lot_number", 64); lot != "" {
		res["lotNumber"] = lot
	}
	performers := []any{map[string]any{"actor": r.org()}}
	if role := r.role(); role != nil {
		performers = append([]any{map[string]any{"actor": role}}, performers...)
	}
	res["performer"] = performers
	r.note(res)
	return res
}
