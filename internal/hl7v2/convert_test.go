package hl7v2

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// oruLipids is a realistic lab result from a Hong Kong hospital laboratory:
// an HKID and a hospital number, two reports, every value type, notes and
// escapes.
const oruLipids = "MSH|^~\\&|LIS|QMH LAB^2.16.344.1.1^ISO|EHEALTH|EHEALTH|20261129101500+0800||ORU^R01^ORU_R01|MSG00001|P|2.5.1\r" +
	"PID|1||A123456(3)^^^IMMD^HKID~HN0001^^^QMH&2.16.344.1.2&ISO^MR||CHAN^TAI MAN^^^MR||19800101|M\r" +
	"ORC|RE|PLC1|LAB123\r" +
	"OBR|1|PLC1^QMH|LAB123^QMH LAB^2.16.344.1.3^ISO|24331-1^Lipid panel^LN|||20261128083000|||||||||||||||20261129101000+0800|||F\r" +
	"NTE|1||Fasting sample\r" +
	"OBX|1|NM|2093-3^Cholesterol^LN||5.20|mmol/L^millimole per litre^UCUM|3.0-5.2|H|||F\r" +
	"NTE|1||Repeat in 3 months \\T\\ review diet\r" +
	"OBX|2|SN|2085-9^HDL Cholesterol^LN||>^1.0|mmol/L|>1.0|N|||F|||20261128084500+0800\r" +
	"OBX|3|ST|2089-1^LDL comment^LN||See note\\F\\ calculated||||||C\r" +
	"OBX|4|CWE|5778-6^Color of Urine^LN||371244009^Yellow^SCT||||||P\r" +
	"OBX|5|SN|5196-1^HBsAg titre^LN||^1^:^128||<1:16|A|||F\r" +
	"OBX|6|SN|5000-0^Range result^LN||^2^-^4|10*9/L||L~LL|||F\r" +
	"OBX|7|DT|8665-2^Last menstrual period^LN||20261101||||||F\r" +
	"OBX|8|TX|8251-1^Service comment^LN||line one~line two||||||X\r" +
	"OBR|2||LAB124^QMH LAB^2.16.344.1.3^ISO|2345-7^Glucose^LN|||20261128083000|||||||||||||||20261129101000|||P\r" +
	"OBX|1|NM|2345-7^Glucose^LN||+06.10|mmol/L||N|||P\r"

func convert(t *testing.T, msg string) map[string]any {
	t.Helper()
	m := mustParse(t, msg)
	b, err := ConvertORU(m, Options{})
	if err != nil {
		t.Fatalf("ConvertORU: %v", err)
	}
	return b
}

// entries returns the Bundle's entries by request URL (Patient: by type).
func entries(t *testing.T, b map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, e := range b["entry"].([]any) {
		e := e.(map[string]any)
		req := e["request"].(map[string]any)
		out[req["url"].(string)] = e
	}
	return out
}

