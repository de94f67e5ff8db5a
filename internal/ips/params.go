package ips

import (
	"fmt"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// The languages a summary is written in.
const (
	English            = "en"
	TraditionalChinese = "zh-Hant"
)

// Format is the form a summary is answered in.
type Format int

// The forms of a summary.
const (
	FHIRJSON Format = iota // the document Bundle
	PDF                    // a printable PDF (a Binary)
)

// CompositionProfile is the IPS Composition profile the summary conforms
// to (the operation's profile parameter may name it, with or without its
// version).
const CompositionProfile = "http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips"

// BundleProfile is the IPS Bundle profile the summary document claims.
const BundleProfile = "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips"

// Request is what one $summary call asks for
// (http://hl7.org/fhir/uv/ips/OperationDefinition/summary).
type Request struct {
	Language string // English or TraditionalChinese
	Format   Format
	// Identifier is the patient's "system|value" at type level
	// (POST Patient/$summary); "" on an instance.
	Identifier string
}

// maxParam bounds a parameter's value (bytes).
const maxParam = 512

// inputs are the operation's parameters by name, from the query and a
// Parameters body: language, _language, _format, profile, identifier.
var inputs = []string{"language", "_language", "_format", "profile", "identifier"}

// ParseRequest reads a $summary call: its parameters from the query (GET)
// or a Parameters body (POST), its Accept and Accept-Language headers,
// at type level (instance false: identifier required) or on a Patient.
// An explicit language or _format the server does not offer is the
// client's mistake (400, 406); Accept-Language only chooses among the
// languages offered, English when it names none of them.
func ParseRequest(query url.Values, body map[string]any, accept, acceptLanguage string, instance bool) (Request, error) {
	ps, err := collect(query, body)
	if err != nil {
		return Request{}, err
	}
	var req Request
	if req.Language, err = chooseLanguage(ps, acceptLanguage); err != nil {
		return Request{}, err
	}
	if req.Format, err = chooseFormat(ps["_format"], accept); err != nil {
		return Request{}, err
	}
	if p := ps["profile"]; p != "" {
		canonical, _, _ := strings.Cut(p, "|")
		if canonical != CompositionProfile && canonical != BundleProfile {
			return Request{}, outcome.At(outcome.Invalid, at("profile"), "profile %q is not offered; this server builds the universal IPS (%s)", clip(p), CompositionProfile)
		}
	}
	req.Identifier = ps["identifier"]
	switch {
	case instance && req.Identifier != "":
		return Request{}, outcome.At(outcome.Invalid, at("identifier"), "identifier chooses the patient of Patient/$summary; Patient/{id}/$summary names its patient already")
	case !instance && req.Identifier == "":
		return Request{}, outcome.At(outcome.Invalid, at("identifier"), "Patient/$summary needs the patient's identifier (system|value)")
	case !instance:
		system, value, ok := strings.Cut(req.Identifier, "|")
		if !ok || system == "" || value == "" {
			return Request{}, outcome.At(outcome.Invalid, at("identifier"), "give the identifier as system|value")
		}
	}
	return req, nil
}

// collect gathers the parameters of the query and the body, each name at
// most once, refusing a body parameter the operation does not take.
func collect(query url.Values, body map[string]any) (map[string]string, error) {
	ps := map[string]string{}
	for _, name := range inputs {
		vs := query[name]
		if len(vs) > 1 {
			return nil, outcome.At(outcome.Invalid, at(name), "give %s once", name)
		}
		if len(vs) == 1 {
			ps[name] = strings.TrimSpace(vs[0])
		}
	}
	list, ok := body["parameter"].([]any)
	if !ok && body["parameter"] != nil {
		return nil, outcome.At(outcome.Invalid, "Parameters.parameter", "parameter must be a list")
	}
	for i, item := range list {
		where := fmt.Sprintf("Parameters.parameter[%d]", i)
		m, _ := item.(map[string]any)
		name, _ := m["name"].(string)
		if !slices.Contains(inputs, name) {
			return nil, outcome.At(outcome.Invalid, where, "$summary takes %s, not %q", strings.Join(inputs, ", "), clip(name))
		}
		if _, dup := ps[name]; dup {
			return nil, outcome.At(outcome.Invalid, where, "give %s once", name)
		}
		v, ok := primitive(m)
		if !ok {
			return nil, outcome.At(outcome.Invalid, where, "%s takes a string, code, uri or canonical value", name)
		}
		ps[name] = strings.TrimSpace(v)
	}
	for name, v := range ps {
		if len(v) > maxParam {
			return nil, outcome.At(outcome.Invalid, at(name), "%s is longer than %d bytes", name, maxParam)
		}
	}
	return ps, nil
}

// primitive is the string value of a Parameters.parameter.
func primitive(m map[string]any) (string, bool) {
	for _, k := range []string{"valueString", "valueCode", "valueUri", "valueCanonical", "valueToken"} {
		if v, ok := m[k].(string); ok {
			return v, true
		}
	}
	return "", false
}

// at is the FHIRPath of the named parameter, for issues.
func at(name string) string { return "Parameters.parameter.where(name='" + name + "')" }

// clip shortens a client's value quoted back in an issue.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// chooseLanguage is the summary's language: the language (or _language)
// parameter when given, else the first offered language Accept-Language
// prefers, else English.
func chooseLanguage(ps map[string]string, acceptLanguage string) (string, error) {
	explicit, name := ps["language"], "language"
	if explicit == "" {
		explicit, name = ps["_language"], "_language"
	}
	if explicit != "" {
		lang, ok := offered(explicit)
		if !ok {
			return "", outcome.At(outcome.Invalid, at(name), "language %q is not offered; ask for en or zh-Hant", clip(explicit))
		}
		return lang, nil
	}
	for _, tag := range byPreference(acceptLanguage) {
		if lang, ok := offered(tag); ok {
			return lang, nil
		}
	}
	return English, nil
}

// offered maps a BCP-47 tag to the language the summary is written in:
// English for en-*, Traditional Chinese for zh written in Han Traditional
// or used where it is (Hong Kong, Macao, Taiwan); false otherwise
// (Simplified Chinese included).
func offered(tag string) (string, bool) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(tag)), "-")
	switch parts[0] {
	case "en":
		return English, true
	case "zh":
		if len(parts) == 1 {
			return TraditionalChinese, true
		}
		for _, p := range parts[1:] {
			switch p {
			case "hant", "hk", "mo", "tw", "yue":
				return TraditionalChinese, true
			case "hans", "cn", "sg":
				return "", false
			}
		}
		return "", false
	case "yue":
		return TraditionalChinese, true
	}
	return "", false
}

