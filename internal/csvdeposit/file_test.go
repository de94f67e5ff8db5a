package csvdeposit

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/terminology"
)

// problemAt reports whether the report has a problem of code at row and
// column.
func problemAt(r Report, row int, column string, code Code) bool {
	for _, p := range r.Problems {
		if p.Row == row && p.Column == column && p.Code == code {
			return true
		}
	}
	return false
}

// A file with an error stores nothing; with KeepValid the valid rows are
// deposited, with only their citizens, and the report lists the rejected.
func TestKeepValid(t *testing.T) {
	body := file(t, Immunisations,
		map[string]string{"record_id": "R1"},
		map[string]string{"record_id": "R2", "id_number": "E364912(5)", "family_name": "WONG", "vaccine_code": "FLU"},
		map[string]string{"record_id": "R3", "date_given": "2026-11-01", "dose_number": "2"},
	)
	res := parse(t, Immunisations, body, opts())
	if res.Bundle != nil || res.Report.Accepted != 2 || res.Report.Rejected != 1 || !problemAt(res.Report, 3, "vaccine_code", CodeUnknown) {
		t.Fatalf("without KeepValid: bundle %v, report %+v", res.Bundle != nil, res.Report)
	}
	o := opts()
	o.KeepValid = true
	res = parse(t, Immunisations, body, o)
	if got := len(records(res.Bundle, "Immunization")); got != 2 {
		t.Fatalf("with KeepValid: %d records, want rows 2 and 4", got)
	}
	pts := records(res.Bundle, "Patient")
	if len(pts) != 1 || js(t, pts[0]["name"]) != `[{"family":"CHAN","given":["TAI MAN"],"use":"official"}]` {
		t.Errorf("Patients %s, want only CHAN's (WONG's row was rejected)", js(t, pts))
	}
	if !problemAt(res.Report, 3, "vaccine_code", CodeUnknown) || res.Report.Rejected != 1 {
		t.Errorf("the report does not list the rejected row: %+v", res.Report)
	}
	// The same file makes the same Bundle: fullUrls are name-based.
	again := parse(t, Immunisations, body, o)
	if !reflect.DeepEqual(again.Bundle, res.Bundle) {
		t.Error("the same file made another Bundle")
	}
}

// Rows about one citizen share one Patient; rows that disagree about
// them, and a record id used twice, are errors of the later row.
func TestPatientsAndRecordIDs(t *testing.T) {
	body := file(t, VitalSigns,
		map[string]string{"record_id": "V1"},
		map[string]string{"record_id": "V2", "id_number": "a 123456 3", "loinc_code": "8867-4", "value": "72", "unit": "/min"},
		map[string]string{"record_id": "V3", "id_number": "AB987654(3)", "family_name": "LEE", "patient_number": "P2"},
	)
	res := parse(t, VitalSigns, body, opts())
	if len(res.Report.Problems) != 0 || len(records(res.Bundle, "Patient")) != 2 || len(records(res.Bundle, "Observation")) != 3 {
		t.Fatalf("problems %+v; %d Patients, %d Observations", res.Report.Problems, len(records(res.Bundle, "Patient")), len(records(res.Bundle, "Observation")))
	}
	obs := records(res.Bundle, "Observation")
	if obs[0]["subject"].(map[string]any)["reference"] != obs[1]["subject"].(map[string]any)["reference"] ||
		obs[0]["subject"].(map[string]any)["reference"] == obs[2]["subject"].(map[string]any)["reference"] {
		t.Error("rows about one HKID (written two ways) do not share their Patient, or two citizens do")
	}
	bad := file(t, VitalSigns,
		map[string]string{"record_id": "V1"},
		map[string]string{"record_id": "V2", "birth_date": "1980-01-02"},
		map[string]string{"record_id": "V3", "patient_number": "P999"},
		map[string]string{"record_id": "V1", "id_number": "AB987654(3)"},
		map[string]string{"record_id": "V5", "family_name": "chan", "given_names": "tai  man"},
	)
	res = parse(t, VitalSigns, bad, opts())
	for _, want := range []struct {
		row    int
		column string
		code   Code
	}{{3, "birth_date", CodeConflict}, {4, "patient_number", CodeConflict}, {5, "record_id", CodeDuplicate}} {
		if !problemAt(res.Report, want.row, want.column, want.code) {
			t.Errorf("no %s problem at row %d, %s: %+v", want.code, want.row, want.column, res.Report.Problems)
		}
	}
	if res.Report.Accepted != 2 || res.Report.Rejected != 3 {
		t.Errorf("accepted %d rejected %d: names are compared without case or extra spaces", res.Report.Accepted, res.Report.Rejected)
	}
}

