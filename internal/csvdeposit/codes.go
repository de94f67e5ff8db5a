package csvdeposit

import (
	"fmt"
	"regexp"
	"strings"
)

// The eHealth+ local code systems for codes no international system has
// (or a clinic does not use).
const (
	LocalVaccineSystem = "https://ehealth.hk/fhir/CodeSystem/vaccine"
	LocalDrugSystem    = "https://ehealth.hk/fhir/CodeSystem/drug"
)

// codeSystem is a code system a template's codes may come from.
type codeSystem struct {
	key, url, name string
	// valid checks a code's form; format says it for people.
	valid  func(code string) bool
	format string
}

var (
	snomed = codeSystem{key: "snomed", url: "http://snomed.info/sct", name: "SNOMED CT", valid: validSCTID,
		format: "6 to 18 digits ending in their check digit, e.g. 91936005"}
	loinc = codeSystem{key: "loinc", url: "http://loinc.org", name: "LOINC", valid: validLOINC,
		format: "digits, a hyphen and the check digit, e.g. 8480-6"}
	cvx = codeSystem{key: "cvx", url: "http://hl7.org/fhir/sid/cvx", name: "CVX", valid: regexp.MustCompile(`^[0-9]{1,3}$`).MatchString,
		format: "1 to 3 digits, e.g. 140"}
	atc = codeSystem{key: "atc", url: "http://www.whocc.no/atc", name: "ATC", valid: regexp.MustCompile(`^[A-Z](?:[0-9]{2}(?:[A-Z](?:[A-Z](?:[0-9]{2})?)?)?)?$`).MatchString,
		format: "an ATC code such as J01CA04"}
	rxnorm = codeSystem{key: "rxnorm", url: "http://www.nlm.nih.gov/research/umls/rxnorm", name: "RxNorm", valid: regexp.MustCompile(`^[0-9]{1,10}$`).MatchString,
		format: "an RxNorm concept id (digits), e.g. 723"}
	localVaccine = codeSystem{key: "local", url: LocalVaccineSystem, name: "the eHealth+ vaccine list", valid: localCode,
		format: "letters, digits, '.', '_' or '-', up to 64"}
	localDrug = codeSystem{key: "local", url: LocalDrugSystem, name: "the eHealth+ drug list", valid: localCode,
		format: "letters, digits, '.', '_' or '-', up to 64"}
)

var localCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`).MatchString

// codeField is a coded value written in three columns: the code, its
// system (a short name or the system's URL; def when empty) and the name
// people know it by.
type codeField struct {
	code, system, name string
	systems            []codeSystem // the first is the default
}

// systemNames lists a field's systems for a message: "cvx (default), local".
func (f codeField) systemNames() string {
	var out []string
	for i, s := range f.systems {
		n := s.key
		if i == 0 {
			n += " (default)"
		}
		out = append(out, n)
	}
	return strings.Join(out, ", ")
}

// coded reads a code field as a CodeableConcept: nil when the code is
// empty or reported bad.
func (r *row) coded(f codeField) map[string]any {
	code := r.get(f.code)
	sys, ok := r.codeSystem(f)
	if code == "" || !ok {
		return nil
	}
	display, ok := r.checkCode(f.code, sys, code)
	if !ok {
		return nil
	}
	coding := map[string]any{"system": sys.url, "code": code}
	if display != "" {
		coding["display"] = display
	}
	cc := map[string]any{"coding": []any{coding}}
	if t := r.text(f.name, 200); t != "" {
		cc["text"] = t
	}
	return cc
}

// codeSystem is the system a field's system column names.
func (r *row) codeSystem(f codeField) (codeSystem, bool) {
	s := r.get(f.system)
	if s == "" {
		return f.systems[0], true
	}
	for _, sys := range f.systems {
		if strings.EqualFold(s, sys.key) || s == sys.url {
			return sys, true
		}
	}
	r.fail(f.system, CodeSystem, fmt.Sprintf("%q is not a code system this column takes: %s", truncate(s, 60), f.systemNames()),
		fmt.Sprintf("「%s」不是此欄接受的編碼系統：%s", truncate(s, 60), f.systemNames()))
	return codeSystem{}, false
}

// checkCode checks code in sys: against the terminology service when it
// holds the whole code system, else its form. It returns the code's
// display when the terminology service knows it.
func (r *row) checkCode(col string, sys codeSystem, code string) (string, bool) {
	if r.p.codes != nil {
		if cs, ok := r.p.codes.CodeSystem(sys.url); ok && cs.Content == "complete" {
			c, ok := cs.Lookup(code)
			if !ok {
				r.fail(col, CodeUnknown, fmt.Sprintf("code %q is not in %s", truncate(code, 40), sys.name), fmt.Sprintf("編碼「%s」不在 %s 之中", truncate(code, 40), sys.name))
				return "", false
			}
			return c.Display, true
		}
	}
	if !sys.valid(code) {
		r.fail(col, CodeUnknown, fmt.Sprintf("%q is not a %s code: expected %s", truncate(code, 40), sys.name, sys.format),
			fmt.Sprintf("「%s」不是有效的 %s 編碼：應為 %s", truncate(code, 40), sys.name, sys.format))
		return "", false
	}
	return "", true
}

// validLOINC checks a LOINC code's form and its mod-10 check digit (the
// Luhn algorithm over the digits before the hyphen).
func validLOINC(code string) bool {
	body, check, ok := strings.Cut(code, "-")
	if !ok || len(body) < 1 || len(body) > 7 || len(check) != 1 || !digits(body) || !digits(check) {
		return false
	}
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10-sum%10)%10 == int(check[0]-'0')
}

// The Verhoeff tables (dihedral group D5 multiplication and permutation).
var (
	verhoeffD = [10][10]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}
	verhoeffP = [8][10]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}}
)

// validSCTID checks a SNOMED CT identifier: 6 to 18 digits, no leading
// zero, a partition identifier of a concept (00 or 10) and the Verhoeff
// check digit (SNOMED CT Technical Implementation Guide, 6.1–6.3).
func validSCTID(id string) bool {
	if len(id) < 6 || len(id) > 18 || !digits(id) || id[0] == '0' {
		return false
	}
	if part := id[len(id)-3 : len(id)-1]; part != "00" && part != "10" {
		return false
	}
	c := 0
	for i := 0; i < len(id); i++ {
		c = verhoeffD[c][verhoeffP[i%8][id[len(id)-1-i]-'0']]
	}
	return c == 0
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
