package profile

import (
	"bytes"
	"testing"
)

// FuzzLoadExpectedSystems feeds the expected-systems loader arbitrary
// input: it returns a configuration or an error, never panics, and what it
// accepts the guide either binds to its profiles or refuses with an error.
func FuzzLoadExpectedSystems(f *testing.F) {
	f.Add(defaultExpected)
	f.Add([]byte(`{"condition":{"Condition.code":["http://snomed.info/sct"]}}`))
	set := testSet(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := LoadExpectedSystems(bytes.NewReader(data))
		if err != nil {
			return
		}
		bound, err := set.bindExpected(es)
		if err == nil && len(bound) > len(es.rules) {
			t.Fatalf("%d profiles bound for %d entries", len(bound), len(es.rules))
		}
	})
}
