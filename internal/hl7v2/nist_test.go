package hl7v2

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/terminology"
	"github.com/ehealthplus/ehealth/internal/validate"
)

// nistDir holds the NIST ELR ORU^R01 test cases (v2.5.1).
const nistDir = sharedDir + "/nist-elr-oru-r01"

// readShared reads a shared message, skipping the test when ../shared is
// absent.
func readShared(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(sharedDir, name))
	if os.IsNotExist(err) {
		t.Skip("no HL7 v2 samples at " + sharedDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// byType groups a Bundle's resources by type, in entry order.
func byType(b map[string]any) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, e := range b["entry"].([]any) {
		r := e.(map[string]any)["resource"].(map[string]any)
		out[r["resourceType"].(string)] = append(out[r["resourceType"].(string)], r)
	}
	return out
}

// TestNISTFieldByField checks NIST test cases against their conversion,
// element by element, as read from the messages: the patient's
// identifiers (PID-3 CX with an ISO assigning authority), the report
// (OBR-3, -4, -7, -22, -25 with their zones), the results (OBX values,
// units, reference ranges, abnormal flags, status, OBX-14) and the
// specimen (SPM-4).
func TestNISTFieldByField(t *testing.T) {
	const (
		mpi  = "urn:oid:2.16.840.1.113883.19.3.2.1"
		labs = "urn:oid:2.16.840.1.113883.19.3.1.6"
	)
	tests := []struct {
		file string
		want map[string]string // "Type[i].element" → JSON
	}{
		{"ORU_R01_2.5.1_SampleTestCase1.hl7", map[string]string{
			"Patient[0].identifier":                 `[{"system":"` + mpi + `","type":{"coding":[{"code":"MR","system":"http://terminology.hl7.org/CodeSystem/v2-0203"}]},"value":"9817566735"}]`,
			"Patient[0].name":                       `[{"family":"Johnson","given":["Philip"]}]`,
			"Patient[0].birthDate":                  `"2007-05-26"`,
			"Patient[0].gender":                     `"male"`,
			"DiagnosticReport[0].identifier":        `[{"system":"` + labs + `","value":"9700123"}]`,
			"DiagnosticReport[0].status":            `"final"`,
			"DiagnosticReport[0].effectiveDateTime": `"2008-08-15T10:30:00-07:00"`,
			"DiagnosticReport[0].issued":            `"2008-08-18T18:00:00-07:00"`,
			"Observation[0].code":                   `{"coding":[{"code":"10368-9","display":"Lead BldC-mCnc","system":"http://loinc.org"}],"text":"Lead BldC-mCnc"}`,
			"Observation[0].valueQuantity":          `{"code":"ug/dL","system":"http://unitsofmeasure.org","unit":"micro-gram per deci-liter","value":50}`,
			"Observation[0].referenceRange":         `[{"text":"<9 mcg/dL:  Acceptable background lead exposure"}]`,
			"Observation[0].interpretation":         `[{"coding":[{"code":"H","display":"High","system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"}]}]`,
			"Observation[0].status":                 `"final"`,
			"Observation[0].effectiveDateTime":      `"2008-08-15T10:30:00-07:00"`,
			"Observation[0].identifier":             `[{"system":"` + labs + `","value":"9700123-1"}]`,
			"Specimen[0].type":                      `{"coding":[{"code":"122554006","display":"Capillary blood specimen","system":"http://snomed.info/sct"},{"code":"BLDC","display":"Blood capillary","system":"http://terminology.hl7.org/CodeSystem/v2-0070"}],"text":"Capillary blood specimen"}`,
			"Specimen[0].identifier":                `[{"system":"` + labs + `","value":"9700123-S1"}]`,
		}},
		// A correction: OBR-25 and OBX-11 C, units in lower case, the
		// range repeating them.
		{"ORU_R01_2.5.1_SampleTestCase3.hl7", map[string]string{
			"DiagnosticReport[0].status":    `"corrected"`,
			"Observation[0].status":         `"corrected"`,
			"Observation[0].valueQuantity":  `{"code":"ug/dl","system":"http://unitsofmeasure.org","unit":"micro-gram per deci-liter","value":25}`,
			"Observation[0].referenceRange": `[{"high":{"code":"ug/dl","system":"http://unitsofmeasure.org","unit":"micro-gram per deci-liter","value":10}}]`,
		}},
		// A text result; times without an offset are Hong Kong time.
		{"ORU_R01_2.5.1_SampleTestCase4.hl7", map[string]string{
			"Patient[0].gender":                     `"female"`,
			"DiagnosticReport[0].effectiveDateTime": `"2010-08-02T15:00:00+08:00"`,
			"DiagnosticReport[0].issued":            `"2010-08-02T16:30:00+08:00"`,
			"Observation[0].valueString":            `"Isolated"`,
			"Observation[0].effectiveDateTime":      `"2008-08-02T15:00:00+08:00"`,
			"Observation[0].interpretation":         `null`,
			"Specimen[0].type":                      `{"coding":[{"code":"122555007","display":"Venous blood specimen","system":"http://snomed.info/sct"},{"code":"BLDV","display":"Blood venous","system":"http://terminology.hl7.org/CodeSystem/v2-0070"}],"text":"Venous blood specimen"}`,
		}},
		// A free-text range is kept as text; "iU/mL" is not UCUM (that
		// is [iU]/mL), so the unit is kept as text only.
		{"ORU_R01_2.5.1_SampleTestCase5.hl7", map[string]string{
			"Observation[0].valueQuantity":  `{"unit":"international units per mililiter","value":850000}`,
			"Observation[0].referenceRange": `[{"text":"High Viral Load > or = 850000iU/mL"}]`,
		}},
		// Three OBX with the same set id: numbered by position, each
		// pointing at the one specimen.
		{"ORU_R01_2.5.1_SampleTestCase6.hl7", map[string]string{
			"Observation[0].identifier":  `[{"system":"` + labs + `","value":"2233817-1"}]`,
			"Observation[2].identifier":  `[{"system":"` + labs + `","value":"2233817-3"}]`,
			"Observation[2].valueString": `"Not Isolated"`,
			"Observation[1].code":        `{"coding":[{"code":"20995-1","display":"Salmonella","system":"http://loinc.org"}],"text":"Salmonella"}`,
			"Specimen[0].identifier":     `[{"system":"` + labs + `","value":"2233817-S1"}]`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b := convert(t, string(readShared(t, "nist-elr-oru-r01/"+tc.file)))
			res := byType(b)
			for path, want := range tc.want {
				typ, elem, i := splitPath(t, path)
				if i >= len(res[typ]) {
					t.Errorf("%s: no %s[%d]", path, typ, i)
					continue
				}
				if got := js(t, res[typ][i][elem]); got != want {
					t.Errorf("%s =\n %s\nwant\n %s", path, got, want)
				}
			}
			// Every result and the report point at the patient and the
			// specimen the message names.
			patient := js(t, map[string]any{"reference": firstFullURL(b, "Patient")})
			specimen := js(t, map[string]any{"reference": firstFullURL(b, "Specimen")})
			for _, o := range append(res["Observation"], res["DiagnosticReport"]...) {
				if js(t, o["subject"]) != patient {
					t.Errorf("%s subject %s, want %s", o["resourceType"], js(t, o["subject"]), patient)
				}
			}
			for _, o := range res["Observation"] {
				if js(t, o["specimen"]) != specimen {
					t.Errorf("Observation specimen %s, want %s", js(t, o["specimen"]), specimen)
				}
			}
			if got := js(t, res["DiagnosticReport"][0]["specimen"]); got != "["+specimen+"]" {
				t.Errorf("DiagnosticReport specimen %s", got)
			}
			if n := len(res["DiagnosticReport"][0]["result"].([]any)); n != len(res["Observation"]) {
				t.Errorf("the report lists %d results of %d", n, len(res["Observation"]))
			}
		})
	}
}

// splitPath reads "Type[i].element".
func splitPath(t *testing.T, path string) (typ, elem string, i int) {
	t.Helper()
	head, elem, ok := strings.Cut(path, ".")
	typ, idx, ok2 := strings.Cut(strings.TrimSuffix(head, "]"), "[")
	i, err := strconv.Atoi(idx)
	if !ok || !ok2 || err != nil {
		t.Fatalf("bad path %q", path)
	}
	return typ, elem, i
}

// firstFullURL is the fullUrl of the Bundle's first resource of type typ.
func firstFullURL(b map[string]any, typ string) string {
	for _, e := range b["entry"].([]any) {
		e := e.(map[string]any)
		if e["resource"].(map[string]any)["resourceType"] == typ {
			return e["fullUrl"].(string)
		}
	}
	return ""
}

// TestSharedBundlesValid: every resource of every converted shared
// message passes the base R4 validator (structure, bindings, invariants).
func TestSharedBundlesValid(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedDir, "*", "*.hl7"))
	if len(files) == 0 {
		t.Skip("no HL7 v2 samples at " + sharedDir)
	}
	tables, err := terminology.Load()
	if err != nil {
		t.Fatal(err)
	}
	v := validate.New(tables)
	checked := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(raw)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		b, err := ConvertORU(m, Options{})
		if err != nil {
			continue // TestSharedSamples states which do not convert and why
		}
		for i, e := range b["entry"].([]any) {
			r := e.(map[string]any)["resource"].(map[string]any)
			if err := v.Validate(r); err != nil {
				t.Errorf("%s: entry %d (%s): %v", filepath.Base(f), i, r["resourceType"], err)
			}
		}
		checked++
	}
	if checked < 7 {
		t.Errorf("only %d messages converted", checked)
	}
}
