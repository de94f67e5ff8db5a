package search

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// decode parses JSON the way package fhir does: numbers as json.Number.
func decode(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func param(t *testing.T, typ, code string) *Param {
	t.Helper()
	p, ok := NewRegistry().Lookup(typ, code)
	if !ok {
		t.Fatalf("no %s.%s", typ, code)
	}
	return p
}

func TestExtractString(t *testing.T) {
	name := param(t, "Patient", "name")
	rows := Extract(name, "HumanName", decode(t, `{"family":"Chan","given":["Tai","Man"],"prefix":["Mr"],"text":"陳大文","use":"official"}`))
	var exact []string
	for _, r := range rows {
		exact = append(exact, r.(StringRow).Exact)
	}
	if want := []string{"Chan", "Tai", "Man", "Mr", "陳大文"}; !reflect.DeepEqual(exact, want) {
		t.Errorf("HumanName rows = %q, want %q", exact, want)
	}
	addr := param(t, "Patient", "address")
	rows = Extract(addr, "Address", decode(t, `{"line":["1 Queen's Road"],"city":"Hong Kong","district":"Central","country":"HK","postalCode":"000","use":"home"}`))
	if len(rows) != 5 || rows[0].(StringRow).Norm != "1 queen's road" {
		t.Errorf("Address rows = %+v", rows)
	}
	if rows := Extract(name, "string", "Zoë"); rows[0] != (StringRow{Norm: "zoe", Exact: "Zoë"}) {
		t.Errorf("string row = %+v", rows)
	}
}

func TestExtractToken(t *testing.T) {
	code := param(t, "Observation", "code")
	rows := Extract(code, "CodeableConcept", decode(t, `{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic BP"},{"system":"http://snomed.info/sct","code":"271649006"}],"text":"Blood Pressure"}`))
	want := []Row{
		TokenRow{System: "http://loinc.org", Code: "8480-6", Text: "systolic bp"},
		TokenRow{System: "http://snomed.info/sct", Code: "271649006"},
		TokenRow{Text: "blood pressure"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("CodeableConcept rows = %+v", rows)
	}
	ident := param(t, "Patient", "identifier")
	rows = Extract(ident, "Identifier", decode(t, `{"system":"urn:hkid","value":"A123456(7)","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NI"}],"text":"HKID"}}`))
	if want := (TokenRow{System: "urn:hkid", Code: "A123456(7)", Text: "hkid", TypeSystem: "http://terminology.hl7.org/CodeSystem/v2-0203", TypeCode: "NI"}); len(rows) != 1 || rows[0] != want {
		t.Errorf("Identifier rows = %+v", rows)
	}
	telecom := param(t, "Patient", "telecom")
	rows = Extract(telecom, "ContactPoint", decode(t, `{"system":"phone","value":"+852 2345 6789"}`))
	if want := (TokenRow{Code: "+852 2345 6789", TypeCode: "phone"}); rows[0] != want {
		t.Errorf("ContactPoint rows = %+v", rows)
	}
	active := param(t, "Patient", "active")
	if rows := Extract(active, "boolean", true); rows[0] != (TokenRow{Code: "true"}) {
		t.Errorf("boolean rows = %+v", rows)
	}
	if rows := Extract(code, "Period", decode(t, `{"start":"2013"}`)); rows != nil {
		t.Errorf("a Period gave token rows %+v", rows)
	}
}

func TestExtractDate(t *testing.T) {
	date := param(t, "Observation", "date")
	d := func(s string) DateRange { return mustDate(t, s, nil) }
	tests := []struct {
		typ  string
		json string
		want []DateRange
	}{
		{"dateTime", `"2013-01-14T10:00:00Z"`, []DateRange{d("2013-01-14T10:00:00Z")}},
		{"date", `"2013-01"`, []DateRange{d("2013-01")}},
		{"Period", `{"start":"2013-01-14","end":"2013-01-20"}`, []DateRange{{d("2013-01-14").Lo, d("2013-01-20").Hi}}},
		{"Period", `{"start":"2013-01-14"}`, []DateRange{{d("2013-01-14").Lo, OpenHigh}}},
		{"Period", `{"end":"2013-01-20"}`, []DateRange{{OpenLow, d("2013-01-20").Hi}}},
		{"Period", `{}`, nil},
		{"Timing", `{"event":["2013-01-14T08:00:00Z","2013-01-15T08:00:00Z"],"repeat":{"boundsPeriod":{"start":"2013-01-14"}}}`,
			[]DateRange{d("2013-01-14T08:00:00Z"), d("2013-01-15T08:00:00Z"), {d("2013-01-14").Lo, OpenHigh}}},
		{"dateTime", `"not a date"`, nil},
	}
	for _, tt := range tests {
		rows := Extract(date, tt.typ, decode(t, tt.json))
		var got []DateRange
		for _, r := range rows {
			got = append(got, r.(DateRow).DateRange)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s = %v, want %v", tt.typ, tt.json, got, tt.want)
		}
	}
	// the extractor's zone applies to values without one
	hk := time.FixedZone("HKT", 8*3600)
	rows := Extractor{Loc: hk}.Extract(date, "date", "2013-01-14")
	if rows[0].(DateRow).DateRange != mustDate(t, "2013-01-14", hk) {
		t.Errorf("zone not applied: %v", rows)
	}
}

func TestExtractNumberAndQuantity(t *testing.T) {
	prob := param(t, "RiskAssessment", "probability")
	rows := Extract(prob, "decimal", json.Number("0.30"))
	if r := rows[0].(NumberRow); r.Lo.Cmp(rat("0.3")) != 0 || r.Hi.Cmp(rat("0.3")) != 0 {
		t.Errorf("decimal row = %v", r)
	}
	rows = Extract(prob, "Range", decode(t, `{"low":{"value":0.2},"high":{"value":0.4}}`))
	if r := rows[0].(NumberRow); r.Lo.Cmp(rat("0.2")) != 0 || r.Hi.Cmp(rat("0.4")) != 0 {
		t.Errorf("Range row = %v", r)
	}
	vq := param(t, "Observation", "value-quantity")
	rows = Extract(vq, "Quantity", decode(t, `{"value":5400,"unit":"µg","system":"http://unitsofmeasure.org","code":"ug"}`))
	q := rows[0].(QuantityRow)
	if q.CanonUnit != "g" || q.CanonLo.Cmp(rat("0.0054")) != 0 || q.Code != "ug" || q.Unit != "µg" {
		t.Errorf("Quantity row = %+v", q)
	}
	rows = Extract(vq, "Quantity", decode(t, `{"value":12,"unit":"tablets"}`))
	if q := rows[0].(QuantityRow); q.CanonUnit != "" || q.Unit != "tablets" {
		t.Errorf("non-UCUM quantity row = %+v", q)
	}
	rows = Extract(vq, "Range", decode(t, `{"low":{"value":1,"system":"http://unitsofmeasure.org","code":"mg"},"high":{"value":2,"system":"http://unitsofmeasure.org","code":"mg"}}`))
	if q := rows[0].(QuantityRow); q.CanonLo.Cmp(rat("0.001")) != 0 || q.CanonHi.Cmp(rat("0.002")) != 0 {
		t.Errorf("Range quantity row = %+v", q)
	}
	rows = Extract(vq, "Quantity", decode(t, `{"unit":"mg"}`))
	if rows != nil {
		t.Errorf("quantity without value gave %+v", rows)
	}
}

func TestExtractReference(t *testing.T) {
	subj := param(t, "Observation", "subject")
	x := Extractor{BaseURL: "https://ehealth.hk/fhir"}
	tests := []struct {
		typ, json string
		want      ReferenceRow
	}{
		{"Reference", `{"reference":"Patient/123"}`, ReferenceRow{Type: "Patient", ID: "123"}},
		{"Reference", `{"reference":"Patient/123/_history/4"}`, ReferenceRow{Type: "Patient", ID: "123", Version: "4"}},
		{"Reference", `{"reference":"https://other.org/fhir/Patient/9"}`, ReferenceRow{Type: "Patient", ID: "9", Base: "https://other.org/fhir", URL: "https://other.org/fhir/Patient/9"}},
		{"Reference", `{"reference":"https://ehealth.hk/fhir/Patient/9"}`, ReferenceRow{Type: "Patient", ID: "9"}},
		{"Reference", `{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}`, ReferenceRow{URL: "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}},
		{"Reference", `{"reference":"#p1"}`, ReferenceRow{URL: "#p1"}},
		{"Reference", `{"identifier":{"system":"urn:hkid","value":"A1"}}`, ReferenceRow{IdentifierSystem: "urn:hkid", IdentifierValue: "A1"}},
		{"canonical", `"http://hl7.org/fhir/Questionnaire/phq-9|1.0"`, ReferenceRow{Type: "Questionnaire", ID: "phq-9", Base: "http://hl7.org/fhir", URL: "http://hl7.org/fhir/Questionnaire/phq-9", Version: "1.0"}},
	}
	for _, tt := range tests {
		rows := x.Extract(subj, tt.typ, decode(t, tt.json))
		if len(rows) != 1 || rows[0] != tt.want {
			t.Errorf("%s = %+v, want %+v", tt.json, rows, tt.want)
		}
	}
	if rows := Extract(subj, "Reference", decode(t, `{"display":"Chan Tai Man"}`)); rows != nil {
		t.Errorf("display-only reference gave %+v", rows)
	}
}

func TestExtractComposite(t *testing.T) {
	cvq := param(t, "Observation", "code-value-quantity")
	code := []Row{TokenRow{System: "http://loinc.org", Code: "8480-6"}, TokenRow{System: "http://snomed.info/sct", Code: "271649006"}}
	value := []Row{QuantityRow{Lo: rat("120"), Hi: rat("120"), Code: "mm[Hg]"}}
	rows := ExtractComposite(cvq, [][]Row{code, value})
	if len(rows) != 2 || rows[1].(CompositeRow).Parts[0] != code[1] {
		t.Errorf("composite rows = %+v", rows)
	}
	if ExtractComposite(cvq, [][]Row{code}) != nil {
		t.Error("composite with a missing component gave rows")
	}
}

func TestSortKeyOf(t *testing.T) {
	d := func(s string) Row { return DateRow{mustDate(t, s, nil)} }
	rows := []Row{d("2013-05"), d("2012"), d("2014-01-01")}
	lo, _ := SortKeyOf(rows, false)
	hi, _ := SortKeyOf(rows, true)
	if lo.Time != mustDate(t, "2012", nil).Lo || hi.Time != mustDate(t, "2014-01-01", nil).Hi {
		t.Errorf("date sort keys = %v %v", lo, hi)
	}
	names := []Row{StringRow{Norm: "wong"}, StringRow{Norm: "chan"}, StringRow{Norm: "lee"}}
	if k, _ := SortKeyOf(names, false); k.Text != "chan" {
		t.Errorf("asc = %q", k.Text)
	}
	if k, _ := SortKeyOf(names, true); k.Text != "wong" {
		t.Errorf("desc = %q", k.Text)
	}
	if _, ok := SortKeyOf(nil, false); ok {
		t.Error("a resource without values has a sort key")
	}
	nums := []Row{NumberRow{rat("2"), rat("2")}, NumberRow{rat("-1"), rat("-1")}}
	if k, _ := SortKeyOf(nums, false); k.Num.Cmp(rat("-1")) != 0 {
		t.Errorf("number asc = %v", k.Num)
	}
}
