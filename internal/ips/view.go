package ips

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/ehealthplus/ehealth/internal/terminology"
)

// view is a summary as a person reads it, in one language: what the
// narrative and the PDF show.
type view struct {
	Lang      string
	Title     string
	Patient   string // name
	Born      string
	Gender    string
	Generated string
	Sections  []sectionView
}

// sectionView is one section: its title, its column headings and a row
// per entry, or the note saying why it is empty.
type sectionView struct {
	Title   string
	Columns []string
	Rows    [][]string
	Empty   string
}

// reader turns coded data into words of one language.
type reader struct {
	lang  string
	terms *terminology.Service
	// included resolves references to the resources a summary holds
	// (a Medication, a Device), by "Type/id".
	included map[string]entry
}

// chineseTags are the designation languages read as Traditional Chinese,
// in order of preference.
var chineseTags = []string{"zh-Hant", "zh-HK", "zh-MO", "zh-TW", "zh"}

// concept is a CodeableConcept in words: in Chinese a designation the
// terminology service holds for one of its codings, else (and in English)
// the first coding's display, the terminology service's display, the
// text, the code.
func (r reader) concept(cc any) string {
	m, _ := cc.(map[string]any)
	codings, _ := m["coding"].([]any)
	for _, c := range codings {
		cm, _ := c.(map[string]any)
		if code, _ := cm["code"].(string); cm["system"] == AbsentUnknown && words[r.lang][code] != "" {
			return word(r.lang, code)
		}
	}
	if r.lang == TraditionalChinese && r.terms != nil {
		t := r.terms.Tables()
		for _, c := range codings {
			cm, _ := c.(map[string]any)
			system, _ := cm["system"].(string)
			code, _ := cm["code"].(string)
			base, known := t.Display(system, code, "")
			if !known {
				continue
			}
			for _, tag := range chineseTags {
				if d, _ := t.Display(system, code, tag); d != "" && d != base {
					return d
				}
			}
		}
	}
	if text, _ := m["text"].(string); text != "" && r.lang == TraditionalChinese && hasHan(text) {
		return text
	}
	for _, c := range codings {
		cm, _ := c.(map[string]any)
		if d, _ := cm["display"].(string); d != "" {
			return d
		}
	}
	for _, c := range codings {
		cm, _ := c.(map[string]any)
		system, _ := cm["system"].(string)
		code, _ := cm["code"].(string)
		if r.terms != nil {
			if d, ok := r.terms.Tables().Display(system, code, ""); ok && d != "" {
				return d
			}
		}
	}
	if text, _ := m["text"].(string); text != "" {
		return text
	}
	for _, c := range codings {
		cm, _ := c.(map[string]any)
		if code, _ := cm["code"].(string); code != "" {
			return code
		}
	}
	return ""
}

// status is a status code in words.
func (r reader) status(res map[string]any) string {
	for _, k := range []string{"clinicalStatus"} {
		if m, ok := res[k].(map[string]any); ok {
			if codings, _ := m["coding"].([]any); len(codings) > 0 {
				cm, _ := codings[0].(map[string]any)
				code, _ := cm["code"].(string)
				return word(r.lang, code)
			}
		}
	}
	if s, _ := res["status"].(string); s != "" {
		return word(r.lang, s)
	}
	return ""
}

// row is the cells of one entry: what it is, details, status, date.
func (r reader) row(res map[string]any) []string {
	return []string{r.item(res), r.details(res), r.status(res), r.date(res)}
}

// item is what an entry is about: the problem, substance, medication,
// vaccine, test, procedure, device, plan or alert.
func (r reader) item(res map[string]any) string {
	switch res["resourceType"] {
	case "MedicationStatement", "MedicationRequest":
		if cc, ok := res["medicationCodeableConcept"]; ok {
			return r.concept(cc)
		}
		return r.referenced(res["medicationReference"], "code")
	case "Immunization":
		return r.concept(res["vaccineCode"])
	case "DeviceUseStatement":
		return r.referenced(res["device"], "type")
	case "CarePlan":
		for _, k := range []string{"title", "description"} {
			if s, _ := res[k].(string); s != "" {
				return s
			}
		}
		if cats, _ := res["category"].([]any); len(cats) > 0 {
			return r.concept(cats[0])
		}
	case "ImmunizationRecommendation":
		recs, _ := res["recommendation"].([]any)
		var out []string
		for _, rec := range recs {
			m, _ := rec.(map[string]any)
			if vcs, _ := m["vaccineCode"].([]any); len(vcs) > 0 {
				out = append(out, r.concept(vcs[0]))
			} else if td, ok := m["targetDisease"]; ok {
				out = append(out, r.concept(td))
			}
		}
		return strings.Join(out, "; ")
	}
	return r.concept(res["code"])
}

