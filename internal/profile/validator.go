package profile

import (
	"context"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// BaseValidator is the validation a profile check follows: internal/validate's
// Validator (structure, bindings and invariants of base R4).
type BaseValidator interface {
	Validate(res map[string]any) error
	Check(res map[string]any) []outcome.Issue
}

// Validator validates writes: base R4 for every resource, then the
// guide's profile a resource declares in meta.profile, if any. It is what
// the platform gives the resource service; enforcing the profiles on
// provider deposits is the deposit's (Check).
type Validator struct {
	base BaseValidator
	set  *Set
}

// Validator returns the write validator of base followed by the declared
// profiles.
func (s *Set) Validator(base BaseValidator) *Validator { return &Validator{base: base, set: s} }

// Validate is base validation, then the declared profile's: a profile
// error makes the write unprocessable (422) with every issue of both.
func (v *Validator) Validate(res map[string]any) error {
	if err := v.base.Validate(res); err != nil {
		return err
	}
	url := v.set.Declared(res)
	if url == "" {
		return nil
	}
	rep, err := v.set.CheckAgainst(context.Background(), res, url)
	if err != nil {
		return err
	}
	if rep.Valid() {
		return nil
	}
	return rep.Err(v.base.Check(res)...)
}

// Check lists every issue of base validation and of the declared profile,
// for $validate.
func (v *Validator) Check(res map[string]any) []outcome.Issue {
	issues := v.base.Check(res)
	if url := v.set.Declared(res); url != "" {
		if rep, err := v.set.CheckAgainst(context.Background(), res, url); err == nil {
			issues = append(issues, rep.Issues...)
		}
	}
	return issues
}

// CheckProfile is $validate?profile=url: the issues of the profile at url
// (outcome.NotFound when the guide has none), beyond those Check reports
// for a profile the resource declares.
func (v *Validator) CheckProfile(ctx context.Context, res map[string]any, url string) ([]outcome.Issue, error) {
	if canonical(url) == v.set.Declared(res) {
		return nil, nil
	}
	rep, err := v.set.CheckAgainst(ctx, res, url)
	return rep.Issues, err
}
