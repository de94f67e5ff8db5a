package csvdeposit

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The vital-signs template: one measurement a row, an Observation in the
// vital-signs category (https://hl7.org/fhir/R4/observation-vitalsigns.html),
// coded in LOINC with UCUM units; blood pressure as its two components.
var _ = register(&Spec{
	Name: VitalSigns, Title: "Vital signs", TitleZH: "生命表徵", ResourceTypes: []string{"Observation"},
	Columns: []Column{
		{Name: "loinc_code", Required: true, Format: "the measurement's LOINC code: " + vitalCodes(), Example: "85354-9"},
		{Name: "measured_at", Required: true, Format: "YYYY-MM-DD or YYYY-MM-DD HH:MM (Hong Kong time)", Example: "2026-03-01 09:30"},
		{Name: "value", Required: true, Format: "a number (36.5); blood pressure (85354-9) as systolic/diastolic (120/80)", Example: "128/82"},
		{Name: "unit", Required: true, Format: "the UCUM unit the measurement takes (listed per code in TEMPLATES.md)", Example: "mm[Hg]"},
		{Name: "note", Format: "free text, up to 2000 characters", Example: ""},
	},
	build: vitalSign,
})

// vital is a kind of measurement the template takes: its LOINC code and
// name, and per UCUM unit the plausible range.
type vital struct {
	code, display string
	units         []unitRange
}

type unitRange struct {
	unit     string  // UCUM code
	text     string  // human-readable unit
	min, max float64 // plausible values, inclusive
}

// bloodPressure is the panel whose value is systolic/diastolic.
const bloodPressure = "85354-9"

// vitals are the measurements of the FHIR vital signs profiles plus waist
// circumference, which the eHealth record keeps with them.
var vitals = []vital{
	{bloodPressure, "Blood pressure panel with all children optional", []unitRange{{"mm[Hg]", "mmHg", 20, 300}}},
	{"8480-6", "Systolic blood pressure", []unitRange{{"mm[Hg]", "mmHg", 40, 300}}},
	{"8462-4", "Diastolic blood pressure", []unitRange{{"mm[Hg]", "mmHg", 20, 200}}},
	{"8867-4", "Heart rate", []unitRange{{"/min", "beats/minute", 20, 300}}},
	{"9279-1", "Respiratory rate", []unitRange{{"/min", "breaths/minute", 2, 100}}},
	{"8310-5", "Body temperature", []unitRange{{"Cel", "°C", 25, 45}, {"[degF]", "°F", 77, 113}}},
	{"8302-2", "Body height", []unitRange{{"cm", "cm", 20, 260}, {"m", "m", 0.2, 2.6}}},
	{"29463-7", "Body weight", []unitRange{{"kg", "kg", 0.2, 500}, {"g", "g", 200, 500000}}},
	{"39156-5", "Body mass index (BMI) [Ratio]", []unitRange{{"kg/m2", "kg/m2", 5, 150}}},
	{"2708-6", "Oxygen saturation in Arterial blood", []unitRange{{"%", "%", 40, 100}}},
	{"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", []unitRange{{"%", "%", 40, 100}}},
	{"9843-4", "Head Occipital-frontal circumference", []unitRange{{"cm", "cm", 15, 80}}},
	{"8280-0", "Waist Circumference at umbilicus by Tape measure", []unitRange{{"cm", "cm", 30, 300}}},
}

func vitalCodes() string {
	var out []string
	for _, v := range vitals {
		out = append(out, v.code+" "+strings.ToLower(v.display))
	}
	return strings.Join(out, "; ")
}

func vitalOf(code string) (vital, bool) {
	for _, v := range vitals {
		if v.code == code {
			return v, true
		}
	}
	return vital{}, false
}

const systemUCUM = "http://unitsofmeasure.org"