// byPreference lists the tags of an Accept-Language header
// (RFC 9110 §12.5.4) from the most to the least preferred, leaving out
// those with q=0.
func byPreference(header string) []string {
	type tagQ struct {
		tag string
		q   float64
	}
	var tags []tagQ
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if tag = strings.TrimSpace(tag); tag != "" && tag != "*" && q > 0 {
			tags = append(tags, tagQ{tag, q})
		}
	}
	slices.SortStableFunc(tags, func(a, b tagQ) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.tag
	}
	return out
}

// pdfTypes are the names of the PDF form in _format and Accept.
var pdfTypes = []string{"pdf", "application/pdf"}

// jsonTypes are the names of the FHIR JSON form in _format.
var jsonTypes = []string{"json", "application/fhir+json", "application/json", "application/json+fhir"}

// chooseFormat is the answer's form: _format when given, else PDF when
// Accept prefers application/pdf to every FHIR JSON type, else the
// document Bundle.
func chooseFormat(format, accept string) (Format, error) {
	if format != "" {
		mt := strings.ToLower(format)
		if parsed, _, err := mime.ParseMediaType(format); err == nil {
			mt = parsed
		}
		switch {
		case slices.Contains(pdfTypes, mt):
			return PDF, nil
		case slices.Contains(jsonTypes, mt):
			return FHIRJSON, nil
		}
		return FHIRJSON, outcome.At(outcome.NotAcceptable, at("_format"), "_format %q is not served for $summary; ask for json or pdf", clip(format))
	}
	best, bestQ := FHIRJSON, 0.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		switch {
		case mt == "application/pdf" && q > bestQ:
			best, bestQ = PDF, q
		case (slices.Contains(jsonTypes, mt) || mt == "*/*" || mt == "application/*") && q >= bestQ && q > 0:
			best, bestQ = FHIRJSON, q
		}
	}
	return best, nil
}
