package web

import (
	"crypto/sha512"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestCatalogueComplete(t *testing.T) {
	c := Catalogue{}
	if err := c.LoadCatalogue(baseFS, "."); err != nil {
		t.Fatal(err)
	}
	if m := c.Missing(); len(m) > 0 {
		t.Errorf("messages missing: %v", m)
	}
	broken := Catalogue{English: {"a": "A", "b": "B"}, Chinese: {"a": "甲", "c": " "}}
	want := "en: c, zh-Hant: b, zh-Hant: c"
	if got := strings.Join(broken.Missing(), ", "); got != want {
		t.Errorf("Missing() = %q, want %q", got, want)
	}
	if got := broken.T(Chinese, "b"); got != "⟦b⟧" {
		t.Errorf("a missing key shows as %q", got)
	}
}

func TestTemplatesTranslated(t *testing.T) {
	words, err := LiteralText(baseFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	more, err := LiteralText(baseFS, "templates/pages/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if words = append(words, more...); len(words) > 0 {
		t.Errorf("template text not through the catalogue:\n%s", strings.Join(words, "\n"))
	}
	bad := fstest.MapFS{"p.html": {Data: []byte(`{{define "content"}}<p>{{T "x"}} Hello <b>there</b></p>` +
		`<img alt="A chart" src="x">{{if .X}}<span>偏高</span>{{end}}<a href="{{path "x"}}" aria-label="{{T "y"}}">&rarr;</a>{{end}}`)}}
	words, err = LiteralText(bad, "*.html")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(words, "|")
	for _, w := range []string{`"Hello"`, `"there"`, `"alt=A chart"`, `"偏高"`} {
		if !strings.Contains(got, w) {
			t.Errorf("LiteralText missed %s: %s", w, got)
		}
	}
	if len(words) != 4 {
		t.Errorf("LiteralText found %d, want 4: %s", len(words), got)
	}
}

// TestVendoredHTMX checks the vendored htmx against the SHA-384 VENDOR.md
// records.
func TestVendoredHTMX(t *testing.T) {
	body, err := staticFS.ReadFile("static/htmx-2.0.11.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum384(body)
	vendor, err := os.ReadFile("VENDOR.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); !strings.Contains(string(vendor), want) {
		t.Errorf("static/htmx-2.0.11.min.js is %s, which VENDOR.md does not record", want)
	}
}

func TestFormat(t *testing.T) {
	at := time.Date(2025, 11, 3, 2, 42, 0, 0, time.UTC) // 10:42 in Hong Kong
	cases := []struct{ got, want string }{
		{FormatDateTime(English, at), "3 Nov 2025, 10:42"},
		{FormatDateTime(Chinese, at), "2025年11月3日 10:42"},
		{FormatFHIRDate(English, "2025-11"), "Nov 2025"},
		{FormatFHIRDate(Chinese, "2025-11-03"), "2025年11月3日"},
		{FormatFHIRDate(English, "2025-11-02T18:42:00Z"), "3 Nov 2025, 02:42"},
		{FormatFHIRDate(English, "not a date"), "not a date"},
		{FormatNumber(English, "1234567.50"), "1,234,567.50"},
		{FormatNumber(Chinese, "-123"), "-123"},
		{FormatNumber(English, "12e3"), "12e3"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("%d: got %q, want %q", i, c.got, c.want)
		}
	}
	names := []any{
		map[string]any{"family": "Chan", "given": []any{"Tai", "Man"}},
		map[string]any{"family": "陳", "given": []any{"大文"}, "extension": []any{map[string]any{"url": languageExtension, "valueCode": "zh-HK"}}},
	}
	if got := FormatName(English, names); got != "CHAN Tai Man" {
		t.Errorf("English name %q", got)
	}
	if got := FormatName(Chinese, names); got != "陳大文" {
		t.Errorf("Chinese name %q", got)
	}
	if got := FormatName(Chinese, names[:1]); got != "CHAN Tai Man" {
		t.Errorf("Chinese page, English name only: %q", got)
	}
}

func TestParseLang(t *testing.T) {
	for tag, want := range map[string]Lang{"en": English, "en-GB": English, "zh-Hant": Chinese, "zh-HK": Chinese, "zh": Chinese, "fr": "", "": ""} {
		if got, _ := ParseLang(tag); got != want {
			t.Errorf("ParseLang(%q) = %q, want %q", tag, got, want)
		}
	}
	if got := fromAcceptLanguage("fr;q=1, zh-TW;q=0.8, en;q=0.5"); got != Chinese {
		t.Errorf("Accept-Language: %q", got)
	}
}

func TestSafeReturn(t *testing.T) {
	for in, want := range map[string]string{
		"/app/records?type=lab": "/app/records?type=lab", "/app": "/app", "/app/": "/app/",
		"//evil.example/app": "/app/", "https://evil.example/app/x": "/app/", "/apple": "/app/", "/portal/x": "/app/", "/app/../x": "/app/",
	} {
		if got := safeReturn("/app", in); got != want {
			t.Errorf("safeReturn(%q) = %q, want %q", in, got, want)
		}
	}
}
