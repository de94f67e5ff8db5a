package resource_test

import (
	"os"
	"testing"

	"github.com/ehealthplus/ehealth/internal/resource"
)

// FuzzParseViews: a role-views file either parses or is refused with an
// error — never a panic — and parsed views answer any role codes.
func FuzzParseViews(f *testing.F) {
	builtin, err := os.ReadFile("views.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(builtin)
	f.Add([]byte(`{"roles":[{"name":"pharmacist","codes":["https://ehealth.hk/fhir/CodeSystem/professional-role|pharmacist"],"types":["MedicationRequest"]}]}`))
	f.Add([]byte(`{"roles":[{"name":"x","codes":["nocolon"],"types":["Observation"]}]}`))
	f.Add([]byte(`{"roles":[{"name":"","codes":[],"types":[]}],"extra":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, err := resource.ParseViews(data)
		if err != nil {
			return
		}
		vs.For([]string{"http://snomed.info/sct|46255001", "https://ehealth.hk/fhir/CodeSystem/professional-role|pharmacist", "", "|"})
	})
}
