package terminology

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ehealthplus/ehealth/internal/terminology/ucum"
)

// External is a code system we recognise but do not enumerate: either its
// codes follow a grammar we check (UCUM units, BCP 47 language tags, ISO
// 4217 currencies, ISO 3166 countries), or it is too large or licensed for
// us to ship (LOINC, SNOMED CT, RxNorm …) or, for MIME types, used too
// loosely in practice, and its codes are accepted with an informational issue
// (http://hl7.org/fhir/R4/terminologies-systems.html).
type External struct {
	URL  string
	Name string
	// check returns nil when code is well-formed; nil check means the
	// system has no grammar here.
	check func(code string) error
}

// Check returns nil when code is well-formed in the system, an error saying
// what is wrong otherwise; checked is false when the system has no grammar.
func (x External) Check(code string) (checked bool, err error) {
	if x.check == nil {
		return false, nil
	}
	return true, x.check(code)
}

var externals = map[string]External{
	"http://unitsofmeasure.org": {URL: "http://unitsofmeasure.org", Name: "UCUM", check: checkUCUM},
	"urn:ietf:bcp:47":           {URL: "urn:ietf:bcp:47", Name: "IETF BCP 47 language tags", check: CheckLanguageTag},
	// MIME types have a grammar (CheckMIMEType), but the official R4
	// examples use "xml", "json" and unquoted parameter values where the
	// required binding to mimetypes applies, so codes are accepted unchecked.
	"urn:ietf:bcp:13":                                {URL: "urn:ietf:bcp:13", Name: "MIME types (BCP 13)"},
	"urn:iso:std:iso:4217":                           {URL: "urn:iso:std:iso:4217", Name: "ISO 4217 currencies", check: pattern(`[A-Z]{3}`, "a currency code is three capital letters")},
	"urn:iso:std:iso:3166":                           {URL: "urn:iso:std:iso:3166", Name: "ISO 3166 countries", check: pattern(`[A-Z]{2}|[A-Z]{3}|[0-9]{3}`, "a country code is two or three capital letters or three digits")},
	"urn:iso:std:iso:3166:-2":                        {URL: "urn:iso:std:iso:3166:-2", Name: "ISO 3166-2 subdivisions", check: pattern(`[A-Z]{2}-[A-Z0-9]{1,3}`, "a subdivision code is a country code, '-' and up to three letters or digits")},
	"http://loinc.org":                               {URL: "http://loinc.org", Name: "LOINC"},
	"http://snomed.info/sct":                         {URL: "http://snomed.info/sct", Name: "SNOMED CT"},
	"http://www.nlm.nih.gov/research/umls/rxnorm":    {URL: "http://www.nlm.nih.gov/research/umls/rxnorm", Name: "RxNorm"},
	"http://hl7.org/fhir/sid/icd-10":                 {URL: "http://hl7.org/fhir/sid/icd-10", Name: "ICD-10"},
	"http://hl7.org/fhir/sid/icd-10-cm":              {URL: "http://hl7.org/fhir/sid/icd-10-cm", Name: "ICD-10-CM"},
	"http://hl7.org/fhir/sid/icd-9-cm":               {URL: "http://hl7.org/fhir/sid/icd-9-cm", Name: "ICD-9-CM"},
	"http://hl7.org/fhir/sid/cvx":                    {URL: "http://hl7.org/fhir/sid/cvx", Name: "CVX vaccine codes"},
	"http://hl7.org/fhir/sid/ndc":                    {URL: "http://hl7.org/fhir/sid/ndc", Name: "NDC"},
	"http://www.whocc.no/atc":                        {URL: "http://www.whocc.no/atc", Name: "ATC"},
	"http://dicom.nema.org/resources/ontology/DCM":   {URL: "http://dicom.nema.org/resources/ontology/DCM", Name: "DICOM"},
	"http://unstats.un.org/unsd/methods/m49/m49.htm": {URL: "http://unstats.un.org/unsd/methods/m49/m49.htm", Name: "UN M49 regions"},
	"http://nucc.org/provider-taxonomy":              {URL: "http://nucc.org/provider-taxonomy", Name: "NUCC provider taxonomy"},
	"urn:ietf:rfc:3986":                              {URL: "urn:ietf:rfc:3986", Name: "URIs"},
}

