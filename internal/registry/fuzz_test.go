package registry_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/registry"
)

// FuzzRegisterParameters feeds $register's Parameters parsing arbitrary
// JSON (seeds in testdata/fuzz): it never panics, an accepted request
// holds a valid, normalised document, named names with their language, a
// full birth date and a known sex, and a refusal never quotes an identity
// number it was given.
func FuzzRegisterParameters(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"patient","resource":{"resourceType":"Patient",` +
		`"identifier":[{"system":"http://www.immd.gov.hk/hkid","value":"A123456(3)"}],"name":[{"family":"CHAN","given":["Tai Man"]},{"text":"陳大文"}],` +
		`"birthDate":"1980-05-17","gender":"male","telecom":[{"system":"sms","value":"+852 9123 4567"}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := fhir.Parse(data)
		if err != nil {
			return
		}
		reg, err := registry.ParseRegistration(nil, body)
		if err != nil {
			for _, v := range identifierValues(body) {
				if len(v) >= 7 && bytes.Count(data, []byte(v)) == 1 && strings.Contains(err.Error(), v) {
					t.Fatalf("the refusal quotes the identifier %q: %v", v, err)
				}
			}
			return
		}
		d := reg.Document
		if again, err := identity.Parse(d.Kind, d.Number, d.Country); err != nil || again != d {
			t.Fatalf("accepted document %#v does not parse to itself: %v", d, err)
		}
		if len(reg.Names) == 0 {
			t.Fatal("accepted without a name")
		}
		for _, n := range reg.Names {
			if !strings.Contains(fmt.Sprint(n["extension"]), registry.LanguageExtension) {
				t.Fatalf("a name without its language: %v", n)
			}
		}
		if reg.BirthDate.Location() != registry.HongKong || reg.BirthDate.Format(time.DateOnly) == "" {
			t.Fatalf("birth date %v", reg.BirthDate)
		}
		switch reg.Gender {
		case "male", "female", "other", "unknown":
		default:
			t.Fatalf("gender %q", reg.Gender)
		}
		if reg.SDM != nil {
			if _, ok := registry.RoleOf(reg.SDM.Role.Code); !ok {
				t.Fatalf("SDM role %v", reg.SDM.Role)
			}
		}
	})
}

// identifierValues collects every Identifier.value-looking string in v.
func identifierValues(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if s, ok := v["value"].(string); ok {
			if _, ok := v["system"]; ok {
				out = append(out, s)
			}
		}
		for _, x := range v {
			out = append(out, identifierValues(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, identifierValues(x)...)
		}
	}
	return out
}