// File-level problems: nothing is stored, KeepValid or not.
func TestFileProblems(t *testing.T) {
	good := file(t, Allergies, map[string]string{})
	header, row, _ := strings.Cut(good, "\n")
	tests := []struct {
		name string
		body string
		row  int
		code Code
	}{
		{"empty", "", 0, CodeHeader},
		{"missing column", strings.Replace(header, "birth_date", "dob", 1) + "\n" + row, 1, CodeHeader},
		{"repeated column", header + ",note\n" + row, 1, CodeHeader},
		{"not CSV", header + "\n" + `R9,hkid,A123456(3),,P00123,"CHAN,TAI MAN` + "\n", 2, CodeCSV},
		{"bare quote", header + "\n" + row + `R9,hkid,A1"23,` + "\n", 3, CodeCSV},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := opts()
			o.KeepValid = true
			res := parse(t, Allergies, tc.body, o)
			if res.Bundle != nil {
				t.Error("a file-level problem still made a Bundle")
			}
			found := false
			for _, p := range res.Report.Problems {
				found = found || p.Row == tc.row && p.Code == tc.code
			}
			if !found {
				t.Errorf("want %s at row %d: %+v", tc.code, tc.row, res.Report.Problems)
			}
		})
	}
}

// Spreadsheet habits are accepted: a byte-order mark, CRLF, semicolons,
// blank rows, upper-case headers, short rows; a row longer than the
// header is an error.
func TestSpreadsheetForms(t *testing.T) {
	good := file(t, Medications, map[string]string{"note": ""})
	semi := "\ufeff" + strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(good, ",", ";"), "\n", "\r\n"))
	semi = strings.Replace(semi, "PARA500", "para500", 1) + ";;;;\r\n\r\n"
	res := parse(t, Medications, semi, opts())
	if len(res.Report.Problems) != 0 || res.Report.Rows != 1 || len(records(res.Bundle, "MedicationRequest")) != 1 {
		t.Fatalf("semicolons: %+v", res.Report)
	}
	short := strings.TrimSuffix(good, ",\n") + "\n" // no note cell at all
	if res := parse(t, Medications, short, opts()); res.Bundle == nil {
		t.Errorf("a row without its last empty cell: %+v", res.Report)
	}
	long := strings.TrimSuffix(good, "\n") + ",extra\n"
	if res := parse(t, Medications, long, opts()); res.Bundle != nil || !problemAt(res.Report, 2, "", CodeCSV) {
		t.Errorf("a row longer than the header: %+v", res.Report)
	}
}

// Beyond the limits the file is refused whole (413), the report saying so.
func TestLimits(t *testing.T) {
	body := file(t, Allergies, map[string]string{"record_id": "1"}, map[string]string{"record_id": "2"}, map[string]string{"record_id": "3"})
	for _, tc := range []struct {
		name string
		o    func(*Options)
	}{
		{"rows", func(o *Options) { o.MaxRows = 2 }},
		{"bytes", func(o *Options) { o.MaxBytes = int64(len(body) - 10) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts()
			o.KeepValid = true
			tc.o(&o)
			res, err := Parse(Allergies, strings.NewReader(body), o)
			if !outcome.Is(err, outcome.TooLarge) || res.Bundle != nil || !problemAt(res.Report, 0, "", CodeLimit) {
				t.Errorf("err %v, bundle %v, report %+v", err, res.Bundle != nil, res.Report)
			}
		})
	}
	o := opts()
	o.MaxRows, o.MaxBytes = 3, int64(len(body))
	if res := parse(t, Allergies, body, o); res.Bundle == nil {
		t.Errorf("a file exactly at the limits: %+v", res.Report)
	}
}

// The report lists at most MaxProblems and counts the rest.
func TestProblemCap(t *testing.T) {
	var rows []map[string]string
	for i := range MaxProblems + 5 {
		rows = append(rows, map[string]string{"record_id": fmt.Sprint(i), "gender": "?"})
	}
	res := parse(t, VitalSigns, file(t, VitalSigns, rows...), opts())
	if len(res.Report.Problems) != MaxProblems || res.Report.Unlisted != 5 || res.Report.Rejected != MaxProblems+5 {
		t.Errorf("%d problems listed, %d unlisted, %d rejected", len(res.Report.Problems), res.Report.Unlisted, res.Report.Rejected)
	}
}

