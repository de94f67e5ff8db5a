package identity

import (
	"fmt"
	"log/slog"
	"strings"
)

// Redact masks an identity number for logs and support screens, keeping
// enough to tell numbers apart by eye: an HKID-format number keeps its
// letters, its first two digits and its check digit (A123456(3) becomes
// A12****(3); the parentheses are needed to recognise it); anything else keeps its first two and last character
// (GB1234567 becomes GB******7), and a string of four characters or fewer is
// masked entirely. It accepts any string, valid or not, and never panics.
func Redact(number string) string {
	if r, ok := redactHKID(compact(number)); ok {
		return r
	}
	runes := []rune(number)
	if len(runes) <= 4 {
		return strings.Repeat("*", len(runes))
	}
	return string(runes[:2]) + strings.Repeat("*", len(runes)-3) + string(runes[len(runes)-1])
}

// redactHKID redacts s if it has the shape of a normalised HKID, A123456(3),
// whatever its check digit. Without the parentheses an HKID cannot be told
// from, say, a passport number, so it gets the generic treatment.
func redactHKID(s string) (string, bool) {
	n := len(s)
	if n != 10 && n != 11 || s[n-3] != '(' || s[n-1] != ')' {
		return "", false
	}
	letters := n - 9
	if !allIn(s[:letters], isUpper) || !allIn(s[letters:n-3], isDigit) {
		return "", false
	}
	return s[:letters+2] + "****" + s[n-3:], true
}

// String describes the document with its number redacted, as
// "hkid A12****(3)" or "passport GBR GB******7".
func (d Document) String() string {
	if d.Kind == Passport {
		return fmt.Sprintf("%s %s %s", d.Kind, d.Country, Redact(d.Number))
	}
	return fmt.Sprintf("%s %s", d.Kind, Redact(d.Number))
}

// GoString is like String for the %#v verb, so that not even debug output
// prints the full number.
func (d Document) GoString() string {
	return fmt.Sprintf("identity.Document{Kind:%q, Number:%q, Country:%q}", d.Kind, Redact(d.Number), d.Country)
}

// LogValue implements slog.LogValuer: a group of kind, redacted number and
// country.
func (d Document) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kind", string(d.Kind)),
		slog.String("number", Redact(d.Number)),
		slog.String("country", d.Country),
	)
}
