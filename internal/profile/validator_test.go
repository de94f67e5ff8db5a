package profile

import (
	"errors"
	"testing"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/validate"
)

// TestValidator checks the write validator: base R4 first (400 for a
// malformed resource), then the declared profile (422 naming the element),
// nothing more for a resource that declares none.
func TestValidator(t *testing.T) {
	s := testSet(t)
	v := s.Validator(validate.New(nil))
	declared := edit(t, labObs, "subject=", `meta={"profile":["`+Base+`lab-observation"]}`)
	for _, c := range []struct {
		name, res string
		kind      outcome.Kind
		path      string
	}{
		{"conforms", edit(t, labObs, `meta={"profile":["`+Base+`lab-observation"]}`), 0, ""},
		{"no profile declared", edit(t, labObs, "subject="), 0, ""},
		{"declared profile broken", declared, outcome.Unprocessable, "Observation.subject"},
		{"malformed", edit(t, declared, `status=7`), outcome.Invalid, "Observation.status"},
	} {
		err := v.Validate(parse(t, c.res))
		var oe *outcome.Error
		switch {
		case c.kind == 0 && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.kind != 0 && (!errors.As(err, &oe) || oe.Kind != c.kind || !has(oe.Issues, want{"error", c.path, ""})):
			t.Errorf("%s: %v, want kind %v at %s", c.name, err, c.kind, c.path)
		}
	}
	if !has(v.Check(parse(t, declared)), want{"error", "Observation.subject", "at least 1"}) {
		t.Error("Check does not list the declared profile's issues")
	}
	if is, err := v.CheckProfile(t.Context(), parse(t, edit(t, labObs, "subject=")), Base+"lab-observation"); err != nil || !has(is, want{"error", "Observation.subject", ""}) {
		t.Errorf("CheckProfile: %v %v", is, err)
	}
}
