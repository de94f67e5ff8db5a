package ips

import (
	"net/url"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// FuzzParseRequest: whatever query, Parameters body and headers a
// $summary call carries are read or refused as the client's mistake (400,
// 406), never an internal error or a panic; what is read is a language
// and form the server offers, and a type-level identifier is system|value.
// Seeds: testdata/fuzz/FuzzParseRequest.
func FuzzParseRequest(f *testing.F) {
	f.Add("_language=zh-Hant&_format=pdf", []byte(`{"resourceType":"Parameters"}`), "application/pdf", "zh-HK,en;q=0.5", true)
	f.Add("", []byte(`{"resourceType":"Parameters","parameter":[{"name":"identifier","valueString":"http://www.immd.gov.hk/hkid|A1234563"}]}`), "", "", false)
	f.Add("profile=http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips%7C2.0.0", []byte(`{}`), "*/*;q=0.1", "en-GB;q=0.9", true)
	f.Fuzz(func(t *testing.T, query string, body []byte, accept, lang string, instance bool) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		var b map[string]any
		if len(body) > 0 {
			if b, err = fhir.Parse(body); err != nil {
				return
			}
		}
		req, err := ParseRequest(q, b, accept, lang, instance)
		if err != nil {
			if k := outcome.KindOf(err); k != outcome.Invalid && k != outcome.NotAcceptable {
				t.Fatalf("%q %s: %v is not the client's mistake", query, body, err)
			}
			return
		}
		if req.Language != English && req.Language != TraditionalChinese {
			t.Fatalf("language %q", req.Language)
		}
		if req.Format != FHIRJSON && req.Format != PDF {
			t.Fatalf("format %v", req.Format)
		}
		if instance != (req.Identifier == "") {
			t.Fatalf("identifier %q on instance=%v", req.Identifier, instance)
		}
	})
}