// js renders v as JSON, so expectations are written as JSON.
func js(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestConvertLipids(t *testing.T) {
	b := convert(t, oruLipids)
	if b["type"] != "transaction" {
		t.Fatalf("Bundle.type = %v", b["type"])
	}
	es := entries(t, b)
	if len(es) != 12 {
		t.Fatalf("%d entries, want Patient + 2 reports + 9 observations", len(es))
	}
	const obs = "Observation?identifier=urn%3Aoid%3A2.16.344.1.3%7CLAB123-"
	p := es["Patient"]
	patientRef := p["fullUrl"].(string)
	tests := []struct {
		name string
		got  any
		want string
	}{
		{"patient created only if absent, keyed on the HKID", p["request"].(map[string]any)["ifNoneExist"],
			`"identifier=http%3A%2F%2Fwww.immd.gov.hk%2Fhkid%7CA123456%283%29"`},
		{"HKID and hospital number", p["resource"].(map[string]any)["identifier"],
			`[{"system":"http://www.immd.gov.hk/hkid","type":{"coding":[{"code":"NI","display":"National unique individual identifier","system":"http://terminology.hl7.org/CodeSystem/v2-0203"}],"text":"Hong Kong Identity Card"},"use":"official","value":"A123456(3)"},` +
				`{"system":"urn:oid:2.16.344.1.2","type":{"coding":[{"code":"MR","system":"http://terminology.hl7.org/CodeSystem/v2-0203"}]},"value":"HN0001"}]`},
		{"patient name", p["resource"].(map[string]any)["name"], `[{"family":"CHAN","given":["TAI MAN"],"prefix":["MR"]}]`},
		{"NM keeps 5.20 and UCUM", res(es, obs+"1")["valueQuantity"],
			`{"code":"mmol/L","system":"http://unitsofmeasure.org","unit":"millimole per litre","value":5.20}`},
		{"range 3.0-5.2", res(es, obs+"1")["referenceRange"],
			`[{"high":{"code":"mmol/L","system":"http://unitsofmeasure.org","unit":"millimole per litre","value":5.2},"low":{"code":"mmol/L","system":"http://unitsofmeasure.org","unit":"millimole per litre","value":3.0}}]`},
		{"H", res(es, obs+"1")["interpretation"],
			`[{"coding":[{"code":"H","display":"High","system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"}]}]`},
		{"NTE with \\T\\ to note", res(es, obs+"1")["note"], `[{"text":"Repeat in 3 months & review diet"}]`},
		{"OBR-7 as effective", res(es, obs+"1")["effectiveDateTime"], `"2026-11-28T08:30:00+08:00"`},
		{"OBR-22 as issued", res(es, obs+"1")["issued"], `"2026-11-29T10:10:00+08:00"`},
		{"identifier = filler order + set id", res(es, obs+"1")["identifier"], `[{"system":"urn:oid:2.16.344.1.3","value":"LAB123-1"}]`},
		{"SN with comparator", res(es, obs+"2")["valueQuantity"],
			`{"code":"mmol/L","comparator":">","system":"http://unitsofmeasure.org","unit":"mmol/L","value":1.0}`},
		{"range >1.0 is a low", res(es, obs+"2")["referenceRange"],
			`[{"low":{"code":"mmol/L","system":"http://unitsofmeasure.org","unit":"mmol/L","value":1.0}}]`},
		{"OBX-14 wins over OBR-7", res(es, obs+"2")["effectiveDateTime"], `"2026-11-28T08:45:00+08:00"`},
		{"ST with \\F\\", res(es, obs+"3")["valueString"], `"See note| calculated"`},
		{"C is corrected", res(es, obs+"3")["status"], `"corrected"`},
		{"CWE with SCT", res(es, obs+"4")["valueCodeableConcept"],
			`{"coding":[{"code":"371244009","display":"Yellow","system":"http://snomed.info/sct"}],"text":"Yellow"}`},
		{"P is preliminary", res(es, obs+"4")["status"], `"preliminary"`},
		{"SN ratio", res(es, obs+"5")["valueRatio"], `{"denominator":{"value":128},"numerator":{"value":1}}`},
		{"unparsed range kept as text", res(es, obs+"5")["referenceRange"], `[{"text":"<1:16"}]`},
		{"SN range", res(es, obs+"6")["valueRange"],
			`{"high":{"code":"10*9/L","system":"http://unitsofmeasure.org","unit":"10*9/L","value":4},"low":{"code":"10*9/L","system":"http://unitsofmeasure.org","unit":"10*9/L","value":2}}`},
		{"repeating OBX-8", res(es, obs+"6")["interpretation"],
			`[{"coding":[{"code":"L","display":"Low","system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"}]},{"coding":[{"code":"LL","display":"Critical low","system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"}]}]`},
		{"DT", res(es, obs+"7")["valueDateTime"], `"2026-11-01"`},
		{"TX repetitions are lines", res(es, obs+"8")["valueString"], `"line one\nline two"`},
		{"X is cancelled", res(es, obs+"8")["status"], `"cancelled"`},
		{"report code", res(es, "DiagnosticReport?identifier=urn%3Aoid%3A2.16.344.1.3%7CLAB123")["code"],
			`{"coding":[{"code":"24331-1","display":"Lipid panel","system":"http://loinc.org"}],"text":"Lipid panel"}`},
		{"report NTE to conclusion", res(es, "DiagnosticReport?identifier=urn%3Aoid%3A2.16.344.1.3%7CLAB123")["conclusion"], `"Fasting sample"`},
		{"second report preliminary", res(es, "DiagnosticReport?identifier=urn%3Aoid%3A2.16.344.1.3%7CLAB124")["status"], `"preliminary"`},
		{"+06.10 normalised", res(es, "Observation?identifier=urn%3Aoid%3A2.16.344.1.3%7CLAB124-1")["valueQuantity"],
			`{"code":"mmol/L","system":"http://unitsofmeasure.org","unit":"mmol/L","value":6.10}`},
		{"subject", res(es, obs+"7")["subject"], `{"reference":"` + patientRef + `"}`},
	}
	for _, tt := range tests {
		if got := js(t, tt.got); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	dr := res(es, "DiagnosticReport?identifier=urn%3Aoid%3A2.16.344.1.3%7CLAB123")
	results := dr["result"].([]any)
	if len(results) != 8 {
		t.Fatalf("report 1 has %d results, want 8", len(results))
	}
	if results[0].(map[string]any)["reference"] != es[obs+"1"]["fullUrl"] {
		t.Errorf("result[0] %v does not point at the first Observation's fullUrl %v", results[0], es[obs+"1"]["fullUrl"])
	}
}

func res(es map[string]map[string]any, url string) map[string]any {
	e, ok := es[url]
	if !ok {
		return map[string]any{"missing": url}
	}
	return e["resource"].(map[string]any)
}

// A re-sent message makes the very same Bundle: conditional updates on the
// same identifiers, so the server updates instead of duplicating.
func TestConvertIsIdempotent(t *testing.T) {
	a, b := js(t, convert(t, oruLipids)), js(t, convert(t, oruLipids))
	if a != b {
		t.Fatal("two conversions of one message differ")
	}
	for _, e := range convert(t, oruLipids)["entry"].([]any) {
		req := e.(map[string]any)["request"].(map[string]any)
		if req["method"] == "PUT" && !strings.Contains(req["url"].(string), "?identifier=") {
			t.Errorf("PUT %v is not conditional on an identifier", req["url"])
		}
	}
}

// OBX set ids that repeat (as in NIST case 6) cannot key Observations:
// they are numbered by position instead.
func TestConvertDuplicateSetIDs(t *testing.T) {
	msg := header + "PID|||1^^^H^MR\rOBR|1||F9^LAB|X^Y^LN|||||||||||||||||||||F\r" +
		"OBX|1|ST|A^A^LN||a||||||F\rOBX|1|ST|B^B^LN||b||||||F\r"
	es := entries(t, convert(t, msg))
	for _, want := range []string{"F9-1", "F9-2"} {
		found := false
		for url := range es {
			if strings.HasSuffix(url, "%7C"+want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no Observation keyed %s in %v", want, keys(es))
		}
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

const header = "MSH|^~\\&|LIS|LAB|||20260101||ORU^R01|C1|P|2.5.1\r"

func TestConvertValueTypes(t *testing.T) {
	tests := []struct {
		name, typ, value, units string
		key, want               string
	}{
		{"NM integer", "NM", "42", "g/L", "valueQuantity", `{"code":"g/L","system":"http://unitsofmeasure.org","unit":"g/L","value":42}`},
		{"NM negative fraction", "NM", "-.5", "", "valueQuantity", `{"value":-0.5}`},
		{"NM zero", "NM", "0", "", "valueQuantity", `{"value":0}`},
		{"NM zeros", "NM", "000.00", "", "valueQuantity", `{"value":0.00}`},
		{"NM leading zeros", "NM", "-007", "", "valueQuantity", `{"value":-7}`},
		{"NM non-UCUM unit kept as text", "NM", "1", "mg per dl", "valueQuantity", `{"unit":"mg per dl","value":1}`},
		{"NM with ISO+ units", "NM", "1", "mg^^ISO+", "valueQuantity", `{"unit":"mg","value":1}`},
		{"ST", "ST", "positive", "", "valueString", `"positive"`},
		{"FT with line break", "FT", `a\.br\b`, "", "valueString", `"a\nb"`},
		{"CE local code", "CE", "POS^Positive^99LAB", "", "valueCodeableConcept", `{"coding":[{"code":"POS","display":"Positive","system":"https://ehealth.hk/fhir/hl7v2/cs/LAB/99LAB"}],"text":"Positive"}`},
		{"CWE HL7 table", "CWE", "Y^Yes^HL70136", "", "valueCodeableConcept", `{"coding":[{"code":"Y","display":"Yes","system":"http://terminology.hl7.org/CodeSystem/v2-0136"}],"text":"Yes"}`},
		{"CWE text only", "CWE", "^^^^^^^^free text", "", "valueCodeableConcept", `{"text":"free text"}`},
		{"SN plain", "SN", "^182", "", "valueQuantity", `{"value":182}`},
		{"SN <=", "SN", "<=^0.5", "", "valueQuantity", `{"comparator":"<=","value":0.5}`},
		{"SN 2+", "SN", "^2^+", "", "valueString", `"2+"`},
		{"SN ratio /", "SN", "^1^/^2", "", "valueRatio", `{"denominator":{"value":2},"numerator":{"value":1}}`},
		{"TS with seconds and offset", "TS", "20260101123045-0500", "", "valueDateTime", `"2026-01-01T12:30:45-05:00"`},
		{"TS without offset is Hong Kong time", "TS", "202601011230", "", "valueDateTime", `"2026-01-01T12:30:00+08:00"`},
		{"DTM month", "DTM", "202601", "", "valueDateTime", `"2026-01"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := header + "PID|||1^^^H^MR\rOBR|1||F1^LAB|X^Y^LN|||||||||||||||||||||F\r" +
				"OBX|1|" + tt.typ + "|C^C^LN||" + tt.value + "|" + tt.units + "|||||F\r"
			o := res(entries(t, convert(t, msg)), "Observation?identifier=https%3A%2F%2Fehealth.hk%2Ffhir%2Fhl7v2%2Fid%2FLAB%2FLAB%7CF1-1")
			if got := js(t, o[tt.key]); got != tt.want {
				t.Errorf("%s = %s, want %s (resource %s)", tt.key, got, tt.want, js(t, o))
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	pid := "PID|||1^^^H^MR\r"
	obr := "OBR|1||F1^LAB|X^Y^LN|||||||||||||||||||||F\r"
	tests := []struct {
		name, msg string
		code      Code
		ack       string
		where     string
	}{
		{"wrong message type", "MSH|^~\\&|LIS|LAB|||20260101||ADT^A01|C1|P|2.5.1\r" + pid, CodeUnsupportedType, "AR", "MSH-9.1"},
		{"wrong event", "MSH|^~\\&|LIS|LAB|||20260101||ORU^R30|C1|P|2.5.1\r" + pid, CodeUnsupportedEvent, "AR", "MSH-9.2"},
		{"no control id", "MSH|^~\\&|LIS|LAB|||20260101||ORU^R01||P|2.5.1\r", CodeRequiredMissing, "AR", "MSH-10"},
		{"version 3", "MSH|^~\\&|LIS|LAB|||20260101||ORU^R01|C1|P|3.0\r", CodeUnsupportedVersion, "AR", "MSH-12"},
		{"no PID", header + obr, CodeSegmentSequence, "AE", "OBR (segment 2)"},
		{"missing OBR", header + pid, CodeSegmentSequence, "AE", "OBR:"},
		{"OBX before OBR", header + pid + "OBX|1|NM|A^A^LN||1||||||F\r", CodeSegmentSequence, "AE", "OBX (segment 3)"},
		{"bad numeric", header + pid + obr + "OBX|1|ST|A^A^LN||x||||||F\rOBX|2|NM|B^B^LN||12,5|mg|||||F\r", CodeDataType, "AE", "OBX-5 (segment 5)"},
		{"a lone point", header + pid + obr + "OBX|1|NM|A^A^LN||.||||||F\r", CodeDataType, "AE", "OBX-5 (segment 4)"},
		{"bad SN", header + pid + obr + "OBX|1|SN|A^A^LN||~^1||||||F\r", CodeDataType, "AE", "OBX-5 (segment 4)"},
		{"NM repeated", header + pid + obr + "OBX|1|NM|A^A^LN||1~2||||||F\r", CodeDataType, "AE", "OBX-5 (segment 4)"},
		{"unsupported value type", header + pid + obr + "OBX|1|ED|A^A^LN||^AP^PDF^Base64^AAAA||||||F\r", CodeTableValue, "AE", "OBX-2 (segment 4)"},
		{"no result status", header + pid + obr + "OBX|1|ST|A^A^LN||x\r", CodeRequiredMissing, "AE", "OBX-11 (segment 4)"},
		{"bad result status", header + pid + obr + "OBX|1|ST|A^A^LN||x||||||Q\r", CodeTableValue, "AE", "OBX-11 (segment 4)"},
		{"no OBX-3", header + pid + obr + "OBX|1|ST|||x||||||F\r", CodeRequiredMissing, "AE", "OBX-3"},
		{"no filler order number", header + pid + "OBR|1|P1||X^Y^LN|||||||||||||||||||||F\r", CodeRequiredMissing, "AE", "OBR-3 (segment 3)"},
		{"bad OBR-25", header + pid + "OBR|1||F1|X^Y^LN|||||||||||||||||||||Q\r", CodeTableValue, "AE", "OBR-25"},
		{"bad OBR-7", header + pid + "OBR|1||F1|X^Y^LN|||2026-01-01||||||||||||||||||F\r", CodeDataType, "AE", "OBR-7"},
		{"bad TS value", header + pid + obr + "OBX|1|TS|A^A^LN||20261399||||||F\r", CodeDataType, "AE", "OBX-5 (segment 4)"},
		{"no PID-3", header + "PID|1||\r" + obr, CodeRequiredMissing, "AE", "PID-3"},
		{"bad HKID check digit", header + "PID|||A123456(4)^^^IMMD^HKID\r" + obr, CodeDataType, "AE", "PID-3.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ConvertORU(mustParse(t, tt.msg), Options{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Code != tt.code || e.AckCode() != tt.ack || !strings.HasPrefix(e.Error(), tt.where) {
				t.Errorf("err = %q (code %d, %s), want code %d, %s, at %q", e, e.Code, e.AckCode(), tt.code, tt.ack, tt.where)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	msg := header + "PID|||123^^^QMH^PI\rOBR|1||F1^LAB|X^Y^LOCAL|||||||||||||||||||||F\r"
	m := mustParse(t, msg)
	b, err := ConvertORU(m, Options{
		Authorities:   map[string]string{"QMH": "https://ha.org.hk/sid/qmh-pn"},
		CodingSystems: map[string]string{"LOCAL": "https://ha.org.hk/cs/lab"},
	})
	if err != nil {
		t.Fatal(err)
	}
	es := entries(t, b)
	if got := js(t, res(es, "Patient")["identifier"]); !strings.Contains(got, `"system":"https://ha.org.hk/sid/qmh-pn"`) {
		t.Errorf("patient identifier %s does not use the configured authority", got)
	}
	for url, e := range es {
		if strings.HasPrefix(url, "DiagnosticReport") {
			got := e["resource"].(map[string]any)["code"]
			want := map[string]any{"coding": []any{map[string]any{"code": "X", "display": "Y", "system": "https://ha.org.hk/cs/lab"}}, "text": "Y"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("code = %v, want %v", got, want)
			}
		}
	}
}

// Two PATIENT_RESULT groups: two patients, or one patient twice (one
// Patient entry, as a transaction allows each fullUrl once).
func TestConvertPatientGroups(t *testing.T) {
	obr := func(f string) string { return "OBR|1||" + f + "^LAB|X^Y^LN" + strings.Repeat("|", 21) + "F\r" }
	tests := []struct {
		name, pid2 string
		patients   int
	}{
		{"two patients", "PID|||2^^^H^MR\r", 2},
		{"one patient twice", "PID|||1^^^H^MR\r", 1},
	}
	for _, tt := range tests {
		b := convert(t, header+"PID|||1^^^H^MR\r"+obr("F1")+tt.pid2+obr("F2"))
		n, subjects := 0, map[any]bool{}
		for _, e := range b["entry"].([]any) {
			r := e.(map[string]any)["resource"].(map[string]any)
			if r["resourceType"] == "Patient" {
				n++
			} else {
				subjects[r["subject"].(map[string]any)["reference"]] = true
			}
		}
		if n != tt.patients || len(subjects) != tt.patients {
			t.Errorf("%s: %d Patient entries, reports of %d subjects; want %d", tt.name, n, len(subjects), tt.patients)
		}
	}
}