// referenced is the words of a referenced resource's concept element
// (a Medication's code, a Device's type), else the reference's display.
func (r reader) referenced(ref any, element string) string {
	m, _ := ref.(map[string]any)
	if s, _ := m["reference"].(string); s != "" {
		if e, ok := r.included[s]; ok {
			if d := r.concept(e.res[element]); d != "" {
				return d
			}
			if names, _ := e.res["deviceName"].([]any); len(names) > 0 {
				n, _ := names[0].(map[string]any)
				if s, _ := n["name"].(string); s != "" {
					return s
				}
			}
		}
	}
	d, _ := m["display"].(string)
	return d
}

// details is what else matters of an entry: an observation's value, an
// allergy's criticality and reactions, a medicine's dosage, a report's
// conclusion, a problem's severity.
func (r reader) details(res map[string]any) string {
	switch res["resourceType"] {
	case "Observation":
		return r.observed(res)
	case "AllergyIntolerance":
		var parts []string
		if c, _ := res["criticality"].(string); c != "" {
			parts = append(parts, word(r.lang, c))
		}
		reactions, _ := res["reaction"].([]any)
		for _, re := range reactions {
			m, _ := re.(map[string]any)
			ms, _ := m["manifestation"].([]any)
			for _, mf := range ms {
				parts = append(parts, r.concept(mf))
			}
		}
		return strings.Join(parts, "; ")
	case "MedicationStatement":
		return dosageText(res["dosage"])
	case "MedicationRequest":
		return dosageText(res["dosageInstruction"])
	case "DiagnosticReport":
		parts := r.members(res["result"])
		if s, _ := res["conclusion"].(string); s != "" {
			parts = append(parts, s)
		}
		return strings.Join(parts, "; ")
	case "Condition":
		if sev, ok := res["severity"]; ok {
			return r.concept(sev)
		}
	case "CarePlan":
		s, _ := res["description"].(string)
		if s != r.item(res) {
			return s
		}
	case "Procedure":
		if sites, _ := res["bodySite"].([]any); len(sites) > 0 {
			return r.concept(sites[0])
		}
	}
	return ""
}

// members are the results a report or panel groups, as "name: value"
// (their own values only: a member's members are not followed, so a
// cycle of panels ends).
func (r reader) members(refs any) []string {
	list, _ := refs.([]any)
	var out []string
	for _, ref := range list {
		m, _ := ref.(map[string]any)
		s, _ := m["reference"].(string)
		if e, ok := r.included[s]; ok {
			if v := r.measured(e.res); v != "" {
				out = append(out, r.concept(e.res["code"])+": "+v)
			}
		}
	}
	return out
}

// dosageText is the text of the first Dosage in list.
func dosageText(list any) string {
	ds, _ := list.([]any)
	if len(ds) == 0 {
		return ""
	}
	m, _ := ds[0].(map[string]any)
	s, _ := m["text"].(string)
	return s
}

// observed is an Observation's value, or its components' values
// ("Systolic: 120 mmHg; Diastolic: 80 mmHg"), or its members' (a
// panel), with its interpretation.
func (r reader) observed(res map[string]any) string {
	v := r.measured(res)
	if v == "" {
		v = strings.Join(r.members(res["hasMember"]), "; ")
	}
	if ints, _ := res["interpretation"].([]any); len(ints) > 0 {
		if i := r.concept(ints[0]); i != "" {
			v = strings.TrimSpace(v + " (" + i + ")")
		}
	}
	return v
}

// measured is an Observation's own value, or its components' values.
func (r reader) measured(res map[string]any) string {
	if v := r.value(res); v != "" {
		return v
	}
	comps, _ := res["component"].([]any)
	var parts []string
	for _, c := range comps {
		m, _ := c.(map[string]any)
		if cv := r.value(m); cv != "" {
			parts = append(parts, r.concept(m["code"])+": "+cv)
		}
	}
	return strings.Join(parts, "; ")
}

