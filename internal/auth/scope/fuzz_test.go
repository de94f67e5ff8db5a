package scope

import (
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, that the canonical form parses
// back to the same Set, and that a Set covers itself and narrows to itself.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"openid fhirUser launch/patient offline_access",
		"patient/Observation.rs user/*.cruds system/Patient.read",
		"patient/*.* patient/Condition.write",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
		"patient/Observation.rs?a=b&c=d%20e&a=a",
		"patient/Observation.rsc",
		"patient/Observation.rs?",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := Parse(s)
		if err != nil {
			return
		}
		canon := set.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) of canonical form of %q: %v", canon, s, err)
		}
		if !reflect.DeepEqual(again, set) || again.String() != canon {
			t.Fatalf("round trip of %q: %q, want %q", s, again, canon)
		}
		if !set.Covers(set) {
			t.Fatalf("%q does not cover itself", canon)
		}
		if n := Narrow(set, set).String(); n != canon {
			t.Fatalf("Narrow(%q, itself) = %q", canon, n)
		}
	})
}
