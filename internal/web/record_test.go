package web

import "testing"

// TestRecordKinds: each record lands in the kinds the apps list it under.
func TestRecordKinds(t *testing.T) {
	cat := func(code string) []any {
		return []any{map[string]any{"coding": []any{map[string]any{"code": code}}}}
	}
	cases := []struct {
		name string
		r    Resource
		want []string
	}{
		{"vital sign", Resource{"resourceType": "Observation", "category": cat("vital-signs")}, []string{"observations"}},
		{"lab result", Resource{"resourceType": "Observation", "category": cat("laboratory")}, []string{"lab"}},
		{"HL7 v2 lab result", Resource{"resourceType": "Observation", "category": cat("LAB")}, []string{"lab"}},
		{"lab report", Resource{"resourceType": "DiagnosticReport", "category": cat("LAB")}, []string{"lab"}},
		{"radiology report", Resource{"resourceType": "DiagnosticReport", "category": cat("RAD")}, []string{"radiology"}},
		{"herbal prescription", Resource{"resourceType": "MedicationRequest", "category": cat("tcm")}, []string{"chinese-medicine"}},
		{"prescription", Resource{"resourceType": "MedicationRequest"}, []string{"medications"}},
	}
	for _, c := range cases {
		var got []string
		for _, k := range RecordKinds {
			for _, typ := range k.Types {
				if typ == c.r["resourceType"] && (k.Keep == nil || k.Keep(c.r)) {
					got = append(got, k.Key)
				}
			}
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%s: kinds %v, want %v", c.name, got, c.want)
		}
	}
}

// TestRecordItemAndFacts: a record's list line and detail lines.
func TestRecordItemAndFacts(t *testing.T) {
	r := Resource{"resourceType": "Observation", "id": "o1", "status": "final",
		"meta":              map[string]any{"lastUpdated": "2026-01-02T03:04:05Z", "tag": []any{map[string]any{"system": OriginSystem, "code": OriginCitizen}}},
		"code":              map[string]any{"text": "Body weight"},
		"effectiveDateTime": "2026-01-01",
		"valueQuantity":     map[string]any{"value": 70.5, "unit": "kg"},
		"note":              []any{map[string]any{"text": "after breakfast"}},
	}
	it := RecordItemOf(r)
	want := RecordItem{Type: "Observation", ID: "o1", Title: "Body weight", Date: "2026-01-01", Status: "final",
		Value: ValueText(r), Updated: "2026-01-02T03:04:05Z", Citizen: true}
	if it != want {
		t.Errorf("item = %+v, want %+v", it, want)
	}
	facts := Facts(r)
	if len(facts) != 2 || facts[0] != (Fact{"fact.status", "final"}) || facts[1] != (Fact{"fact.note", "after breakfast"}) {
		t.Errorf("facts = %+v", facts)
	}
}
