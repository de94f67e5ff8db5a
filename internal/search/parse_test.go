package search

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

var testReg = NewRegistry()

func parse(t *testing.T, typ, query string, strict bool) (*Query, []outcome.Issue, error) {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	return ParseWith(typ, q, testReg, Options{Strict: strict, Now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
}

func mustParse(t *testing.T, typ, query string) *Query {
	t.Helper()
	q, _, err := parse(t, typ, query, true)
	if err != nil {
		t.Fatalf("Parse(%s?%s): %v", typ, query, err)
	}
	return q
}

func TestParseClauses(t *testing.T) {
	q := mustParse(t, "Observation", "code=http://loinc.org|8480-6,|1234,http://snomed.info/sct|&code=x&date=ge2013-01&date=lt2014&value-quantity=5.4||mg&subject:Patient=123&status:not=final")
	if len(q.Clauses) != 7 {
		t.Fatalf("clauses = %d, want 7 (repeated parameters are ANDed)", len(q.Clauses))
	}
	// clauses come in the order of the sorted parameter names, repetitions in order
	var names []string
	for _, c := range q.Clauses {
		names = append(names, c.Param.Code)
	}
	if want := []string{"code", "code", "date", "date", "status", "subject", "value-quantity"}; !slices.Equal(names, want) {
		t.Fatalf("clause order = %v", names)
	}
	code := q.Clauses[0]
	if code.Param.Code != "code" || len(code.Values) != 3 {
		t.Fatalf("code clause = %+v", code)
	}
	wantTokens := []TokenValue{
		{System: "http://loinc.org", Code: "8480-6", HasSystem: true},
		{Code: "1234", HasSystem: true},
		{System: "http://snomed.info/sct", HasSystem: true},
	}
	for i, w := range wantTokens {
		if got := code.Values[i].Token; !tokenEqual(got, w) {
			t.Errorf("token %d = %+v, want %+v", i, got, w)
		}
	}
	if got := q.Clauses[1].Values[0].Token; !tokenEqual(got, TokenValue{Code: "x"}) {
		t.Errorf("bare code = %+v", got)
	}
	d1, d2 := q.Clauses[2].Values[0], q.Clauses[3].Values[0]
	if d1.Prefix != Ge || d1.Date != mustDate(t, "2013-01", nil) || d2.Prefix != Lt {
		t.Errorf("dates = %+v %+v", d1, d2)
	}
	sub := q.Clauses[5]
	if st := q.Clauses[4]; st.Modifier != ModNot || st.Values[0].Token.Code != "final" {
		t.Errorf("status:not = %+v", st)
	}
	if sub.Modifier != ModType || sub.TargetType != "Patient" || sub.Values[0].Ref != (RefValue{Type: "Patient", ID: "123"}) {
		t.Errorf("subject:Patient = %+v", sub)
	}
	vq := q.Clauses[6].Values[0].Quantity
	if vq.Code != "mg" || vq.System != "" || vq.CanonUnit != "g" || vq.Canon.Value.Cmp(rat("0.0054")) != 0 {
		t.Errorf("quantity = %+v", vq)
	}
}

func tokenEqual(a, b TokenValue) bool {
	return a.System == b.System && a.Code == b.Code && a.HasSystem == b.HasSystem &&
		a.TypeSystem == b.TypeSystem && a.TypeCode == b.TypeCode && a.Text == b.Text
}

func TestParseModifiers(t *testing.T) {
	q := mustParse(t, "Patient", "name:exact=Zoë&family:contains=an&identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|12345&gender:missing=true&language:text=chinese&general-practitioner:identifier=urn:hkmc|M123")
	byName := map[string]Clause{}
	for _, c := range q.Clauses {
		byName[c.Param.Code] = c
	}
	if c := byName["name"]; c.Modifier != ModExact || c.Values[0].String != "Zoë" {
		t.Errorf("name:exact = %+v", c)
	}
	if c := byName["family"]; c.Modifier != ModContains {
		t.Errorf("family:contains = %+v", c)
	}
	if c := byName["identifier"]; !tokenEqual(c.Values[0].Token, TokenValue{TypeSystem: "http://terminology.hl7.org/CodeSystem/v2-0203", TypeCode: "MR", Code: "12345"}) {
		t.Errorf("of-type = %+v", c.Values[0].Token)
	}
	if c := byName["gender"]; c.Modifier != ModMissing || !c.Values[0].Missing {
		t.Errorf("missing = %+v", c)
	}
	if c := byName["language"]; c.Values[0].Token.Text != "chinese" {
		t.Errorf("text = %+v", c)
	}
	if c := byName["general-practitioner"]; c.Values[0].Ref.IdentifierSystem != "urn:hkmc" || c.Values[0].Ref.IdentifierValue != "M123" {
		t.Errorf("identifier = %+v", c.Values[0].Ref)
	}
}

func TestParseReferenceForms(t *testing.T) {
	base := "https://ehealth.hk/fhir"
	tests := []struct {
		query string
		want  RefValue
	}{
		{"subject=Patient/123", RefValue{Type: "Patient", ID: "123"}},
		{"subject=123", RefValue{ID: "123"}}, // subject has several targets
		{"patient=123", RefValue{Type: "Patient", ID: "123"}},
		{"subject:Group=7", RefValue{Type: "Group", ID: "7"}},
		{"subject=Patient/123/_history/2", RefValue{Type: "Patient", ID: "123"}},
		{"subject=https://other.org/fhir/Patient/9", RefValue{Type: "Patient", ID: "9", Base: "https://other.org/fhir", URL: "https://other.org/fhir/Patient/9"}},
		{"subject=https://ehealth.hk/fhir/Patient/9", RefValue{Type: "Patient", ID: "9"}},
		{"subject=https://ehealth.hk/fhir/Patient/9/_history/1", RefValue{Type: "Patient", ID: "9"}},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.query)
		q, _, err := ParseWith("Observation", v, testReg, Options{Strict: true, BaseURL: base})
		if err != nil {
			t.Errorf("%s: %v", tt.query, err)
			continue
		}
		if got := q.Clauses[0].Values[0].Ref; got != tt.want {
			t.Errorf("%s = %+v, want %+v", tt.query, got, tt.want)
		}
	}
	if _, _, err := parse(t, "Observation", "subject:Medication=1", true); err == nil {
		t.Error("subject:Medication accepted")
	}
}

func TestParseChains(t *testing.T) {
	q := mustParse(t, "Observation", "subject:Patient.name=chan&patient.organization.name=hospital&encounter.service-provider.partof.name=ha")
	byName := map[string]Clause{}
	for _, c := range q.Clauses {
		byName[c.Param.Code] = c
	}
	c := byName["subject"]
	if c.Chain == nil || !slices.Equal(c.Chain.Types, []string{"Patient"}) || c.Chain.Clause.Param.Code != "name" || c.Chain.Clause.Values[0].String != "chan" {
		t.Errorf("subject:Patient.name = %+v", c)
	}
	c = byName["patient"]
	if c.Chain == nil || c.Chain.Clause.Param.Code != "organization" {
		t.Fatalf("patient.organization = %+v", c)
	}
	inner := c.Chain.Clause.Chain
	if inner == nil || !slices.Equal(inner.Types, []string{"Organization"}) || inner.Clause.Param.Code != "name" || inner.Clause.Values[0].String != "hospital" {
		t.Errorf("patient.organization.name inner = %+v", inner)
	}
	// three links deep
	c = byName["encounter"]
	depth := 0
	for l := &c; l.Chain != nil; l = &l.Chain.Clause {
		depth++
	}
	if depth != 3 || leafOf(&c).Values[0].String != "ha" {
		t.Errorf("encounter chain depth %d", depth)
	}
	// subject without a type: only targets that define "name"
	q = mustParse(t, "Observation", "subject.name=chan")
	if types := q.Clauses[0].Chain.Types; !slices.Contains(types, "Patient") || slices.Contains(types, "Group") {
		t.Errorf("subject.name types = %v", types)
	}
}

func TestParseHas(t *testing.T) {
	q := mustParse(t, "Patient", "_has:Observation:patient:code=1234-5")
	h := q.Clauses[0].Has
	if h == nil || h.Type != "Observation" || h.Ref.Code != "patient" || h.Clause.Param.Code != "code" || h.Clause.Values[0].Token.Code != "1234-5" {
		t.Fatalf("_has = %+v", q.Clauses[0])
	}
	// nested: patients with an Observation that has a Provenance by Practitioner/1
	q = mustParse(t, "Patient", "_has:Observation:patient:_has:Provenance:target:agent=Practitioner/1")
	h2 := q.Clauses[0].Has.Clause.Has
	if h2 == nil || h2.Type != "Provenance" || h2.Ref.Code != "target" || h2.Clause.Values[0].Ref != (RefValue{Type: "Practitioner", ID: "1"}) {
		t.Errorf("nested _has = %+v", q.Clauses[0].Has.Clause)
	}
	// _has ending in a chain
	q = mustParse(t, "Patient", "_has:Observation:subject:performer:Practitioner.name=wong")
	if leaf := leafOf(&q.Clauses[0]); leaf.Param.Code != "name" || leaf.Param.ResourceType != "Practitioner" {
		t.Errorf("_has + chain leaf = %+v", leaf.Param)
	}
	for _, bad := range []string{
		"_has:Observation:patient=1",         // no parameter
		"_has:Observation:code:status=final", // code is not a reference
		"_has:Observation:encounter:code=1",  // encounter cannot refer to Patient
		"_has:observation:patient:code=1",
	} {
		if _, _, err := parse(t, "Patient", bad, false); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	deep := "organization" + strings.Repeat(".partof", MaxChainDepth) + ".name=x"
	if _, _, err := parse(t, "Patient", deep, false); !outcome.Is(err, outcome.TooCostly) {
		t.Errorf("too deep chain: %v", err)
	}
	ok := "organization" + strings.Repeat(".partof", MaxChainDepth-1) + ".name=x"
	if _, _, err := parse(t, "Patient", ok, true); err != nil {
		t.Errorf("chain of %d links: %v", MaxChainDepth, err)
	}
}

func TestParseComposite(t *testing.T) {
	q := mustParse(t, "Observation", "code-value-quantity=http://loinc.org|8480-6$lt60&code-value-quantity=http://loinc.org|8462-4$gt90||mm[Hg]")
	if len(q.Clauses) != 2 {
		t.Fatalf("clauses = %d", len(q.Clauses))
	}
	p := q.Clauses[0].Values[0].Parts
	if len(p) != 2 || p[0].Token.Code != "8480-6" || p[1].Prefix != Lt || p[1].Quantity.Number.Value.Cmp(rat("60")) != 0 {
		t.Errorf("first = %+v", p)
	}
	p = q.Clauses[1].Values[0].Parts
	if p[1].Prefix != Gt || p[1].Quantity.Code != "mm[Hg]" || p[1].Quantity.CanonUnit != "g.m-1.s-2" {
		t.Errorf("second = %+v", p)
	}
	// R4 declares multipleOr = false on its composites: a comma is refused
	for _, bad := range []string{"code-value-quantity=http://loinc.org|8480-6$lt60,http://loinc.org|8462-4$gt90", "code-value-quantity=http://loinc.org|8480-6", "code-value-quantity=a$b$c", "code-value-quantity=a$notanumber", "code-value-quantity=a$gt"} {
		if _, _, err := parse(t, "Observation", bad, false); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestParseIncludes(t *testing.T) {
	q := mustParse(t, "MedicationRequest", "_include=MedicationRequest:patient&_include=MedicationRequest:requester:Practitioner&_include:iterate=PractitionerRole:organization,Patient:general-practitioner&_revinclude=Provenance:target&_revinclude:iterate=*")
	if len(q.Include) != 4 {
		t.Fatalf("includes = %+v", q.Include)
	}
	if in := q.Include[1]; in.Source != "MedicationRequest" || in.Param.Code != "requester" || in.Target != "Practitioner" || in.Iterate {
		t.Errorf("include 1 = %+v", in)
	}
	if in := q.Include[2]; !in.Iterate || in.Source != "PractitionerRole" || in.Param.Code != "organization" {
		t.Errorf("iterate include = %+v", in)
	}
	if len(q.RevInclude) != 2 || q.RevInclude[0].Param.Code != "target" || !q.RevInclude[1].Wildcard || !q.RevInclude[1].Iterate {
		t.Errorf("revincludes = %+v", q.RevInclude)
	}
	q = mustParse(t, "Observation", "_include=*&_include=Observation:*")
	if len(q.Include) != 2 || !q.Include[0].Wildcard || q.Include[0].Source != "*" || !q.Include[1].Wildcard {
		t.Errorf("wildcards = %+v", q.Include)
	}
	// an include from another type cannot apply without :iterate
	q, issues, err := parse(t, "Observation", "_include=Encounter:patient", false)
	if err != nil || len(q.Include) != 0 || len(issues) != 1 {
		t.Errorf("lenient foreign include: %v %+v %v", q.Include, issues, err)
	}
	if _, _, err := parse(t, "Observation", "_include=Encounter:patient", true); err == nil {
		t.Error("strict foreign include accepted")
	}
	for _, bad := range []string{"_include=Observation", "_include=Observation:code", "_include:deep=Observation:subject", "_include=Observation:subject:Medication"} {
		if _, _, err := parse(t, "Observation", bad, false); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestParseResultControls(t *testing.T) {
	q := mustParse(t, "Observation", "_sort=-date,status,_id&_count=20&_summary=text&_elements=code,subject&_total=accurate&_format=json")
	if len(q.Sort) != 3 || !q.Sort[0].Desc || q.Sort[0].Param.Code != "date" || q.Sort[1].Desc || q.Sort[2].Param.Code != "_id" {
		t.Errorf("sort = %+v", q.Sort)
	}
	if q.Count != 20 || q.Summary != "text" || q.Total != "accurate" {
		t.Errorf("controls = %+v", q)
	}
	if q := mustParse(t, "Observation", "_contained=both&_containedType=contained"); q.Contained != "both" || q.ContainedType != "contained" {
		t.Errorf("contained controls = %+v", q)
	}
	if !slices.Equal(q.Elements, []string{"code", "subject"}) {
		t.Errorf("elements = %v", q.Elements)
	}
	if q := mustParse(t, "Observation", ""); q.Count != DefaultPageSize {
		t.Errorf("default count = %d", q.Count)
	}
	q, issues, err := parse(t, "Observation", "_count=100000", true)
	if err != nil || q.Count != DefaultMaxCount || len(issues) != 1 {
		t.Errorf("capped count = %d %+v %v", q.Count, issues, err)
	}
	if q := mustParse(t, "Observation", "_count=0"); q.Count != 0 {
		t.Errorf("_count=0 gave %d", q.Count)
	}
	for _, bad := range []string{"_count=-1", "_count=ten", "_summary=maybe", "_total=all", "_contained=yes"} {
		if _, _, err := parse(t, "Observation", bad, false); !outcome.Is(err, outcome.Invalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestParseUnknownStrictLenient(t *testing.T) {
	query := "foo=bar&code=1234&_sort=nonsense&subject.nonsense=1&_query=x"
	q, issues, err := parse(t, "Observation", query, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Clauses) != 1 || q.Clauses[0].Param.Code != "code" {
		t.Errorf("lenient kept %+v", q.Clauses)
	}
	if len(issues) != 4 {
		t.Errorf("issues = %+v", issues)
	}
	for _, is := range issues {
		if is.Severity != outcome.SeverityWarning || is.Expression == "" {
			t.Errorf("issue = %+v", is)
		}
	}
	_, _, err = parse(t, "Observation", query, true)
	var e *outcome.Error
	if !outcomeAs(err, &e) || e.Kind != outcome.Invalid || len(e.Issues) != 4 || e.Issues[0].Severity != outcome.SeverityError {
		t.Errorf("strict error = %v", err)
	}
	// unknown modifiers and bad values are errors either way
	for _, bad := range []string{"code:exact=1", "name:below=x", "date=2013-13", "date=xx2013", "value-quantity=5|mg", "birthdate:missing=maybe", "gender=male,female&gender:Patient=x"} {
		if _, _, err := parse(t, "Patient", bad, false); err == nil {
			if _, _, err := parse(t, "Observation", bad, false); err == nil {
				t.Errorf("%s accepted", bad)
			}
		}
	}
}

func outcomeAs(err error, e **outcome.Error) bool {
	oe, ok := err.(*outcome.Error)
	*e = oe
	return ok
}

func TestParseSystemLevel(t *testing.T) {
	q := mustParse(t, "", "_type=Patient,Practitioner&name=chan&_lastUpdated=gt2020")
	if !slices.Equal(q.Types, []string{"Patient", "Practitioner"}) || len(q.Clauses) != 2 {
		t.Errorf("system search = %+v", q)
	}
	// a parameter not on every _type is unknown
	_, issues, err := parse(t, "", "_type=Patient,Observation&name=chan", false)
	if err != nil || len(issues) != 1 {
		t.Errorf("param on only one type: %+v %v", issues, err)
	}
	// without _type only the common parameters exist
	q = mustParse(t, "", "_id=1")
	if q.Clauses[0].Param.ResourceType != "Resource" {
		t.Errorf("system _id = %+v", q.Clauses[0].Param)
	}
}

func TestParseEmptyAndEscapes(t *testing.T) {
	q, issues, err := parse(t, "Patient", "name=", false)
	if err != nil || len(q.Clauses) != 0 || len(issues) != 1 {
		t.Errorf("empty value: %+v %+v %v", q.Clauses, issues, err)
	}
	q = mustParse(t, "Patient", `name=a\,b,c`)
	if vs := q.Clauses[0].Values; len(vs) != 2 || vs[0].String != "a,b" || vs[1].String != "c" {
		t.Errorf("escaped comma = %+v", vs)
	}
	q = mustParse(t, "Patient", `identifier=urn:x\|y|123`)
	if tok := q.Clauses[0].Values[0].Token; tok.System != "urn:x|y" || tok.Code != "123" {
		t.Errorf("escaped bar = %+v", tok)
	}
	// '+' in a zone that was not escaped
	q = mustParse(t, "Observation", "date=ge2013-01-14T10:00:00+08:00")
	if q.Clauses[0].Values[0].Date != mustDate(t, "2013-01-14T02:00:00Z", nil) {
		t.Errorf("zone with + = %v", q.Clauses[0].Values[0].Date)
	}
}

func TestParseExplain(t *testing.T) {
	reg := NewRegistry()
	q := url.Values{"_explain": {"true"}, "name": {"chan"}}
	for _, tc := range []struct {
		allow, strict bool
		want          bool // Query.Explain
		issues        int  // warnings
		fails         bool
	}{
		{allow: true, want: true},
		{allow: false, issues: 1},
		{allow: false, strict: true, fails: true},
		{allow: true, strict: true, want: true},
	} {
		got, issues, err := ParseWith("Patient", q, reg, Options{AllowExplain: tc.allow, Strict: tc.strict})
		if tc.fails {
			if err == nil {
				t.Errorf("%+v: _explain accepted, want an error", tc)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if got.Explain != tc.want || len(issues) != tc.issues || len(got.Clauses) != 1 {
			t.Errorf("%+v: Explain %v, issues %v, %d clauses", tc, got.Explain, issues, len(got.Clauses))
		}
	}
	if _, _, err := ParseWith("Patient", url.Values{"_explain": {"maybe"}}, reg, Options{AllowExplain: true}); err == nil {
		t.Error("_explain=maybe accepted")
	}
}