// Codes of a code system the terminology service holds must be in it,
// and take its display; other systems are checked for their form.
func TestTerminologyCodes(t *testing.T) {
	tables, err := terminology.Load()
	if err != nil {
		t.Fatal(err)
	}
	svc := terminology.NewService(tables)
	if err := svc.Put(map[string]any{"resourceType": "CodeSystem", "url": LocalVaccineSystem, "status": "active", "content": "complete",
		"concept": []any{map[string]any{"code": "FLU-QIV", "display": "Influenza vaccine, quadrivalent"}}}); err != nil {
		t.Fatal(err)
	}
	o := opts()
	o.Terminology = svc
	res := parse(t, Immunisations, file(t, Immunisations, map[string]string{"vaccine_system": "local", "vaccine_code": "FLU-QIV", "vaccine_name": ""}), o)
	imm := records(res.Bundle, "Immunization")
	if len(imm) != 1 || js(t, imm[0]["vaccineCode"]) != `{"coding":[{"code":"FLU-QIV","display":"Influenza vaccine, quadrivalent","system":"https://ehealth.hk/fhir/CodeSystem/vaccine"}]}` {
		t.Errorf("a known local code: %+v %s", res.Report.Problems, js(t, imm))
	}
	res = parse(t, Immunisations, file(t, Immunisations, map[string]string{"vaccine_system": LocalVaccineSystem, "vaccine_code": "FLU-TIV"}), o)
	if !problemAt(res.Report, 2, "vaccine_code", CodeUnknown) {
		t.Errorf("a code not in the held system: %+v", res.Report.Problems)
	}
	// The drug list is not held: its codes are checked for their form.
	if res := parse(t, Medications, file(t, Medications, map[string]string{"drug_code": "ANY-1"}), o); res.Bundle == nil {
		t.Errorf("a local drug code when the list is not held: %+v", res.Report.Problems)
	}
}

func TestCheckDigits(t *testing.T) {
	for code, want := range map[string]bool{"8480-6": true, "8462-4": true, "29463-7": true, "85354-9": true, "8867-4": true, "2345-7": true,
		"8480-5": false, "8480": false, "-6": false, "12345678-0": false, "8480-66": false} {
		if got := validLOINC(code); got != want {
			t.Errorf("validLOINC(%q) = %v", code, got)
		}
	}
	for id, want := range map[string]bool{"91936005": true, "227493005": true, "122554006": true, "371244009": true, "404684003": true,
		"91936004": false, "091936005": false, "12345": false, "91936025": false} {
		if got := validSCTID(id); got != want {
			t.Errorf("validSCTID(%q) = %v", id, got)
		}
	}
}

func TestOptionsAndTemplates(t *testing.T) {
	if _, err := Parse("x-rays", strings.NewReader(""), opts()); !outcome.Is(err, outcome.Invalid) {
		t.Errorf("an unknown template: %v", err)
	}
	if _, err := Template("x-rays"); !outcome.Is(err, outcome.Invalid) {
		t.Errorf("an unknown template's download: %v", err)
	}
	for _, o := range []Options{{}, {Organization: "clinic1"}, {Organization: "Organization/clinic1", PractitionerRole: "Practitioner/1"}} {
		if _, err := Parse(Allergies, strings.NewReader(""), o); !outcome.Is(err, outcome.Invalid) {
			t.Errorf("options %+v: %v", o, err)
		}
	}
	// Without a professional the provider is the performer and recorder.
	o := opts()
	o.PractitionerRole = ""
	res := parse(t, Allergies, file(t, Allergies, map[string]string{}), o)
	if got := js(t, records(res.Bundle, "AllergyIntolerance")[0]["recorder"]); got != `{"reference":"Organization/clinic1"}` {
		t.Errorf("recorder %s", got)
	}
}

// TEMPLATES.md documents every column of every template.
func TestTemplatesDocumented(t *testing.T) {
	doc, err := os.ReadFile("TEMPLATES.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Specs() {
		if !strings.Contains(string(doc), "## "+s.Name) {
			t.Errorf("TEMPLATES.md has no section for %s", s.Name)
		}
		for _, c := range s.Columns {
			if !strings.Contains(string(doc), "| `"+c.Name+"` |") {
				t.Errorf("TEMPLATES.md does not document %s's column %s", s.Name, c.Name)
			}
		}
	}
	for _, v := range vitals {
		if !strings.Contains(string(doc), v.code) {
			t.Errorf("TEMPLATES.md does not list vital sign %s", v.code)
		}
	}
}
