package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		raw     string
		country string
		want    Document
		err     error // nil: valid
	}{
		// Valid HKIDs: the four published examples and more computed with an
		// independent implementation of the rule.
		{"published A", HKID, "A123456(3)", "", Document{HKID, "A123456(3)", "HKG"}, nil},
		{"published E", HKID, "E364912(5)", "", Document{HKID, "E364912(5)", "HKG"}, nil},
		{"published AB", HKID, "AB987654(3)", "", Document{HKID, "AB987654(3)", "HKG"}, nil},
		{"published D", HKID, "D288754(2)", "", Document{HKID, "D288754(2)", "HKG"}, nil},
		{"check digit A", HKID, "G123456(A)", "", Document{HKID, "G123456(A)", "HKG"}, nil},
		{"check digit 0", HKID, "K123456(0)", "", Document{HKID, "K123456(0)", "HKG"}, nil},
		{"two letters, check A", HKID, "XG000123(A)", "", Document{HKID, "XG000123(A)", "HKG"}, nil},
		{"two letters WX", HKID, "WX123456(9)", "", Document{HKID, "WX123456(9)", "HKG"}, nil},
		{"no parentheses", HKID, "A1234563", "", Document{HKID, "A123456(3)", "HKG"}, nil},
		{"lower case", HKID, "ab987654(3)", "", Document{HKID, "AB987654(3)", "HKG"}, nil},
		{"lower case check A", HKID, "g123456(a)", "", Document{HKID, "G123456(A)", "HKG"}, nil},
		{"spaces", HKID, " A 123 456 ( 3 ) ", "", Document{HKID, "A123456(3)", "HKG"}, nil},
		{"country HKG any case", HKID, "A123456(3)", "hkg", Document{HKID, "A123456(3)", "HKG"}, nil},
		{"birth certificate", BirthCertificate, "r345678(0)", "", Document{BirthCertificate, "R345678(0)", "HKG"}, nil},
		{"exemption", ExemptionCertificate, "c123456", "", Document{ExemptionCertificate, "C123456", "HKG"}, nil},
		{"passport", Passport, "gb 1234567", "gbr", Document{Passport, "GB1234567", "GBR"}, nil},
		{"passport 5 chars", Passport, "K1234", "CHN", Document{Passport, "K1234", "CHN"}, nil},
		{"passport 20 chars", Passport, "ABCDEFGHIJ0123456789", "USA", Document{Passport, "ABCDEFGHIJ0123456789", "USA"}, nil},

		// Invalid HKIDs.
		{"wrong check digit", HKID, "A123456(4)", "", Document{}, ErrCheckDigit},
		{"wrong check digit A", HKID, "A123456(A)", "", Document{}, ErrCheckDigit},
		{"swapped digits", HKID, "A123465(3)", "", Document{}, ErrCheckDigit},
		{"wrong letter", HKID, "B123456(3)", "", Document{}, ErrCheckDigit},
		{"empty", HKID, "", "", Document{}, ErrFormat},
		{"blank", HKID, "   ", "", Document{}, ErrFormat},
		{"no letter", HKID, "1234567(3)", "", Document{}, ErrFormat},
		{"three letters", HKID, "ABC123456(3)", "", Document{}, ErrFormat},
		{"digit check letter B", HKID, "A123456(B)", "", Document{}, ErrFormat},
		{"five digits", HKID, "A12345(3)", "", Document{}, ErrFormat},
		{"seven digits", HKID, "A1234567(3)", "", Document{}, ErrFormat},
		{"letters only", HKID, "AB", "", Document{}, ErrFormat},
		{"letter inside digits", HKID, "A12E456(3)", "", Document{}, ErrFormat},
		{"non-ASCII letter", HKID, "Ä123456(3)", "", Document{}, ErrFormat},
		{"long s is not S", HKID, "ſ123456(3)", "", Document{}, ErrFormat},
		{"full-width digit", HKID, "A12345６(3)", "", Document{}, ErrFormat},
		{"unbalanced parenthesis", HKID, "A123456(3", "", Document{}, ErrFormat},
		{"parentheses around two", HKID, "A12345(63)", "", Document{}, ErrFormat},
		{"extra parentheses", HKID, "(A)123456(3)", "", Document{}, ErrFormat},
		{"hyphen", HKID, "A123456-3", "", Document{}, ErrFormat},
		{"too long", HKID, strings.Repeat("A", 65), "", Document{}, ErrFormat},
		{"HKID from elsewhere", HKID, "A123456(3)", "GBR", Document{}, ErrCountry},
		{"birth certificate check digit", BirthCertificate, "R345678(1)", "", Document{}, ErrCheckDigit},

		// Other kinds.
		{"exemption wrong letter", ExemptionCertificate, "D123456", "", Document{}, ErrFormat},
		{"exemption too short", ExemptionCertificate, "C12345", "", Document{}, ErrFormat},
		{"exemption empty", ExemptionCertificate, "", "", Document{}, ErrFormat},
		{"passport no country", Passport, "GB1234567", "", Document{}, ErrCountry},
		{"passport 2-letter country", Passport, "GB1234567", "GB", Document{}, ErrCountry},
		{"passport numeric country", Passport, "GB1234567", "826", Document{}, ErrCountry},
		{"passport too short", Passport, "K123", "CHN", Document{}, ErrFormat},
		{"passport too long", Passport, "ABCDEFGHIJ01234567890", "USA", Document{}, ErrFormat},
		{"passport punctuation", Passport, "GB-1234567", "GBR", Document{}, ErrFormat},
		{"unknown kind", Kind("driving-licence"), "A123456(3)", "", Document{}, ErrKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.kind, tt.raw, tt.country)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Parse(%q, %q, %q) error = %v, want %v", tt.kind, tt.raw, tt.country, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q, %q, %q): %v", tt.kind, tt.raw, tt.country, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q, %q, %q) = %#v, want %#v", tt.kind, tt.raw, tt.country, got.Number, tt.want.Number)
			}
		})
	}
}

