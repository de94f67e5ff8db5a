package deposit_test

import (
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/synthea"
)

// FuzzDeposit feeds arbitrary JSON to the deposit as a provider's system
// client, with a registered citizen it may name: it must answer with a
// response Bundle or an *outcome.Error, never panic, and never report an
// internal error for bad input. The seeds (testdata/fuzz/FuzzDeposit)
// are a citizen's deposit, a batch, an amendment with its reason, a
// withdrawal without one, a document and malformed entries.
func FuzzDeposit(f *testing.F) {
	p, dep := newDeposit(f, backends[0].Open(f))
	reg := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{map[string]any{
		"resource": map[string]any{"resourceType": "Patient", "id": "fuzz-citizen", "name": []any{map[string]any{"family": "Chan", "given": []any{"Tai Man"}}},
			"birthDate": "1970-01-01", "gender": "male"},
		"request": map[string]any{"method": "POST", "url": "Patient"}}}}
	c, err := synthea.Convert(reg, synthea.Options{Organization: "clinic"})
	if err != nil {
		f.Fatal(err)
	}
	register(f, p, c)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := fhir.Parse(data)
		if err != nil {
			return
		}
		resp, err := dep.Deposit(t.Context(), clinic(), b)
		if err != nil {
			if outcome.KindOf(err) == outcome.Internal {
				t.Fatalf("internal error for client input: %v", err)
			}
			return
		}
		in, _ := b["entry"].([]any)
		if out, _ := resp["entry"].([]any); resp["resourceType"] != "Bundle" || len(out) != len(in) {
			t.Fatalf("the response is not a Bundle of one entry per entry: %v", resp)
		}
	})
}