// value is an element's value[x] in words.
func (r reader) value(m map[string]any) string {
	if q, ok := m["valueQuantity"].(map[string]any); ok {
		return quantity(q)
	}
	if cc, ok := m["valueCodeableConcept"]; ok {
		return r.concept(cc)
	}
	for _, k := range []string{"valueString", "valueDateTime", "valueTime"} {
		if s, ok := m[k].(string); ok {
			return s
		}
	}
	if b, ok := m["valueBoolean"].(bool); ok {
		return fmt.Sprint(b)
	}
	if n, ok := m["valueInteger"]; ok {
		return fmt.Sprint(n)
	}
	if rg, ok := m["valueRange"].(map[string]any); ok {
		low, _ := rg["low"].(map[string]any)
		high, _ := rg["high"].(map[string]any)
		return strings.TrimSpace(quantity(low) + " – " + quantity(high))
	}
	return ""
}

// quantity is "value unit".
func quantity(q map[string]any) string {
	if q == nil {
		return ""
	}
	v := fmt.Sprint(q["value"])
	if q["value"] == nil {
		v = ""
	}
	if c, _ := q["comparator"].(string); c != "" {
		v = c + v
	}
	unit, _ := q["unit"].(string)
	if unit == "" {
		unit, _ = q["code"].(string)
	}
	return strings.TrimSpace(v + " " + unit)
}

// dateElements are, per type, the elements whose date tells when an
// entry happened or began, in order of preference.
var dateElements = map[string][]string{
	"Condition":                  {"onsetDateTime", "onsetPeriod", "recordedDate"},
	"AllergyIntolerance":         {"onsetDateTime", "onsetPeriod", "recordedDate"},
	"MedicationStatement":        {"effectiveDateTime", "effectivePeriod", "dateAsserted"},
	"MedicationRequest":          {"authoredOn"},
	"Immunization":               {"occurrenceDateTime", "occurrenceString", "recorded"},
	"Observation":                {"effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued"},
	"DiagnosticReport":           {"effectiveDateTime", "effectivePeriod", "issued"},
	"Procedure":                  {"performedDateTime", "performedPeriod", "performedString"},
	"DeviceUseStatement":         {"timingDateTime", "timingPeriod", "recordedOn"},
	"CarePlan":                   {"period", "created"},
	"ImmunizationRecommendation": {"date"},
	"Flag":                       {"period"},
}

// date is when an entry happened, began, or began and ended.
func (r reader) date(res map[string]any) string {
	typ, _ := res["resourceType"].(string)
	for _, k := range dateElements[typ] {
		switch v := res[k].(type) {
		case string:
			return r.when(v)
		case map[string]any:
			start, _ := v["start"].(string)
			end, _ := v["end"].(string)
			switch {
			case start != "" && end != "":
				return r.when(start) + " – " + r.when(end)
			case start != "":
				return r.when(start) + " –"
			case end != "":
				return "– " + r.when(end)
			}
		}
	}
	return ""
}

// when is a FHIR date or dateTime as people write it: 2024-03-01 09:30
// in English, 2024年03月01日 09:30 in Chinese.
func (r reader) when(s string) string {
	date, clock, hasTime := strings.Cut(s, "T")
	if r.lang == TraditionalChinese {
		parts := strings.Split(date, "-")
		suffix := []string{"年", "月", "日"}
		var b strings.Builder
		for i, p := range parts {
			if i < len(suffix) {
				b.WriteString(p + suffix[i])
			}
		}
		date = b.String()
	}
	if !hasTime || len(clock) < 5 {
		return date
	}
	return date + " " + clock[:5]
}

// hasHan reports whether s holds Chinese characters.
func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// patientName is the patient's name in lang: a name in Chinese
// characters for Chinese, another for English, else the first.
func patientName(p map[string]any, lang string) string {
	names, _ := p["name"].([]any)
	var first string
	for _, n := range names {
		m, _ := n.(map[string]any)
		s := humanName(m)
		if s == "" {
			continue
		}
		if first == "" {
			first = s
		}
		if hasHan(s) == (lang == TraditionalChinese) {
			return s
		}
	}
	return first
}

// humanName is a HumanName's text, else its given and family names.
func humanName(m map[string]any) string {
	if t, _ := m["text"].(string); t != "" {
		return t
	}
	var parts []string
	given, _ := m["given"].([]any)
	for _, g := range given {
		if s, _ := g.(string); s != "" {
			parts = append(parts, s)
		}
	}
	family, _ := m["family"].(string)
	if hasHan(family) {
		return family + strings.Join(parts, "")
	}
	if family != "" {
		parts = append(parts, family)
	}
	return strings.Join(parts, " ")
}
