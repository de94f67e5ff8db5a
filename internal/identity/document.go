package identity

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Kind is the kind of identity document.
type Kind string

// The kinds of identity document a healthcare recipient may register with.
const (
	// HKID is the Hong Kong Identity Card number, e.g. A123456(3).
	HKID Kind = "hkid"
	// BirthCertificate is a Hong Kong birth certificate. Its number has the
	// HKID format and check digit: it is the number the child's identity card
	// will carry later, so the master patient index should treat the two as
	// the same person.
	BirthCertificate Kind = "birth-certificate"
	// ExemptionCertificate is a Certificate of Exemption issued by the
	// Immigration Department. Its number has no public checksum; see
	// DefaultExemptionPattern.
	ExemptionCertificate Kind = "exemption-certificate"
	// Passport is a passport of any issuing country.
	Passport Kind = "passport"
)

// HongKong is the ISO 3166-1 alpha-3 code that Parse sets as the issuing
// country of Hong Kong documents (every kind but Passport).
const HongKong = "HKG"

// DefaultExemptionPattern is the format a Certificate of Exemption number must
// match unless a Parser is built with another: "C" and six digits.
// (assumed) No public source confirms this format; NewParser makes it
// configurable.
const DefaultExemptionPattern = `C[0-9]{6}`

// maxRaw bounds the input Parse looks at, so a hostile request cannot make it
// work on megabytes; no identity number comes near it.
const maxRaw = 64

// Errors that Parse and FromIdentifier wrap, for errors.Is. The message of the
// returned error says which rule failed.
var (
	ErrKind       = errors.New("unknown document kind")
	ErrFormat     = errors.New("wrong format")
	ErrCheckDigit = errors.New("wrong check digit")
	ErrCountry    = errors.New("bad issuing country")
	ErrIdentifier = errors.New("not an identity document identifier")
)

// Document is a validated identity document. Build it with Parse or
// FromIdentifier; the zero value is not a valid document.
//
// String, GoString and LogValue show a redacted number, so printing or
// logging a Document does not leak it; read Number when the full number is
// meant to be used.
type Document struct {
	Kind Kind
	// Number is the normalised number: upper case, no spaces, and for HKID
	// and birth certificates the check digit in parentheses, as A123456(3).
	Number string
	// Country is the ISO 3166-1 alpha-3 code of the issuing country, upper
	// case; HongKong for every kind but Passport.
	Country string
}

// Parser parses identity documents. Its zero value (and a nil *Parser) uses
// DefaultExemptionPattern.
type Parser struct {
	exemption *regexp.Regexp
}

var defaultExemption = regexp.MustCompile(`^(?:` + DefaultExemptionPattern + `)$`)

// NewParser returns a Parser that accepts Certificate of Exemption numbers
// matching exemptionPattern (RE2 syntax). The pattern is matched against the
// whole normalised number (upper case, no spaces): it need not be anchored.
func NewParser(exemptionPattern string) (*Parser, error) {
	re, err := regexp.Compile(`^(?:` + exemptionPattern + `)$`)
	if err != nil {
		return nil, fmt.Errorf("identity: exemption certificate pattern: %w", err)
	}
	return &Parser{exemption: re}, nil
}

// Parse validates raw as a document of the given kind and returns it
// normalised, with the default rules. See Parser.Parse.
func Parse(kind Kind, raw, country string) (Document, error) {
	return (*Parser)(nil).Parse(kind, raw, country)
}

// Parse validates raw as a document of the given kind and returns it
// normalised. Spaces are ignored and letters may be lower case; an HKID may
// be written with or without parentheses around its check digit.
//
// country is the issuing country (ISO 3166-1 alpha-3, any case): required for
// a passport; for Hong Kong documents it may be empty or "HKG".
//
// The error wraps ErrKind, ErrFormat, ErrCheckDigit or ErrCountry and says
// which rule failed. It never contains the full number.
func (p *Parser) Parse(kind Kind, raw, country string) (Document, error) {
	if len(raw) > maxRaw {
		return Document{}, parseError(kind, ErrFormat, "longer than %d bytes", maxRaw)
	}
	switch kind {
	case HKID, BirthCertificate:
		return p.parseHK(kind, raw, country, parseHKID)
	case ExemptionCertificate:
		return p.parseHK(kind, raw, country, p.parseExemption)
	case Passport:
		return parsePassport(raw, country)
	}
	return Document{}, fmt.Errorf("identity: parse %q: %w", string(kind), ErrKind)
}

// parseHK parses a document issued in Hong Kong with the number parser fn.
func (p *Parser) parseHK(kind Kind, raw, country string, fn func(string) (string, error)) (Document, error) {
	if c := upperASCII(strings.TrimSpace(country)); c != "" && c != HongKong {
		return Document{}, parseError(kind, ErrCountry, "issued in Hong Kong (%s), not %q", HongKong, country)
	}
	number, err := fn(compact(raw))
	if err != nil {
		return Document{}, fmt.Errorf("identity: parse %s: %w", kind, err)
	}
	return Document{Kind: kind, Number: number, Country: HongKong}, nil
}

func (p *Parser) parseExemption(s string) (string, error) {
	re := defaultExemption
	if p != nil && p.exemption != nil {
		re = p.exemption
	}
	if s == "" {
		return "", ruleError(ErrFormat, "empty number")
	}
	if !re.MatchString(s) {
		return "", ruleError(ErrFormat, "does not match the pattern %s", strings.TrimSuffix(strings.TrimPrefix(re.String(), "^(?:"), ")$"))
	}
	return s, nil
}

func parsePassport(raw, country string) (Document, error) {
	c := upperASCII(strings.TrimSpace(country))
	if len(c) != 3 || !allIn(c, isUpper) {
		return Document{}, parseError(Passport, ErrCountry, "want an ISO 3166-1 alpha-3 code such as GBR, got %q", country)
	}
	n := compact(raw)
	if len(n) < 5 || len(n) > 20 {
		return Document{}, parseError(Passport, ErrFormat, "want 5 to 20 letters and digits, got %d characters", len(n))
	}
	if !allIn(n, func(r byte) bool { return isUpper(r) || isDigit(r) }) {
		return Document{}, parseError(Passport, ErrFormat, "only letters A-Z and digits 0-9 are allowed")
	}
	return Document{Kind: Passport, Number: n, Country: c}, nil
}

// compact removes white space and upper-cases ASCII letters. Only ASCII is
// upper-cased, so that no exotic rune (such as ſ, which Unicode maps to S)
// turns into a valid number.
func compact(s string) string {
	return upperASCII(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s))
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func allIn(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func ruleError(rule error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", rule, fmt.Sprintf(format, args...))
}

func parseError(kind Kind, rule error, format string, args ...any) error {
	return fmt.Errorf("identity: parse %s: %w", kind, ruleError(rule, format, args...))
}
