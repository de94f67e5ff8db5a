package main

import (
	"slices"
	"testing"
)

func TestReducePaths(t *testing.T) {
	tests := []struct {
		typ, expr string
		want      []string
		ok        bool
	}{
		{"Observation", "Observation.subject", []string{"subject"}, true},
		{"Observation", "AllergyIntolerance.patient | Observation.subject.where(resolve() is Patient) | Procedure.subject", []string{"subject"}, true},
		{"Claim", "Claim.payee.party", []string{"payee.party"}, true},
		{"AuditEvent", "AuditEvent.agent.who.where(resolve() is Patient) | AuditEvent.entity.what.where(resolve() is Patient)", []string{"agent.who", "entity.what"}, true},
		{"Observation", "(Observation.value as Quantity)", nil, false},
		{"Observation", "Observation.subject.where(resolve() is Group)", nil, false},
		{"Observation", "", nil, false},
	}
	for _, tt := range tests {
		got, ok := reducePaths(tt.typ, tt.expr)
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("reducePaths(%s, %q) = %v, %v; want %v, %v", tt.typ, tt.expr, got, ok, tt.want, tt.ok)
		}
	}
}
