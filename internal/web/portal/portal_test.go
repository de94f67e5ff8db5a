package portal

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/web"
)

// catalogue is the portal's messages with the foundation's.
func catalogue(t *testing.T) web.Catalogue {
	t.Helper()
	c := web.Catalogue{}
	if err := c.LoadCatalogue(files, "."); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTranslated fails on a message missing in either language, on page
// text written in a template instead of the catalogue, and on a message a
// page builds from data (a record type, a form field, an option, a
// council, a profession) that the catalogue lacks.
func TestTranslated(t *testing.T) {
	c := catalogue(t)
	if m := c.Missing(); len(m) > 0 {
		t.Errorf("messages missing in a language: %v", m)
	}
	words, err := web.LiteralText(files, "pages/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(words) > 0 {
		t.Errorf("template text not through the catalogue:\n%s", strings.Join(words, "\n"))
	}
	var keys []string
	for _, k := range web.RecordKinds {
		keys = append(keys, "kind."+k.Key)
		for _, typ := range k.Types {
			keys = append(keys, "type."+typ)
		}
	}
	for _, typ := range historyTypes {
		keys = append(keys, "type."+typ)
	}
	for _, k := range depositKinds {
		keys = append(keys, "form."+k.Key)
		for _, f := range k.Fields {
			keys = append(keys, "field."+k.Key+"."+f.Name)
			if f.Required {
				keys = append(keys, "form.required."+f.Name)
			}
			for _, o := range f.Options {
				keys = append(keys, "opt."+f.Name+"."+o)
			}
		}
	}
	for _, d := range documentKinds {
		keys = append(keys, "doc."+string(d))
	}
	for _, x := range councils {
		keys = append(keys, "council."+x)
	}
	for _, x := range professions {
		keys = append(keys, "profession."+x)
	}
	for _, x := range []string{"none", "bronze", "silver", "gold"} {
		keys = append(keys, "level."+x)
	}
	for _, x := range []string{"male", "female", "other", "unknown"} {
		keys = append(keys, "gender."+x)
	}
	keys = append(keys, "mark.lab", "mark.radiology")
	for _, k := range keys {
		for _, l := range web.Langs {
			if got := c.T(l, k); strings.HasPrefix(got, "⟦") {
				t.Errorf("%s: no message %s", l, k)
			}
		}
	}
}

// TestCheckFields: the forms' checks catch what is missing or malformed,
// in message keys, and pass what is right.
func TestCheckFields(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, web.HongKong())
	tests := []struct {
		form string
		v    values
		want []string
	}{
		{"allergy", values{"substance": "Penicillin", "date": "2026-03-01", "category": "medication"}, nil},
		{"allergy", values{"date": "2026-03-01"}, []string{"form.required.substance"}},
		{"allergy", values{"substance": "Penicillin", "date": "2027-01-01"}, []string{"form.bad_date"}},
		{"allergy", values{"substance": "Penicillin", "date": "1899-12-31"}, []string{"form.bad_date"}},
		{"allergy", values{"substance": "Penicillin", "date": "2026-03-01", "category": "pets"}, []string{"form.bad_choice"}},
		{"allergy", values{"substance": strings.Repeat("x", maxReason+1), "date": "2026-03-01"}, []string{"form.too_long"}},
		{"immunisation", values{"vaccine": "Flu", "date": "2026-03-01", "dose": "21"}, []string{"form.bad_dose"}},
		{"vital", values{"measure": "8867-4", "value": "72", "when": "2026-03-02T08:30"}, nil},
		{"vital", values{"measure": "8867-4", "value": "72", "when": "2026-03-02 08:30"}, []string{"form.bad_date"}},
		{"vital", values{"measure": "1234-5", "value": "72", "when": "2026-03-02T08:30"}, []string{"form.bad_choice"}},
	}
	for _, c := range tests {
		k, _ := depositKindOf(c.form)
		got := checkFields(k, c.v, now)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s %v: %v, want %v", c.form, c.v, got, c.want)
		}
	}
}

