package search

import (
	"net/url"
	"testing"
)

// FuzzParse feeds arbitrary query strings to the parser: it must not
// panic, and what it accepts must be a well-formed plan.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"code=http://loinc.org|8480-6&date=ge2013-01-14T10:00:00+08:00&_count=10",
		"subject:Patient.name=chan&patient.organization.name=x&_sort=-date,status",
		"_has:Observation:patient:_has:Provenance:target:agent=Practitioner/1",
		"code-value-quantity=http://loinc.org|8480-6$lt60||mm[Hg]",
		"_include:iterate=*&_revinclude=Provenance:target&_summary=count&_total=accurate",
		"value-quantity=ap5.4e-1||mg&name:contains=Zo\u00eb&identifier:of-type=s|MR|1",
		`name=a\,b\$c\|d&_elements=id,code&_contained=both`,
	} {
		f.Add("Observation", s)
	}
	f.Add("", "_type=Patient,Practitioner&name=wong")
	f.Add("Patient", "_has:Observation:subject:performer:Practitioner.name=wong")
	f.Add("Location", "near=22.28|114.17|5|[mi_i]&near:missing=false")
	reg := NewRegistry()
	f.Fuzz(func(t *testing.T, typ, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, strict := range []bool{false, true} {
			plan, _, err := Parse(typ, q, reg, strict)
			if err != nil {
				continue
			}
			if plan.Count < 0 || plan.Count > DefaultMaxCount {
				t.Fatalf("count %d out of bounds", plan.Count)
			}
			for _, c := range plan.Clauses {
				checkClause(t, c)
			}
		}
	})
}

func checkClause(t *testing.T, c Clause) {
	t.Helper()
	if c.Param == nil {
		t.Fatalf("clause without a parameter: %+v", c)
	}
	switch {
	case c.Chain != nil:
		if len(c.Chain.Types) == 0 {
			t.Fatalf("chain without types: %+v", c)
		}
		checkClause(t, c.Chain.Clause)
	case c.Has != nil:
		if c.Has.Ref == nil {
			t.Fatalf("_has without reference: %+v", c)
		}
		checkClause(t, c.Has.Clause)
	case len(c.Values) == 0:
		t.Fatalf("clause without values: %+v", c)
	}
	_ = Match(c, nil) // must not panic either
}
