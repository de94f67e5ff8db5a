package hl7v2

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDir holds the HL7 v2 samples every engineer has at ../shared; the
// tests skip when it is absent (the samples are never copied here).
const sharedDir = "../../../shared/testdata/hl7v2"

// sampleErrors are the samples that do not convert, with the error each
// must give: the conversion states why rather than storing half.
var sampleErrors = map[string]string{
	// A v2.7+ PATIENT_OBSERVATION OBX right after PID: it has no order to
	// key it on, and dropping it silently would lose a result.
	"samples/ORU-R01-01.hl7": "OBX (segment 5): OBX before any OBR: patient-level observations are not accepted, send results under an OBR",
	// The result status is sent in OBR-26 instead of OBR-25.
	"samples/LAB-ORU-2.hl7": "OBR-25 (segment 3): OBR-25 result status is required",
}

// TestSharedSamples converts every ORU^R01 sample: each converts, or fails
// with the error stated in sampleErrors; the other message types are
// acknowledged AR (unsupported message type) without panicking.
func TestSharedSamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedDir, "*", "*.hl7"))
	if len(files) == 0 {
		t.Skip("no HL7 v2 samples at " + sharedDir)
	}
	converted := 0
	for _, f := range files {
		name, _ := filepath.Rel(sharedDir, f)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			b, err := ConvertORU(m, Options{})
			isORU := m.Segments[0].Get(9, 1) == "ORU" && m.Segments[0].Get(9, 2) == "R01"
			want, stated := sampleErrors[name]
			switch {
			case !isORU:
				var e *Error
				if !errors.As(err, &e) || e.AckCode() != "AR" {
					t.Errorf("a %s is answered %v, want AR", m.Segments[0].Get(9, 1), err)
				}
			case stated:
				if err == nil || err.Error() != want {
					t.Errorf("err = %v, want %q", err, want)
				}
			case err != nil:
				t.Errorf("ConvertORU: %v", err)
			default:
				converted++
				checkBundle(t, b)
			}
		})
	}
	if converted < 5 {
		t.Errorf("only %d samples converted", converted)
	}
}

// checkBundle checks what every converted Bundle must hold: a Patient,
// reports and observations each with a source identifier and a
// conditional request on it.
func checkBundle(t *testing.T, b map[string]any) {
	t.Helper()
	counts := map[string]int{}
	for _, e := range b["entry"].([]any) {
		e := e.(map[string]any)
		r := e["resource"].(map[string]any)
		typ := r["resourceType"].(string)
		counts[typ]++
		req := e["request"].(map[string]any)
		q, _ := req["url"].(string)
		if typ == "Patient" {
			q, _ = req["ifNoneExist"].(string)
		}
		if !strings.Contains(q, "identifier=") || r["identifier"] == nil {
			t.Errorf("%s entry without a conditional request on its identifier: %v", typ, req)
		}
		if !strings.HasPrefix(e["fullUrl"].(string), "urn:uuid:") {
			t.Errorf("fullUrl %v", e["fullUrl"])
		}
	}
	if counts["Patient"] == 0 || counts["DiagnosticReport"] == 0 {
		t.Errorf("bundle holds %v", counts)
	}
}
