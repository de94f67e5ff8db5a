package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFHIRPathCommand(t *testing.T) {
	dir := t.TempDir()
	obs := filepath.Join(dir, "obs.json")
	err := os.WriteFile(obs, []byte(`{"resourceType":"Observation","status":"final","code":{"text":"weight"},
		"effectiveDateTime":"2016-03-28","valueQuantity":{"value":185.50,"unit":"lbs","code":"[lb_av]","system":"http://unitsofmeasure.org"}}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no input", []string{"1 + 2 | 'a'"}, `[3,"a"]`},
		{"plain", []string{"-r", obs, "status | effective | value.value"}, `["final","2016-03-28",185.50]`},
		{"element", []string{"-r", obs, "code"}, `[{"text":"weight"}]`},
		{"typed", []string{"-r", obs, "--typed", "status | effective | value.value | 2 'mg' | @T10:30"},
			`[{"type":"code","value":"final"},{"type":"dateTime","value":"2016-03-28"},{"type":"decimal","value":185.50},` +
				`{"type":"Quantity","value":{"unit":"mg","value":2}},{"type":"time","value":"10:30"}]`},
		{"typed system", []string{"--typed", "true | 1.0 | @2015-02-04 | 7 days"},
			`[{"type":"boolean","value":true},{"type":"decimal","value":1.0},{"type":"date","value":"2015-02-04"},{"type":"Quantity","value":{"unit":"day","value":7}}]`},
		{"empty", []string{"-r", obs, "subject"}, `[]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := run(context.Background(), append([]string{"fhirpath"}, tc.args...), &out, &errOut); err != nil {
				t.Fatalf("error %v: %s", err, errOut.String())
			}
			if got := strings.TrimSpace(out.String()); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestFHIRPathCommandErrors(t *testing.T) {
	for _, args := range [][]string{
		{"fhirpath", "name.given +"},                    // syntax error
		{"fhirpath", "(1 | 2).single()"},                // evaluation error
		{"fhirpath", "-r", "/does/not/exist.json", "1"}, // unreadable input
		{"fhirpath"}, // no expression
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if err == nil {
			t.Errorf("%q: no error; output %s", args, out.String())
		}
		if out.Len() != 0 {
			t.Errorf("%q: printed %s on error", args, out.String())
		}
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"fhirpath", "1 +"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "line 1, column 4") {
		t.Errorf("syntax error lacks its position: %v", err)
	}
}
