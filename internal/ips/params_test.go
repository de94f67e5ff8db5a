package ips

import (
	"net/url"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// TestParseRequest: the language, the form and the patient a call asks
// for, and the client's mistakes refused with the parameter at fault.
func TestParseRequest(t *testing.T) {
	for _, c := range []struct {
		name         string
		query        string
		body         map[string]any
		accept, lang string
		instance     bool
		want         Request
		kind         outcome.Kind
		wantErrAt    string
	}{
		{name: "default", instance: true, want: Request{Language: English}},
		{name: "language", query: "language=zh-Hant", instance: true, want: Request{Language: TraditionalChinese}},
		{name: "_language", query: "_language=zh-HK", instance: true, want: Request{Language: TraditionalChinese}},
		{name: "accept-language", lang: "fr;q=1, zh-TW;q=0.8, en;q=0.5", instance: true, want: Request{Language: TraditionalChinese}},
		{name: "accept-language order", lang: "zh-Hant;q=0.4, en-GB", instance: true, want: Request{Language: English}},
		{name: "simplified refused", lang: "zh-CN", instance: true, want: Request{Language: English}},
		{name: "parameter over header", query: "language=en", lang: "zh-HK", instance: true, want: Request{Language: English}},
		{name: "unknown language", query: "language=fr", instance: true, kind: outcome.Invalid, wantErrAt: "language"},
		{name: "pdf by format", query: "_format=pdf", instance: true, want: Request{Language: English, Format: PDF}},
		{name: "pdf by accept", accept: "application/pdf", instance: true, want: Request{Language: English, Format: PDF}},
		{name: "json preferred", accept: "application/pdf;q=0.5, application/fhir+json", instance: true, want: Request{Language: English}},
		{name: "xml refused", query: "_format=xml", instance: true, kind: outcome.NotAcceptable, wantErrAt: "_format"},
		{name: "profile", query: "profile=http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips|2.0.0", instance: true, want: Request{Language: English}},
		{name: "other profile", query: "profile=http://example.org/p", instance: true, kind: outcome.Invalid, wantErrAt: "profile"},
		{name: "twice", query: "language=en&language=zh", instance: true, kind: outcome.Invalid, wantErrAt: "language"},
		{name: "identifier at type level", body: params("identifier", "valueString", "http://www.immd.gov.hk/hkid|A1234563"), want: Request{Language: English, Identifier: "http://www.immd.gov.hk/hkid|A1234563"}},
		{name: "no identifier at type level", kind: outcome.Invalid, wantErrAt: "identifier"},
		{name: "identifier without system", body: params("identifier", "valueString", "A1234563"), kind: outcome.Invalid, wantErrAt: "identifier"},
		{name: "identifier on an instance", body: params("identifier", "valueString", "s|v"), instance: true, kind: outcome.Invalid, wantErrAt: "identifier"},
		{name: "unknown body parameter", body: params("patient", "valueString", "p1"), instance: true, kind: outcome.Invalid, wantErrAt: "parameter[0]"},
		{name: "body language as code", body: params("language", "valueCode", "zh-Hant"), instance: true, want: Request{Language: TraditionalChinese}},
		{name: "body value of the wrong type", body: params("language", "valueInteger", 3), instance: true, kind: outcome.Invalid, wantErrAt: "parameter[0]"},
		{name: "query and body twice", query: "language=en", body: params("language", "valueCode", "en"), instance: true, kind: outcome.Invalid, wantErrAt: "parameter[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseRequest(q, c.body, c.accept, c.lang, c.instance)
			if c.wantErrAt != "" {
				if err == nil || outcome.KindOf(err) != c.kind || !containsAt(err, c.wantErrAt) {
					t.Fatalf("error %v, want %v at %s", err, c.kind, c.wantErrAt)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("%+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

// params is a Parameters body with one parameter.
func params(name, key string, value any) map[string]any {
	return map[string]any{"resourceType": "Parameters", "parameter": []any{map[string]any{"name": name, key: value}}}
}

// containsAt reports whether an outcome error points at an expression
// containing at.
func containsAt(err error, at string) bool {
	oo, _ := outcome.OperationOutcome(err, "")
	issues, _ := oo["issue"].([]any)
	for _, is := range issues {
		m, _ := is.(map[string]any)
		exprs, _ := m["expression"].([]any)
		for _, e := range exprs {
			if s, _ := e.(string); strings.Contains(s, at) {
				return true
			}
		}
	}
	return false
}