// TestBuild: the forms make the records the API takes, for the patient,
// by the professional, and refuse implausible values.
func TestBuild(t *testing.T) {
	role, org := "PractitionerRole/r1", "Organization/clinic"
	tests := []struct {
		form  string
		v     values
		want  []string // substrings of the record's JSON
		error string
	}{
		{"allergy", values{"substance": "Penicillin", "date": "2026-03-01", "criticality": "high", "reaction": "Rash"},
			[]string{`"resourceType":"AllergyIntolerance"`, `"patient":{"reference":"Patient/p1"}`, `"recorder":{"reference":"PractitionerRole/r1"}`, `"criticality":"high"`, `"manifestation":[{"text":"Rash"}]`, `"code":"active"`}, ""},
		{"immunisation", values{"vaccine": "Influenza", "cvx": "88", "date": "2026-03-01", "dose": "2", "lot": "L1"},
			[]string{`"code":"88","system":"http://hl7.org/fhir/sid/cvx"`, `"text":"Influenza"`, `"doseNumberPositiveInt":2`, `"lotNumber":"L1"`, `"occurrenceDateTime":"2026-03-01"`}, ""},
		{"immunisation", values{"vaccine": "Influenza", "cvx": "8888", "date": "2026-03-01"}, nil, "form.bad_cvx"},
		{"vital", values{"measure": "8310-5", "value": "36.50", "when": "2026-03-02T08:30"},
			[]string{`"value":36.50`, `"code":"Cel"`, `"effectiveDateTime":"2026-03-02T08:30:00+08:00"`, `"code":"vital-signs"`}, ""},
		{"vital", values{"measure": "85354-9", "value": "128 / 82", "when": "2026-03-02T08:30"},
			[]string{`"code":"8480-6"`, `"value":128`, `"code":"8462-4"`, `"value":82`}, ""},
		{"vital", values{"measure": "85354-9", "value": "128", "when": "2026-03-02T08:30"}, nil, "form.bad_pressure"},
		{"vital", values{"measure": "8310-5", "value": "1e1", "when": "2026-03-02T08:30"}, nil, "form.bad_value"},
		{"vital", values{"measure": "8310-5", "value": "99", "when": "2026-03-02T08:30"}, nil, "form.bad_value"},
		{"medication", values{"drug": "Metformin 500 mg", "record": "prescription", "dosage": "1 tablet twice a day", "date": "2026-03-01"},
			[]string{`"resourceType":"MedicationRequest"`, `"intent":"order"`, `"requester":{"reference":"PractitionerRole/r1"}`, `"dosageInstruction":[{"text":"1 tablet twice a day"}]`}, ""},
		{"medication", values{"drug": "Metformin 500 mg", "date": "2026-03-01"},
			[]string{`"resourceType":"MedicationStatement"`, `"effectivePeriod":{"start":"2026-03-01"}`, `"informationSource":{"reference":"PractitionerRole/r1"}`}, ""},
	}
	for _, c := range tests {
		k, _ := depositKindOf(c.form)
		r, errs := k.build(c.v, "p1", role, org)
		if c.error != "" {
			if len(errs) != 1 || errs[0] != c.error || r != nil {
				t.Errorf("%s %v: %v, want %s", c.form, c.v, errs, c.error)
			}
			continue
		}
		b, err := json.Marshal(r)
		if err != nil || len(errs) > 0 {
			t.Fatalf("%s %v: %v %v", c.form, c.v, errs, err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: %s lacks %s", c.form, b, w)
			}
		}
	}
}

