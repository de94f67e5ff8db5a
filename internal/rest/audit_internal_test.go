package rest

import (
	"slices"
	"testing"

	"github.com/ehealthplus/ehealth/internal/store"
)

// TestPatientsOf: a restricted record is audited against its patient's own
// key, once, and records in no compartment against nobody.
func TestPatientsOf(t *testing.T) {
	vs := []store.Version{{PatientKey: "p1"}, {PatientKey: store.RestrictedKey("p1")}, {PatientKey: store.RestrictedKey("p2")}, {PatientKey: ""}}
	if got := patientsOf(vs); !slices.Equal(got, []string{"p1", "p2"}) {
		t.Errorf("patientsOf = %v, want [p1 p2]", got)
	}
}
