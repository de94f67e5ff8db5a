package scope

import (
	"slices"
	"testing"
)

func TestPerms(t *testing.T) {
	if got := AllPerms.String(); got != "cruds" {
		t.Errorf("AllPerms = %q", got)
	}
	ps := Perms(Create | Search)
	if !ps.Has(Create) || !ps.Has(Search) || ps.Has(Read) || ps.Has(Create|Read) || ps.Has(0) {
		t.Errorf("Has is wrong for %s", ps)
	}
	if got := slices.Collect(AllPerms.All()); !slices.Equal(got, []Perm{Create, Read, Update, Delete, Search}) {
		t.Errorf("All() = %v", got)
	}
	if got := Update.String(); got != "u" {
		t.Errorf("Update.String() = %q", got)
	}
}

func TestNeeds(t *testing.T) {
	tests := []struct {
		i    Interaction
		want string
	}{
		{InteractionRead, "r"},
		{InteractionVRead, "r"},
		{InteractionHistoryInstance, "r"},
		{InteractionHistoryType, "s"},
		{InteractionHistorySystem, "s"},
		{InteractionSearchType, "s"},
		{InteractionSearchSystem, "s"},
		{InteractionCreate, "c"},
		{InteractionUpdate, "u"},
		{InteractionPatch, "u"},
		{InteractionDelete, "d"},
		{InteractionConditionalCreate, "cs"},
		{InteractionConditionalUpdate, "us"},
		{InteractionConditionalPatch, "us"},
		{InteractionConditionalDelete, "ds"},
	}
	for _, tt := range tests {
		ps, ok := Needs(tt.i)
		if !ok || ps.String() != tt.want {
			t.Errorf("Needs(%s) = %s, %v; want %s", tt.i, ps, ok, tt.want)
		}
	}
	for _, i := range []Interaction{"transaction", "batch", "operation", ""} {
		if _, ok := Needs(i); ok {
			t.Errorf("Needs(%q) is known", i)
		}
	}
}

// TestConditionalCreate shows the intended use of Needs with Allows: every
// permission an interaction needs must be allowed.
func TestConditionalCreate(t *testing.T) {
	allowedAll := func(set Set, i Interaction, typ string) bool {
		ps, ok := Needs(i)
		if !ok {
			return false
		}
		for p := range ps.All() {
			if ok, _ := set.Allows(Patient, p, typ); !ok {
				return false
			}
		}
		return true
	}
	if allowedAll(MustParse("patient/Observation.c"), InteractionConditionalCreate, "Observation") {
		t.Error("conditional create allowed without search")
	}
	if !allowedAll(MustParse("patient/Observation.c patient/*.s"), InteractionConditionalCreate, "Observation") {
		t.Error("conditional create refused with c and s")
	}
}
