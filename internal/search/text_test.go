package search

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Zoë", "zoe"},
		{"ZOË", "zoe"},
		{"Ménard", "menard"},
		{"  Chan   Tai  Man ", "chan tai man"},
		{"Łukasz Øberg", "lukasz oberg"},
		{"Straße", "strasse"},
		{"陳大文", "陳大文"},                       // Chinese unchanged
		{"김민준", "김민준"},                       // Hangul syllables stay whole (recomposed)
		{"ガラス", "ガラス"},                       // kana voicing marks kept
		{"Ｌｅｅ", "lee"},                       // full-width folded
		{"e\u0301", "e"},                     // combining acute dropped
		{"Nguyễn Văn Ánh", "nguyen van anh"}, // stacked diacritics
		{"", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStringMatch(t *testing.T) {
	row := func(s string) StringRow { return StringRow{Norm: Normalize(s), Exact: s} }
	tests := []struct {
		mod    Modifier
		value  string
		target string
		want   bool
	}{
		{ModNone, "zoe", "Zoë", true},
		{ModNone, "ZO", "Zoë", true},
		{ModNone, "oë", "Zoë", false}, // default is starts-with
		{ModNone, "Zoë", "Zoe", true}, // accent-insensitive both ways
		{ModNone, "陳", "陳大文", true},
		{ModNone, "大文", "陳大文", false},
		{ModNone, "기", "김민준", false}, // no match inside a Hangul syllable
		{ModNone, "김", "김민준", true},
		{ModExact, "Zoë", "Zoë", true},
		{ModExact, "zoë", "Zoë", false},
		{ModExact, "Zoe", "Zoë", false},
		{ModExact, "Zo", "Zoë", false},
		{ModContains, "OË", "Zoë", true},
		{ModContains, "大文", "陳大文", true},
		{ModContains, "xyz", "Zoë", false},
	}
	for _, tt := range tests {
		if got := StringMatch(tt.mod, tt.value, row(tt.target)); got != tt.want {
			t.Errorf("%q:%s vs %q = %v, want %v", tt.value, tt.mod, tt.target, got, tt.want)
		}
	}
}
