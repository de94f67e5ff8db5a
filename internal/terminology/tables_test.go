package terminology

import (
	"sync"
	"testing"
	"time"
)

var (
	loadOnce   sync.Once
	loaded     *Tables
	loadErr    error
	loadedTime time.Duration
)

// tables loads the embedded tables once per test binary.
func tables(t testing.TB) *Tables {
	t.Helper()
	loadOnce.Do(func() {
		start := time.Now()
		loaded, loadErr = Load()
		loadedTime = time.Since(start)
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

func TestLoadIsFast(t *testing.T) {
	tables(t)
	t.Logf("Load took %v", loadedTime)
	// Generous against the 100 ms budget: -race and loaded CI machines are slow.
	if loadedTime > 300*time.Millisecond && !testing.Short() {
		t.Errorf("Load took %v, want < 100ms", loadedTime)
	}
}

func TestCheckCode(t *testing.T) {
	const (
		gender    = "http://hl7.org/fhir/ValueSet/administrative-gender"
		genderSys = "http://hl7.org/fhir/administrative-gender"
	)
	tests := []struct {
		name                string
		valueSet, sys, code string
		member, known       bool
	}{
		{"gender female", gender, genderSys, "female", true, true},
		{"gender any system", gender, "", "female", true, true},
		{"gender with version", gender + "|4.0.1", genderSys, "male", true, true},
		{"gender woman", gender, genderSys, "woman", false, true},
		{"gender wrong system", gender, "http://example.org/gender", "female", false, true},
		{"gender case matters", gender, "", "Female", false, true},
		{"observation status final", "http://hl7.org/fhir/ValueSet/observation-status", "", "final", true, true},
		{"observation status done", "http://hl7.org/fhir/ValueSet/observation-status", "", "done", false, true},
		// is-a filter: v3 ActCode descendants of _ActAccountCode.
		{"is-a member", "http://hl7.org/fhir/ValueSet/account-type", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "PBILLACCT", true, true},
		{"is-a abstract root", "http://hl7.org/fhir/ValueSet/account-type", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "_ActAccountCode", false, true},
		{"is-a outside", "http://hl7.org/fhir/ValueSet/account-type", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", false, true},
		// is-not-a filter on a v2 table.
		{"v2 is-not-a member", "http://hl7.org/fhir/ValueSet/patient-contactrelationship", "http://terminology.hl7.org/CodeSystem/v2-0131", "E", true, true},
		{"v2 is-not-a excluded", "http://hl7.org/fhir/ValueSet/patient-contactrelationship", "http://terminology.hl7.org/CodeSystem/v2-0131", "O", false, true},
		{"v3 marital status", "http://hl7.org/fhir/ValueSet/marital-status", "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "M", true, true},
		{"v3 null flavor import", "http://hl7.org/fhir/ValueSet/marital-status", "http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "UNK", true, true},
		{"v2 table", "http://terminology.hl7.org/ValueSet/v2-0203", "http://terminology.hl7.org/CodeSystem/v2-0203", "MR", true, true},
		// Not enumerable, but decided by the grammar of the system.
		{"mime type: accepted unchecked", "http://hl7.org/fhir/ValueSet/mimetypes", "urn:ietf:bcp:13", "xml", false, false},
		{"language", "http://hl7.org/fhir/ValueSet/all-languages", "urn:ietf:bcp:47", "zh-Hant-HK", true, true},
		{"bad language", "http://hl7.org/fhir/ValueSet/all-languages", "urn:ietf:bcp:47", "en_US", false, true},
		{"ucum unit", "http://hl7.org/fhir/ValueSet/ucum-units", "http://unitsofmeasure.org", "mg/dL", true, true},
		{"bad ucum unit", "http://hl7.org/fhir/ValueSet/ucum-units", "http://unitsofmeasure.org", "mgg", false, true},
		{"ucum unit, wrong system", "http://hl7.org/fhir/ValueSet/ucum-units", "http://example.org/units", "mg", false, true},
		{"currency", "http://hl7.org/fhir/ValueSet/currencies", "urn:iso:std:iso:4217", "HKD", true, true},
		{"bad currency", "http://hl7.org/fhir/ValueSet/currencies", "urn:iso:std:iso:4217", "hk$", false, true},
		// SNOMED CT is neither held nor checkable: undecided.
		{"snomed whole system", "http://hl7.org/fhir/ValueSet/clinical-findings", "http://snomed.info/sct", "38341003", false, false},
		{"listed UCUM codes", "http://hl7.org/fhir/ValueSet/units-of-time", "http://unitsofmeasure.org", "wk", true, true},
		{"listed UCUM codes, other unit", "http://hl7.org/fhir/ValueSet/units-of-time", "http://unitsofmeasure.org", "mg", false, true},
		{"unknown value set", "http://example.org/ValueSet/nope", "", "x", false, false},
	}
	tb := tables(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			member, known := tb.CheckCode(tc.valueSet, tc.sys, tc.code)
			if member != tc.member || known != tc.known {
				t.Errorf("CheckCode(%q, %q, %q) = %v, %v; want %v, %v", tc.valueSet, tc.sys, tc.code, member, known, tc.member, tc.known)
			}
		})
	}
}

func TestCheckMIMEType(t *testing.T) {
	for code, ok := range map[string]bool{"text/plain": true, "application/fhir+json": true, "text/plain; charset=UTF-8": true,
		`application/dicom; variant="DICOM WADO-RS"`: true, "xml": false, "text plain": false, "/json": false} {
		if err := CheckMIMEType(code); (err == nil) != ok {
			t.Errorf("CheckMIMEType(%q) = %v, want ok=%v", code, err, ok)
		}
	}
}

func TestLanguageTags(t *testing.T) {
	for tag, ok := range map[string]bool{"en": true, "zh-HK": true, "zh-Hant-HK": true, "yue-HK": true, "en-GB-oed": true, "x-klingon": true,
		"de-CH-1901": true, "en-a-bbb-x-a-ccc": true, "": false, "e": false, "en_US": false, "en--US": false, "zh-HK-": false, "toolonglanguage": false, "en-a": false} {
		if err := CheckLanguageTag(tag); (err == nil) != ok {
			t.Errorf("CheckLanguageTag(%q) = %v, want ok=%v", tag, err, ok)
		}
	}
}

func TestNotEnumerableReason(t *testing.T) {
	tests := map[string]string{
		"http://hl7.org/fhir/ValueSet/mimetypes":  "code system urn:ietf:bcp:13 is not enumerated",
		"http://hl7.org/fhir/ValueSet/currencies": "code system urn:iso:std:iso:4217 is not enumerated",
		"http://loinc.org/vs/LL379-9":             "value set http://loinc.org/vs/LL379-9 is not in the FHIR R4 definitions",
	}
	tb := tables(t)
	for url, want := range tests {
		vs, ok := tb.ValueSet(url)
		if !ok || vs.NotEnumerable != want {
			t.Errorf("ValueSet(%s) = %+v, %v; want NotEnumerable %q", url, vs, ok, want)
		}
	}
}

func TestValueSetCodes(t *testing.T) {
	tb := tables(t)
	codes, ok := tb.ValueSetCodes("http://hl7.org/fhir/ValueSet/administrative-gender")
	if !ok {
		t.Fatal("administrative-gender not enumerable")
	}
	want := []Concept{
		{"http://hl7.org/fhir/administrative-gender", "male", "Male"},
		{"http://hl7.org/fhir/administrative-gender", "female", "Female"},
		{"http://hl7.org/fhir/administrative-gender", "other", "Other"},
		{"http://hl7.org/fhir/administrative-gender", "unknown", "Unknown"},
	}
	if len(codes) != len(want) {
		t.Fatalf("got %v, want %v", codes, want)
	}
	for i := range want {
		if codes[i] != want[i] {
			t.Errorf("codes[%d] = %v, want %v", i, codes[i], want[i])
		}
	}
	if _, ok := tb.ValueSetCodes("http://hl7.org/fhir/ValueSet/mimetypes"); ok {
		t.Error("mimetypes should not be enumerable")
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct {
		system, code, lang string
		want               string
		ok                 bool
	}{
		{"http://hl7.org/fhir/administrative-gender", "female", "", "Female", true},
		{"http://hl7.org/fhir/administrative-gender", "female", "fr", "Female", true}, // no designation: default
		{"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "M", "", "Married", true},
		{"http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "", "Medical record number", true},
		{"http://hl7.org/fhir/administrative-gender", "woman", "", "", false},
		{"http://snomed.info/sct", "38341003", "", "", false},
	}
	tb := tables(t)
	for _, tc := range tests {
		got, ok := tb.Display(tc.system, tc.code, tc.lang)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Display(%s, %s, %q) = %q, %v; want %q, %v", tc.system, tc.code, tc.lang, got, ok, tc.want, tc.ok)
		}
	}
}

// TestDisplayLanguage finds a concept with a designation and asks for it by
// language, by base language and by an unknown language.
func TestDisplayLanguage(t *testing.T) {
	tb := tables(t)
	for _, u := range tb.CodeSystemURLs() {
		cs, _ := tb.CodeSystem(u)
		for _, c := range cs.Concepts {
			for _, d := range c.Designations {
				if d.Language == "" || d.Value == c.Display {
					continue
				}
				if got, _ := tb.Display(u, c.Code, d.Language); got != c.display(d.Language) {
					t.Errorf("Display(%s, %s, %s) = %q", u, c.Code, d.Language, got)
				}
				if got, _ := tb.Display(u, c.Code, d.Language+"-XX"); got == c.Display && d.Language != "" {
					t.Errorf("Display(%s, %s, %s-XX) fell back to the default, want the %s designation", u, c.Code, d.Language, d.Language)
				}
				if got, _ := tb.Display(u, c.Code, "xx"); got != c.Display {
					t.Errorf("Display(%s, %s, xx) = %q, want default %q", u, c.Code, got, c.Display)
				}
				return
			}
		}
	}
	t.Fatal("no concept with a designation")
}

func TestHierarchy(t *testing.T) {
	tb := tables(t)
	cs, ok := tb.CodeSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode")
	if !ok {
		t.Fatal("v3-ActCode missing")
	}
	root, ok := cs.Lookup("_ActAccountCode")
	if !ok || !root.Abstract || len(root.Children) == 0 {
		t.Fatalf("_ActAccountCode = %+v, %v; want abstract with children", root, ok)
	}
	child, _ := cs.Lookup("PBILLACCT")
	if len(child.Parents) == 0 || cs.Concepts[child.Parents[0]].Code != "_ActAccountCode" {
		t.Errorf("PBILLACCT parents = %v, want _ActAccountCode", child.Parents)
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckCode(b *testing.B) {
	tb := tables(b)
	for b.Loop() {
		tb.CheckCode("http://hl7.org/fhir/ValueSet/administrative-gender", "", "female")
	}
}
