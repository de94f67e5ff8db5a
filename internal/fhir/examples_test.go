package fhir

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

const examplesDir = "../../../shared/fhir/examples"

// knownInvalidExamples lists official examples that break a rule of the
// spec itself, with the issue paths we expect and why.
var knownInvalidExamples = map[string]string{
	// Questionnaire.item.linkId is 1..1, yet the nested display items have none.
	"Questionnaire-qs1.json": "Questionnaire.item[0].item[0].linkId",
	// The narrative is a div holding only an empty <pre>: txt-2 requires content.
	"Questionnaire-zika-virus-exposure-assessment.json": "Questionnaire.text.div",
}

func exampleFiles(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	// package.json is the NPM manifest of the examples package, not a resource.
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == "package.json" })
	if len(files) == 0 {
		t.Skip("official examples not available at " + examplesDir)
	}
	return files
}

// TestExamplesRoundTrip parses, validates and re-encodes every official example.
func TestExamplesRoundTrip(t *testing.T) {
	for _, file := range exampleFiles(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var errs []Issue
			for _, is := range Validate(res, ValidateOptions{}) {
				if is.Severity == "error" {
					errs = append(errs, is)
				}
			}
			if want, known := knownInvalidExamples[name]; known {
				if !slices.ContainsFunc(errs, func(is Issue) bool { return is.Path == want }) {
					t.Errorf("listed as invalid at %s, but got %v", want, errs)
				}
			} else {
				for _, is := range errs {
					t.Errorf("%s: %s (%s)", is.Path, is.Message, is.Code)
				}
			}
			out, err := Marshal(res)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			back, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse(Marshal): %v\n%s", err, out)
			}
			if !reflect.DeepEqual(res, back) {
				t.Errorf("round trip changed the resource")
			}
			var std any
			if err := json.Unmarshal(data, &std); err != nil {
				t.Fatalf("encoding/json rejects the example: %v", err)
			}
		})
	}
}
