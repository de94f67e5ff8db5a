package search

import (
	"math/big"
	"testing"
)

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func TestParseNumber(t *testing.T) {
	tests := []struct{ in, value, lo, hi string }{
		{"100", "100", "99.5", "100.5"},
		{"100.00", "100", "99.995", "100.005"},
		{"1e2", "100", "50", "150"},
		{"1.0e2", "100", "95", "105"},
		{"1E2", "100", "50", "150"},
		{"0.1", "0.1", "0.05", "0.15"},
		{"-5.5", "-5.5", "-5.55", "-5.45"},
		{"3.2e-4", "0.00032", "0.000315", "0.000325"},
		{"+7", "7", "6.5", "7.5"},
		{".5", "0.5", "0.45", "0.55"},
	}
	for _, tt := range tests {
		n, err := ParseNumber(tt.in)
		if err != nil {
			t.Errorf("ParseNumber(%q): %v", tt.in, err)
			continue
		}
		if n.Value.Cmp(rat(tt.value)) != 0 || n.Lo.Cmp(rat(tt.lo)) != 0 || n.Hi.Cmp(rat(tt.hi)) != 0 {
			t.Errorf("ParseNumber(%q) = %s [%s, %s), want %s [%s, %s)", tt.in,
				DecimalString(n.Value), DecimalString(n.Lo), DecimalString(n.Hi), tt.value, tt.lo, tt.hi)
		}
	}
	for _, bad := range []string{"", "abc", "1.2.3", "--1", "1e", "0x10", "1e99999", "1,5", "Inf", "NaN", "."} {
		if _, err := ParseNumber(bad); err == nil {
			t.Errorf("ParseNumber(%q) accepted", bad)
		}
	}
}

func TestMatchNumber(t *testing.T) {
	tests := []struct {
		prefix Prefix
		search string
		target string
		want   bool
	}{
		{Eq, "100", "100", true},
		{Eq, "100", "99.5", true}, // the lower end is in
		{Eq, "100", "100.5", false},
		{Eq, "100", "100.4999", true},
		{Eq, "100.00", "100.004", true},
		{Eq, "100.00", "100.005", false},
		{Eq, "1e2", "140", true},
		{Eq, "0.1", "0.1000000000000000055511151231257827", true}, // exact decimal, no float error
		{Ne, "100", "101", true},
		{Ne, "100", "100.2", false},
		{Gt, "100", "100.2", true}, // gt compares with the value itself
		{Gt, "100", "100", false},
		{Ge, "100", "100", true},
		{Lt, "100", "99.9", true},
		{Le, "100", "100", true},
		{Le, "100", "100.01", false},
		{Sa, "100", "100.5", true},
		{Sa, "100", "100.4", false},
		{Eb, "100", "99.4", true},
		{Eb, "100", "99.5", false},
		{Ap, "100", "109", true},
		{Ap, "100", "111", false},
		{Ap, "100", "91", true},
		{Ap, "0", "0.4", true}, // precision range when 10% of 0 is nothing
	}
	for _, tt := range tests {
		s, _ := ParseNumber(tt.search)
		v := rat(tt.target)
		if got := MatchNumber(tt.prefix, s, v, v); got != tt.want {
			t.Errorf("%s%s vs %s = %v, want %v", tt.prefix, tt.search, tt.target, got, tt.want)
		}
	}
}

func TestMatchOpenRange(t *testing.T) {
	s, _ := ParseNumber("10")
	tests := []struct {
		p      Prefix
		lo, hi *big.Rat
		want   bool
	}{
		{Gt, rat("5"), nil, true},
		{Lt, rat("5"), nil, true},
		{Lt, rat("20"), nil, false},
		{Eq, rat("5"), nil, false},
		{Sa, rat("11"), nil, true},
		{Gt, nil, rat("20"), true},
		{Gt, nil, rat("5"), false},
		{Lt, nil, rat("20"), true},
		{Eb, nil, rat("5"), true},
		{Eq, rat("9.6"), rat("10.4"), true},
		{Eq, rat("9"), rat("10.4"), false},
		{Ap, nil, nil, false},
	}
	for _, tt := range tests {
		if got := matchOpen(tt.p, s, tt.lo, tt.hi); got != tt.want {
			t.Errorf("%s10 vs [%v, %v] = %v, want %v", tt.p, tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestDecimalString(t *testing.T) {
	for in, want := range map[string]string{"1/2": "0.5", "100": "100", "1/3": "0.333333333333333333", "-27/10": "-2.7"} {
		if got := DecimalString(rat(in)); got != want {
			t.Errorf("DecimalString(%s) = %s, want %s", in, got, want)
		}
	}
}
