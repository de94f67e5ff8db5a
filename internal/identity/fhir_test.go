package identity

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestIdentifier(t *testing.T) {
	tests := []struct {
		doc              Document
		system, code, js string
	}{
		{Document{HKID, "A123456(3)", "HKG"}, SystemHKID, "NI", ""},
		{Document{BirthCertificate, "R345678(0)", "HKG"}, SystemBirthCertificate, "BCT", ""},
		{Document{ExemptionCertificate, "C123456", "HKG"}, SystemExemptionCertificate, "PN", ""},
		{Document{Passport, "GB1234567", "GBR"}, "http://hl7.org/fhir/sid/passport-GBR", "PPN", ""},
	}
	for _, tt := range tests {
		id := tt.doc.Identifier()
		if id["system"] != tt.system || id["value"] != tt.doc.Number || id["use"] != "official" {
			t.Errorf("%v: Identifier() = %v", tt.doc, id)
		}
		coding := id["type"].(map[string]any)["coding"].([]any)[0].(map[string]any)
		if coding["system"] != IdentifierTypeSystem || coding["code"] != tt.code {
			t.Errorf("%v: type coding = %v, want %s", tt.doc, coding, tt.code)
		}
		// Round trip, also through JSON as it would come from a client.
		b, err := json.Marshal(id)
		if err != nil {
			t.Fatal(err)
		}
		var decoded map[string]any
		if err := json.Unmarshal(b, &decoded); err != nil {
			t.Fatal(err)
		}
		got, err := FromIdentifier(decoded)
		if err != nil || got != tt.doc {
			t.Errorf("FromIdentifier(%s) = %#v, %v; want %#v", b, got, err, tt.doc)
		}
	}
}

func TestFromIdentifierErrors(t *testing.T) {
	tests := []struct {
		name string
		id   map[string]any
		err  error
	}{
		{"unknown system", map[string]any{"system": "http://example.org/mrn", "value": "A123456(3)"}, ErrIdentifier},
		{"no system", map[string]any{"value": "A123456(3)"}, ErrIdentifier},
		{"no value", map[string]any{"system": SystemHKID}, ErrIdentifier},
		{"value not a string", map[string]any{"system": SystemHKID, "value": 123456}, ErrIdentifier},
		{"bad check digit", map[string]any{"system": SystemHKID, "value": "A123456(4)"}, ErrCheckDigit},
		{"passport bad country", map[string]any{"system": SystemPassportPrefix + "GB", "value": "GB1234567"}, ErrCountry},
		{"passport no country", map[string]any{"system": SystemPassportPrefix, "value": "GB1234567"}, ErrCountry},
	}
	for _, tt := range tests {
		if _, err := FromIdentifier(tt.id); !errors.Is(err, tt.err) {
			t.Errorf("%s: FromIdentifier error = %v, want %v", tt.name, err, tt.err)
		}
	}
}

func TestFromIdentifierNormalises(t *testing.T) {
	d, err := FromIdentifier(map[string]any{"system": SystemHKID, "value": "a1234563"})
	if err != nil || d.Number != "A123456(3)" {
		t.Errorf("FromIdentifier(lower case, no parentheses) = %v, %v", d.Number, err)
	}
}
