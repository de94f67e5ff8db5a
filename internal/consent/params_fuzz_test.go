package consent

import (
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// FuzzParams: any Parameters body an operation receives is read or
// refused as the client's mistake (never an internal error, never a
// panic), whatever its parameters hold.
func FuzzParams(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Parameters","parameter":[{"name":"organization","valueReference":{"reference":"Organization/clinic"}},{"name":"until","valueDate":"2027-01-01"}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"unconscious"},{"name":"code","valueString":"123456"}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"type","valueCode":"Observation"},{"name":"type","valueCode":"Condition"},{"name":"category","valueCoding":{"system":"s","code":"c"}}]}`,
		`{"resourceType":"Parameters","parameter":{"name":"x"}}`,
		`{"resourceType":"Parameters","parameter":[{"name":"organization","valueString":"Organization/clinic"},{"nope":1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := fhir.Parse(data)
		if err != nil {
			return
		}
		ps, err := parseParams(body)
		if err != nil {
			if outcome.KindOf(err) == outcome.Internal {
				t.Fatalf("internal error for client input: %v", err)
			}
			return
		}
		for _, name := range []string{"organization", "until", "reason", "code", "accessKey", "type", "category", "outcome", "status"} {
			for _, e := range []error{func() error { _, err := ps.str(name); return err }(),
				func() error { _, err := ps.reference(name); return err }(),
				func() error { _, err := ps.all(name); return err }(),
				func() error { _, err := ps.required(name, "it"); return err }()} {
				if e != nil && outcome.KindOf(e) == outcome.Internal {
					t.Fatalf("internal error for parameter %s: %v", name, e)
				}
			}
		}
	})
}
