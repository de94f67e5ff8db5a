package search

import (
	"slices"
	"sync"
	"testing"
)

func TestSplitExpression(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{"Patient.name", []string{"Patient.name"}},
		{"A.x | B.y", []string{"A.x", "B.y"}},
		{"(A.value as Quantity) | (A.value as SampledData)", []string{"(A.value as Quantity)", "(A.value as SampledData)"}},
		{"A.x.where(a | b) | B.y", []string{"A.x.where(a | b)", "B.y"}},
		{"A.x.where(system='a|b') | B.y", []string{"A.x.where(system='a|b')", "B.y"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := SplitExpression(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("SplitExpression(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestExpressionFor(t *testing.T) {
	tests := []struct{ expr, typ, want string }{
		{"AllergyIntolerance.code | Condition.code | Observation.code", "Condition", "Condition.code"},
		{"AllergyIntolerance.code | AllergyIntolerance.reaction.substance | Condition.code", "AllergyIntolerance", "AllergyIntolerance.code | AllergyIntolerance.reaction.substance"},
		{"(DeviceRequest.code as CodeableConcept) | DiagnosticReport.code", "DeviceRequest", "(DeviceRequest.code as CodeableConcept)"},
		{"Resource.id", "Resource", "Resource.id"},
		{"Resource.id", "Patient", "Resource.id"}, // not split by type: kept whole
		{"CarePlan.subject.where(resolve() is Patient) | Consent.patient", "CarePlan", "CarePlan.subject.where(resolve() is Patient)"},
		// a type whose name prefixes another's must not take its alternatives
		{"Medication.code | MedicationRequest.medication", "Medication", "Medication.code"},
	}
	for _, tt := range tests {
		if got := ExpressionFor(tt.expr, tt.typ); got != tt.want {
			t.Errorf("ExpressionFor(%q, %s) = %q, want %q", tt.expr, tt.typ, got, tt.want)
		}
	}
}

func TestRegistryLookup(t *testing.T) {
	reg := NewRegistry()
	tests := []struct {
		typ, code string
		ptype     ParamType
		expr      string
	}{
		{"Observation", "code", Token, "Observation.code"},
		{"Condition", "code", Token, "Condition.code"},
		{"Observation", "patient", Reference, "Observation.subject.where(resolve() is Patient)"},
		{"Patient", "name", String, "Patient.name"},
		{"Observation", "value-quantity", Quantity, "(Observation.value as Quantity) | (Observation.value as SampledData)"},
		{"Patient", "_id", Token, "Resource.id"},
		{"Patient", "_lastUpdated", Date, "Resource.meta.lastUpdated"},
		{"Observation", "_tag", Token, "Resource.meta.tag"},
		{"Observation", "_profile", URI, "Resource.meta.profile"},
		{"Observation", "_security", Token, "Resource.meta.security"},
		{"Observation", "_source", URI, "Resource.meta.source"},
		{"Observation", "_text", String, ""},
		{"Observation", "_content", String, ""},
		{"Observation", "_list", Special, ""},
		{"Observation", "_has", Special, ""},
		{"Observation", "_type", Token, ""},
		{"Bundle", "_id", Token, "Resource.id"},
		{"Location", "near", Special, "Location.position"},
	}
	for _, tt := range tests {
		p, ok := reg.Lookup(tt.typ, tt.code)
		if !ok {
			t.Errorf("Lookup(%s, %s) not found", tt.typ, tt.code)
			continue
		}
		if p.Type != tt.ptype || p.Expression != tt.expr || p.Code != tt.code {
			t.Errorf("Lookup(%s, %s) = %s %q, want %s %q", tt.typ, tt.code, p.Type, p.Expression, tt.ptype, tt.expr)
		}
	}
	if _, ok := reg.Lookup("Bundle", "_text"); ok {
		t.Error("Bundle is not a DomainResource and has no _text")
	}
	if _, ok := reg.Lookup("Patient", "nonsense"); ok {
		t.Error("found a parameter that does not exist")
	}
	p, _ := reg.Lookup("Observation", "subject")
	if !p.AllowsTarget("Patient") || !p.AllowsTarget("Group") || p.AllowsTarget("Medication") {
		t.Errorf("Observation.subject targets = %v", p.Target)
	}
	if p, _ := reg.Lookup("Observation", "code"); !p.AllowsModifier(ModText) || p.AllowsModifier(ModExact) {
		t.Errorf("token modifiers = %v", p.Modifiers)
	}
}

func TestRegistryComposites(t *testing.T) {
	reg := NewRegistry()
	p, ok := reg.Lookup("Observation", "code-value-quantity")
	if !ok {
		t.Fatal("no code-value-quantity")
	}
	want := []Component{
		{Definition: "http://hl7.org/fhir/SearchParameter/clinical-code", Code: "code", Type: Token, Expression: "code"},
		{Definition: "http://hl7.org/fhir/SearchParameter/Observation-value-quantity", Code: "value-quantity", Type: Quantity, Expression: "value.as(Quantity)"},
	}
	if !slices.Equal(p.Components, want) {
		t.Errorf("components = %+v", p.Components)
	}
	// every composite of R4 resolves its components
	for _, d := range definitions {
		for _, base := range d.Base {
			p, ok := reg.Lookup(base, d.Code)
			if !ok {
				t.Fatalf("%s on %s missing", d.Code, base)
			}
			for _, c := range p.Components {
				if c.Code == "" || !c.Type.valid() {
					t.Errorf("%s: component %s unresolved", p, c.Definition)
				}
			}
		}
	}
}

func TestRegistryForType(t *testing.T) {
	reg := NewRegistry()
	ps := reg.ForType("Patient")
	codes := map[string]bool{}
	for _, p := range ps {
		codes[p.Code] = true
	}
	for _, c := range []string{"_id", "_lastUpdated", "_text", "name", "birthdate", "identifier", "general-practitioner"} {
		if !codes[c] {
			t.Errorf("ForType(Patient) lacks %s", c)
		}
	}
	if !slices.IsSortedFunc(ps, func(a, b *Param) int { return cmpString(a.Code, b.Code) }) {
		t.Error("ForType not sorted")
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func customParam(url, code string, base ...string) map[string]any {
	bases := make([]any, len(base))
	for i, b := range base {
		bases[i] = b
	}
	return map[string]any{
		"resourceType": "SearchParameter", "url": url, "code": code, "base": bases,
		"type": "token", "expression": base[0] + ".extension('http://x/ethnicity').value",
	}
}

func TestRegistryAddRemove(t *testing.T) {
	reg := NewRegistry()
	if err := reg.Add(customParam("http://x/sp/ethnicity", "ethnicity", "Patient")); err != nil {
		t.Fatal(err)
	}
	// Pending until reindexed: writes index it, searches do not see it yet.
	if _, ok := reg.Lookup("Patient", "ethnicity"); ok || !reg.Pending("http://x/sp/ethnicity") {
		t.Fatal("a pending parameter is searchable before its reindex")
	}
	if !slices.ContainsFunc(reg.ForType("Patient"), func(p *Param) bool { return p.Code == "ethnicity" }) {
		t.Fatal("a pending parameter is not indexed by writes")
	}
	reg.Ready("http://x/sp/ethnicity")
	p, ok := reg.Lookup("Patient", "ethnicity")
	if !ok || !p.Custom || p.Type != Token {
		t.Fatalf("custom lookup = %+v, %v", p, ok)
	}
	// a second custom with the same code and base clashes
	if err := reg.Add(customParam("http://y/sp/ethnicity", "ethnicity", "Patient")); err == nil {
		t.Error("clash accepted")
	}
	// overriding a built-in and getting it back on Remove
	if err := reg.Add(customParam("http://x/sp/gender", "gender", "Patient")); err != nil {
		t.Fatal(err)
	}
	if p, _ := reg.Lookup("Patient", "gender"); p.URL != "http://hl7.org/fhir/SearchParameter/individual-gender" {
		t.Errorf("a pending override is in effect: %s", p.URL)
	}
	reg.Ready("http://x/sp/gender")
	if p, _ := reg.Lookup("Patient", "gender"); p.URL != "http://x/sp/gender" {
		t.Errorf("override not in effect: %s", p.URL)
	}
	if !reg.Remove("http://x/sp/gender") {
		t.Error("Remove reported nothing removed")
	}
	if p, _ := reg.Lookup("Patient", "gender"); p.URL != "http://hl7.org/fhir/SearchParameter/individual-gender" {
		t.Errorf("built-in not restored: %s", p.URL)
	}
	if reg.Remove("http://hl7.org/fhir/SearchParameter/individual-gender") {
		t.Error("removed a built-in parameter")
	}
	if _, ok := reg.Lookup("Patient", "ethnicity"); !ok {
		t.Error("unrelated custom parameter lost")
	}
}

func TestRegistryAddInvalid(t *testing.T) {
	reg := NewRegistry()
	mutate := func(f func(m map[string]any)) map[string]any {
		m := customParam("http://x/sp/a", "a", "Patient")
		f(m)
		return m
	}
	tests := map[string]map[string]any{
		"no code":         mutate(func(m map[string]any) { delete(m, "code") }),
		"bad code":        mutate(func(m map[string]any) { m["code"] = "a.b" }),
		"no base":         mutate(func(m map[string]any) { delete(m, "base") }),
		"bad base":        mutate(func(m map[string]any) { m["base"] = []any{"patient"} }),
		"bad type":        mutate(func(m map[string]any) { m["type"] = "text" }),
		"no expression":   mutate(func(m map[string]any) { delete(m, "expression") }),
		"no url":          mutate(func(m map[string]any) { delete(m, "url") }),
		"not a SP":        mutate(func(m map[string]any) { m["resourceType"] = "Patient" }),
		"composite alone": mutate(func(m map[string]any) { m["type"] = "composite" }),
		"unknown component": mutate(func(m map[string]any) {
			m["type"] = "composite"
			m["component"] = []any{
				map[string]any{"definition": "http://nowhere/a", "expression": "a"},
				map[string]any{"definition": "http://nowhere/b", "expression": "b"},
			}
		}),
	}
	for name, sp := range tests {
		if err := reg.Add(sp); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, ok := reg.Lookup("Patient", "a"); ok {
		t.Error("a rejected parameter is registered")
	}
}

func TestRegistryConcurrent(t *testing.T) {
	reg := NewRegistry()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 50 {
				_ = reg.Add(customParam("http://x/sp/c", "c", "Patient"))
				reg.Remove("http://x/sp/c")
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				if _, ok := reg.Lookup("Patient", "name"); !ok {
					t.Errorf("reader %d lost Patient.name", i)
					return
				}
				_ = reg.ForType("Observation")
			}
		}()
	}
	wg.Wait()
}