// vitalSign maps a row to a vital-signs Observation performed by the
// professional and the provider.
func vitalSign(r *row) map[string]any {
	res := r.common(map[string]any{"resourceType": "Observation", "status": "final",
		"category": []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs", "display": "Vital Signs"}}}},
	}, "subject")
	if at, ok := r.dateTime("measured_at"); ok {
		res["effectiveDateTime"] = at
		r.notBeforeBirth("measured_at", at)
	}
	performers := []any{r.org()}
	if role := r.role(); role != nil {
		performers = append([]any{role}, performers...)
	}
	res["performer"] = performers
	r.note(res)
	code := r.get("loinc_code")
	if code == "" {
		return res
	}
	v, ok := vitalOf(code)
	if !ok {
		if !validLOINC(code) {
			r.fail("loinc_code", CodeUnknown, fmt.Sprintf("%q is not a LOINC code: expected %s", truncate(code, 30), loinc.format),
				fmt.Sprintf("「%s」不是 LOINC 編碼：應為 %s", truncate(code, 30), loinc.format))
		} else {
			r.fail("loinc_code", CodeUnknown, fmt.Sprintf("%s is not a vital sign this template takes (%s)", code, vitalCodes()),
				fmt.Sprintf("%s 不是此範本接受的生命表徵", code))
		}
		return res
	}
	res["code"] = loincConcept(v)
	u, ok := r.unit(v)
	if !ok || r.missing("value") {
		return res
	}
	if v.code == bloodPressure {
		r.bloodPressure(res)
		return res
	}
	if q, ok := r.quantity("value", r.get("value"), u); ok {
		res["valueQuantity"] = q
	}
	return res
}

func loincConcept(v vital) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": loinc.url, "code": v.code, "display": v.display}}, "text": v.display}
}

// unit reads the unit column: one the measurement takes.
func (r *row) unit(v vital) (unitRange, bool) {
	s := r.get("unit")
	if s == "" {
		return unitRange{}, false
	}
	var allowed []string
	for _, u := range v.units {
		if s == u.unit || strings.EqualFold(s, u.text) {
			return u, true
		}
		allowed = append(allowed, u.unit)
	}
	list := strings.Join(allowed, ", ")
	r.fail("unit", CodeUnit, fmt.Sprintf("%q is not a unit of %s: use %s (UCUM)", truncate(s, 30), strings.ToLower(v.display), list),
		fmt.Sprintf("「%s」不是 %s 的單位：請用 %s（UCUM）", truncate(s, 30), v.code, list))
	return unitRange{}, false
}

// quantity reads a number in unit u, within its plausible range.
func (r *row) quantity(col, s string, u unitRange) (map[string]any, bool) {
	n, f, ok := r.number(col, s)
	if !ok {
		return nil, false
	}
	if f < u.min || f > u.max {
		r.fail(col, CodeRange, fmt.Sprintf("%s %s is not plausible: expected %g to %g", s, u.text, u.min, u.max),
			fmt.Sprintf("%s %s 不合理：應介乎 %g 至 %g", s, u.text, u.min, u.max))
		return nil, false
	}
	return map[string]any{"value": n, "unit": u.text, "system": systemUCUM, "code": u.unit}, true
}

// bloodPressure reads systolic/diastolic into the panel's components.
func (r *row) bloodPressure(res map[string]any) {
	s := r.get("value")
	sys, dia, ok := strings.Cut(s, "/")
	if !ok {
		r.fail("value", CodeFormat, fmt.Sprintf("%q: blood pressure is written systolic/diastolic, e.g. 120/80", truncate(s, 30)),
			fmt.Sprintf("「%s」：血壓須寫成 收縮壓/舒張壓，例如 120/80", truncate(s, 30)))
		return
	}
	systolic, _ := vitalOf("8480-6")
	diastolic, _ := vitalOf("8462-4")
	qs, ok1 := r.quantity("value", strings.TrimSpace(sys), systolic.units[0])
	qd, ok2 := r.quantity("value", strings.TrimSpace(dia), diastolic.units[0])
	if !ok1 || !ok2 {
		return
	}
	if valueOf(qs) <= valueOf(qd) {
		r.fail("value", CodeRange, "the systolic pressure must be above the diastolic (systolic/diastolic)", "收縮壓必須高於舒張壓（收縮壓/舒張壓）")
		return
	}
	res["component"] = []any{
		map[string]any{"code": loincConcept(systolic), "valueQuantity": qs},
		map[string]any{"code": loincConcept(diastolic), "valueQuantity": qd},
	}
}

// valueOf is a Quantity's value.
func valueOf(q map[string]any) float64 {
	v, _ := q["value"].(json.Number).Float64()
	return v
}