// TestParseErrorNamesRule checks that errors tell the user what to fix and do
// not echo the number.
func TestParseErrorNamesRule(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"E364912(4)", "check digit is 4, the number gives 5"},
		{"ABC364912(5)", "1 or 2 letters"},
		{"E36491(5)", "exactly 6 digits"},
		{"E364912(B)", "check digit must be 0-9 or A"},
		{"E36491(25)", "parentheses"},
	}
	for _, tt := range tests {
		_, err := Parse(HKID, tt.raw, "")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want it to mention %q", tt.raw, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "36491") {
			t.Errorf("Parse(%q) error %q leaks the number", tt.raw, err)
		}
	}
}

func TestNewParserExemptionPattern(t *testing.T) {
	p, err := NewParser(`CE[0-9]{7}`)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := p.Parse(ExemptionCertificate, "ce 1234567", ""); err != nil || d.Number != "CE1234567" {
		t.Errorf("custom pattern: got %v, %v; want CE1234567", d.Number, err)
	}
	// The pattern is anchored for the caller: a longer number does not match.
	if _, err := p.Parse(ExemptionCertificate, "XCE12345678", ""); !errors.Is(err, ErrFormat) {
		t.Errorf("unanchored match accepted: %v", err)
	}
	if _, err := p.Parse(ExemptionCertificate, "C123456", ""); !errors.Is(err, ErrFormat) {
		t.Errorf("default pattern still accepted by custom parser: %v", err)
	}
	// Other kinds are unaffected.
	if _, err := p.Parse(HKID, "A123456(3)", ""); err != nil {
		t.Errorf("custom parser rejects HKID: %v", err)
	}
	if _, err := NewParser(`C[0-9`); err == nil {
		t.Error("NewParser accepted an invalid pattern")
	}
}
