package identity

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that a parsed document parses to
// itself (normalisation is idempotent), survives the FHIR Identifier round
// trip, and that its redacted form never contains the full number.
func FuzzParse(f *testing.F) {
	for _, seed := range []struct{ kind, raw, country string }{
		{"hkid", "A123456(3)", ""},
		{"hkid", "ab987654 ( 3 )", "hkg"},
		{"hkid", "G1234 56A", ""},
		{"birth-certificate", "R345678(0)", ""},
		{"exemption-certificate", "c123456", ""},
		{"passport", "GB1234567", "GBR"},
	} {
		f.Add(seed.kind, seed.raw, seed.country)
	}
	f.Fuzz(func(t *testing.T, kind, raw, country string) {
		d, err := Parse(Kind(kind), raw, country)
		if err != nil {
			return
		}
		again, err := Parse(d.Kind, d.Number, d.Country)
		if err != nil || again != d {
			t.Fatalf("Parse(%q, %q, %q) = %#v, %v; want %#v", d.Kind, d.Number, d.Country, again, err, d)
		}
		back, err := FromIdentifier(d.Identifier())
		if err != nil || back != d {
			t.Fatalf("FromIdentifier(%v) = %#v, %v; want %#v", d.Identifier(), back, err, d)
		}
		if strings.Contains(Redact(d.Number), d.Number) {
			t.Fatalf("Redact(%q) = %q shows the number", d.Number, Redact(d.Number))
		}
	})
}
