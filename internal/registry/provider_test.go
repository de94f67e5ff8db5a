package registry_test

import (
	"testing"

	"github.com/ehealthplus/ehealth/internal/resource"
)

// TestActive: a provider is active until suspended, and again once
// reinstated; an unknown one is not.
func TestActive(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx, op := t.Context(), resource.Caller{Writer: "test"}
		id, err := e.reg.AddProvider(ctx, op, "Kowloon Clinic", "clinic")
		if err != nil {
			t.Fatal(err)
		}
		org := "Organization/" + id
		for _, step := range []struct {
			set    *bool
			org    string
			active bool
		}{
			{nil, org, true},
			{ptr(false), org, false},
			{ptr(true), org, true},
			{nil, "Organization/ghost", false},
			{nil, "Practitioner/" + id, false},
		} {
			if step.set != nil {
				if err := e.reg.SetActive(ctx, op, step.org, *step.set); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := e.reg.Active(ctx, step.org); got != step.active || err != nil {
				t.Errorf("Active(%s) = %v %v, want %v", step.org, got, err, step.active)
			}
		}
		if _, err := e.reg.AddProvider(ctx, op, "Spa", "spa"); err == nil {
			t.Error("a provider of an unknown kind")
		}
	})
}

func ptr[T any](v T) *T { return &v }
