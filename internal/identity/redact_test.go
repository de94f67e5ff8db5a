package identity

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"A123456(3)", "A12****(3)"},
		{"AB987654(3)", "AB98****(3)"},
		{"G123456(A)", "G12****(A)"},
		{"a123456(3)", "A12****(3)"},
		{"A1234563", "A1*****3"},
		{"A123456(4)", "A12****(4)"}, // invalid numbers are redacted too
		{"GB1234567", "GB******7"},
		{"C123456", "C1****6"},
		{"K1234", "K1**4"},
		{"1234", "****"},
		{"", ""},
		{"陳大文身份證", "陳大***證"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestDocumentDoesNotLeak checks every way a Document is commonly printed.
func TestDocumentDoesNotLeak(t *testing.T) {
	d, err := Parse(HKID, "E364912(5)", "")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	slog.New(slog.NewTextHandler(&log, nil)).Info("registered", "doc", d)
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", d),
		"%+v":  fmt.Sprintf("%+v", d),
		"%#v":  fmt.Sprintf("%#v", d),
		"%s":   fmt.Sprintf("%s", d),
		"slog": log.String(),
		"nested": fmt.Sprintf("%+v", struct {
			Doc Document
		}{d}),
	}
	for verb, out := range outputs {
		if strings.Contains(out, "364912") {
			t.Errorf("%s prints the full number: %s", verb, out)
		}
		if !strings.Contains(out, "E36****(5)") {
			t.Errorf("%s does not show the redacted number: %s", verb, out)
		}
	}
}