// TestRepoint: the records of an upload are pointed from the Patient
// entry to the citizen's master record, wherever they name it, and
// nothing else changes.
func TestRepoint(t *testing.T) {
	var rec map[string]any
	json.Unmarshal([]byte(`{"resourceType":"Immunization","patient":{"reference":"urn:uuid:a"},
		"performer":[{"actor":{"reference":"Organization/clinic"}}],"note":[{"text":"urn:uuid:a"}],
		"reasonReference":[{"reference":"urn:uuid:b"}]}`), &rec)
	if got := patientOf(rec); got != "urn:uuid:a" {
		t.Fatalf("patientOf = %q", got)
	}
	repoint(rec, "urn:uuid:a", "Patient/m1")
	b, _ := json.Marshal(rec)
	for _, want := range []string{`"patient":{"reference":"Patient/m1"}`, `"text":"urn:uuid:a"`, `"reference":"urn:uuid:b"`, `"reference":"Organization/clinic"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	if patientOf(map[string]any{"subject": map[string]any{"reference": "Patient/m1"}}) != "" {
		t.Error("a reference to a stored Patient is taken for a Bundle entry")
	}
}

// TestStoredAndOwn: the locations of a transaction-response, and which
// records are the provider's own deposits.
func TestStoredAndOwn(t *testing.T) {
	resp := web.Resource{"entry": []any{
		map[string]any{"response": map[string]any{"location": "Immunization/i1/_history/1"}},
		map[string]any{"response": map[string]any{"location": "http://x/fhir/Observation/o-2/_history/3"}},
		map[string]any{"response": map[string]any{"location": "Patient/p/_history/1"}},
		map[string]any{"response": map[string]any{"status": "200"}},
	}}
	if got := strings.Join(stored(resp), " "); got != "Immunization/i1 Observation/o-2" {
		t.Errorf("stored = %q", got)
	}
	own := web.Resource{"identifier": []any{map[string]any{"system": "https://ehealth.hk/fhir/source/clinic/portal/allergy", "value": "1"}}}
	if !ownDeposit(own, "clinic") || ownDeposit(own, "clin") || ownDeposit(web.Resource{}, "clinic") {
		t.Error("ownDeposit")
	}
}

// TestChart: the SVG has a title, the range and a point per result, and
// no style attribute (the Content-Security-Policy forbids them).
func TestChart(t *testing.T) {
	d := func(s string) time.Time { t, _, _ := web.ParseTime(s); return t }
	svg := string(chart("HbA1c <trend>", []point{{d("2025-06-10"), 7.4}, {d("2025-01-10"), 6.1}, {d("2025-11-03"), 6.8}}, 4, 6, web.English))
	for _, want := range []string{`role="img"`, `<title id="chart-title">HbA1c &lt;trend&gt;</title>`, `<rect class="range"`, `<path class="line" d="M`, "10 Jan 2025", "3 Nov 2025"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
	if n := strings.Count(svg, "<circle"); n != 3 || strings.Contains(svg, "style=") {
		t.Errorf("%d points, style %v", n, strings.Contains(svg, "style="))
	}
	if chart("x", nil, 0, 0, web.English) != "" {
		t.Error("a chart of nothing is not empty")
	}
}

// FuzzDepositForm: whatever a form carries, checking and building never
// panic, and a record is built only from values the checks passed.
func FuzzDepositForm(f *testing.F) {
	f.Add("vital", "85354-9", "120/80", "2026-03-02T08:30", "")
	f.Add("vital", "8310-5", "36.5", "2026-03-02T08:30", "")
	f.Add("immunisation", "Flu", "2026-03-01", "3", "088")
	f.Add("allergy", "Penicillin", "2026-03-01", "high", "")
	f.Add("medication", "Metformin", "2026-03-01", "prescription", "x")
	f.Add("vital", "85354-9", "/", "2026-03-02T08:30", "")
	f.Fuzz(func(t *testing.T, form, a, b, c, d string) {
		k, ok := depositKindOf(form)
		if !ok {
			return
		}
		v := values{}
		for i, s := range []string{a, b, c, d} {
			if i < len(k.Fields) {
				v[k.Fields[i].Name] = s
			}
		}
		if len(checkFields(k, v, time.Now())) > 0 {
			return
		}
		r, errs := k.build(v, "p1", "PractitionerRole/r1", "Organization/o")
		if (r == nil) == (len(errs) == 0) {
			t.Errorf("%s %v: record %v with errors %v", form, v, r != nil, errs)
		}
		if r != nil {
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("%s %v: %v", form, v, err)
			}
		}
	})
}

// FuzzDigits: a key or code as typed keeps its digits, or is refused.
func FuzzDigits(f *testing.F) {
	for _, s := range []string{"1234 5678", "12-34-56", "12a4", "", "١٢٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := digits(s)
		if strings.Trim(d, "0123456789") != "" {
			t.Errorf("digits(%q) = %q", s, d)
		}
	})
}
