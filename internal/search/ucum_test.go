package search

import "testing"

func TestCanonicalUnit(t *testing.T) {
	tests := []struct {
		code, factor, unit string
	}{
		{"g", "1", "g"},
		{"mg", "1/1000", "g"},
		{"ug", "1/1000000", "g"},
		{"kg", "1000", "g"},
		{"[lb_av]", "453.59237", "g"},
		{"L", "1/1000", "m3"},
		{"mL", "1/1000000", "m3"},
		{"dL", "1/10000", "m3"},
		{"cm", "1/100", "m"},
		{"[in_i]", "0.0254", "m"},
		{"m2", "1", "m2"},
		{"cm3", "1/1000000", "m3"},
		{"mg/dL", "10", "g.m-3"},
		{"g/L", "1000", "g.m-3"},
		{"mmol/L", "1", "m-3.mol"},
		{"mm[Hg]", "133322", "g.m-1.s-2"},
		{"kPa", "1000000", "g.m-1.s-2"},
		{"min", "60", "s"},
		{"h", "3600", "s"},
		{"ms", "1/1000", "s"},
		{"/min", "1/60", "s-1"},
		{"{beats}/min", "1/60", "s-1"},
		{"10*9/L", "1000000000000", "m-3"},
		{"10*3/uL", "1000000000000", "m-3"},
		{"%", "1/100", "1"},
		{"1", "1", "1"},
		{"kg/m2", "1000", "g.m-2"},
		{"mg/(kg.d)", "1/86400000000", "s-1"},
		{"[IU]/L", "1000", "[IU].m-3"},
		{"mU/L", "1/60000000", "m-3.mol.s-1"},
		{"kcal", "4184000", "g.m2.s-2"},
		{"mo", "2629800", "s"},
		{"a", "31557600", "s"},
		{"mEq/L", "1", "m-3.mol"},
	}
	for _, tt := range tests {
		f, unit, ok := CanonicalUnit(tt.code)
		if !ok {
			t.Errorf("CanonicalUnit(%q) not ok", tt.code)
			continue
		}
		if f.Cmp(rat(tt.factor)) != 0 || unit != tt.unit {
			t.Errorf("CanonicalUnit(%q) = %s %s, want %s %s", tt.code, f.RatString(), unit, tt.factor, tt.unit)
		}
	}
	for _, bad := range []string{"", "Cel", "[degF]", "furlong", "mg//L", "/", "kg.", "(mg", "xg", "10*", "10*99"} {
		if f, u, ok := CanonicalUnit(bad); ok {
			t.Errorf("CanonicalUnit(%q) = %v %s, want not ok", bad, f, u)
		}
	}
}