// externalSystem returns what we know of a system we do not enumerate.
func externalSystem(url string) (External, bool) {
	x, ok := externals[stripVersion(url)]
	return x, ok
}

func checkUCUM(code string) error { return ucum.Validate(code) }

func pattern(expr, msg string) func(string) error {
	re := regexp.MustCompile("^(?:" + expr + ")$")
	return func(code string) error {
		if !re.MatchString(code) {
			return errors.New(msg)
		}
		return nil
	}
}

// mimeToken is an RFC 6838 restricted-name: a letter or digit, then up to
// 126 letters, digits and !#$&-^_.+ characters.
var mimeType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}` +
	`(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"]*"|[A-Za-z0-9!#$&^_.+-]+))*$`)

// CheckMIMEType checks a media type with optional parameters
// (RFC 6838 section 4.2, RFC 2045 section 5.1), for callers stricter than
// binding validation (deposit profiles, say).
func CheckMIMEType(code string) error {
	if !mimeType.MatchString(code) {
		return fmt.Errorf("%q is not a MIME type (type/subtype)", code)
	}
	return nil
}

// CheckLanguageTag checks the syntax of a BCP 47 language tag (RFC 5646
// section 2.1): language (2–3 letters with up to three extlangs, or 4–8
// letters), then optional script, region, variants, extensions and private
// use, or a private-use or grandfathered tag. Case is not significant.
func CheckLanguageTag(tag string) error {
	if tag == "" {
		return errors.New("empty language tag")
	}
	lower := strings.ToLower(tag)
	if grandfathered[lower] || strings.HasPrefix(lower, "x-") && privateUse(strings.Split(lower, "-")[1:]) {
		return nil
	}
	subtags := strings.Split(lower, "-")
	i := 0
	lang := subtags[0]
	switch {
	case alpha(lang, 2, 3):
		i = 1
		for n := 0; n < 3 && i < len(subtags) && alpha(subtags[i], 3, 3); n++ {
			i++ // extlang
		}
	case alpha(lang, 4, 8):
		i = 1
	default:
		return fmt.Errorf("%q: language subtag %q must be 2 to 8 letters", tag, lang)
	}
	if i < len(subtags) && alpha(subtags[i], 4, 4) {
		i++ // script
	}
	if i < len(subtags) && (alpha(subtags[i], 2, 2) || digits(subtags[i], 3)) {
		i++ // region
	}
	for i < len(subtags) && variant(subtags[i]) {
		i++
	}
	for i < len(subtags) && len(subtags[i]) == 1 && subtags[i] != "x" {
		j := i + 1
		for j < len(subtags) && alnum(subtags[j], 2, 8) {
			j++
		}
		if j == i+1 {
			return fmt.Errorf("%q: extension %q has no subtags", tag, subtags[i])
		}
		i = j
	}
	if i < len(subtags) && subtags[i] == "x" {
		if !privateUse(subtags[i+1:]) {
			return fmt.Errorf("%q: bad private-use subtags", tag)
		}
		i = len(subtags)
	}
	if i < len(subtags) {
		return fmt.Errorf("%q: unexpected subtag %q", tag, subtags[i])
	}
	return nil
}

var grandfathered = map[string]bool{
	"en-gb-oed": true, "i-ami": true, "i-bnn": true, "i-default": true, "i-enochian": true, "i-hak": true,
	"i-klingon": true, "i-lux": true, "i-mingo": true, "i-navajo": true, "i-pwn": true, "i-tao": true,
	"i-tay": true, "i-tsu": true, "sgn-be-fr": true, "sgn-be-nl": true, "sgn-ch-de": true,
	"art-lojban": true, "cel-gaulish": true, "no-bok": true, "no-nyn": true, "zh-guoyu": true,
	"zh-hakka": true, "zh-min": true, "zh-min-nan": true, "zh-xiang": true,
}

func privateUse(subtags []string) bool {
	if len(subtags) == 0 {
		return false
	}
	for _, s := range subtags {
		if !alnum(s, 1, 8) {
			return false
		}
	}
	return true
}

func variant(s string) bool {
	return alnum(s, 5, 8) || len(s) == 4 && s[0] >= '0' && s[0] <= '9' && alnum(s, 4, 4)
}

func alpha(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func alnum(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
