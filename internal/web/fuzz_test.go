package web

import (
	"strings"
	"testing"
)

// FuzzFormat: the formatters of what people and records type never
// panic, and a return path stays inside the app.
func FuzzFormat(f *testing.F) {
	for _, s := range []string{"2025-11-03", "2025-11-03T10:42:00+08:00", "2025", "1234.50", "-0.001", "//evil", "/app/x?y=1", "/app\\x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		FormatFHIRDate(English, s)
		FormatFHIRDate(Chinese, s)
		FormatNumber(English, s)
		ParseLang(s)
		fromAcceptLanguage(s)
		if got := safeReturn("/app", s); !strings.HasPrefix(got, "/app") || strings.HasPrefix(got, "//") {
			t.Errorf("safeReturn(%q) = %q", s, got)
		}
	})
}
