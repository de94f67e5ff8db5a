package correction

import (
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// FuzzParams: whatever Parameters body $request-correction or
// $resolve-correction receives is read or refused as the client's mistake
// (400), never an internal error or a panic; a resolution read has a
// known outcome with what that outcome needs. Seeds:
// testdata/fuzz/FuzzParams.
func FuzzParams(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"comment","valueString":"not mine"}]}`))
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"outcome","valueCode":"amended"},{"name":"amended","valueReference":{"reference":"Observation/o1/_history/2"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := fhir.Parse(data)
		if err != nil {
			return
		}
		if _, err := parseRequest(body); err != nil && outcome.KindOf(err) != outcome.Invalid {
			t.Fatalf("%s: request: %v is not the client's mistake", data, err)
		}
		r, err := parseResolution(body)
		if err != nil {
			if outcome.KindOf(err) != outcome.Invalid {
				t.Fatalf("%s: resolution: %v is not the client's mistake", data, err)
			}
			return
		}
		switch {
		case r.Outcome == OutcomeAmended && r.Amended != "":
		case (r.Outcome == OutcomeAnswered || r.Outcome == OutcomeRejected) && r.Text != "" && r.Amended == "":
		default:
			t.Fatalf("%s: resolution %+v", data, r)
		}
		if typ, id, n, ok := versioned(r.Amended); ok && (typ == "" || id == "" || n < 1) {
			t.Fatalf("%s: version %q read as %s/%s/%d", data, r.Amended, typ, id, n)
		}
		if len(r.Text) > maxText {
			t.Fatalf("%s: text of %d bytes", data, len(r.Text))
		}
	})
}
