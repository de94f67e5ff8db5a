package ips_test

import (
	"bytes"
	"compress/zlib"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/ips"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// pageCount is the /Count of a PDF's page tree, -1 when it has none.
var pageCount = regexp.MustCompile(`/Type /Pages\s*/Kids \[[^\]]*\]\s*/Count (\d+)`)

// pdfText is the inflated content of every stream of a PDF, where its
// text is (as literal strings for the standard fonts).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	var b strings.Builder
	for _, part := range bytes.Split(pdf, []byte("stream\n"))[1:] {
		data, _, _ := bytes.Cut(part, []byte("endstream"))
		r, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			continue
		}
		inflated, _ := io.ReadAll(r)
		b.Write(inflated)
	}
	return b.String()
}

// TestSummaryPDF: Accept: application/pdf or _format=pdf answers a PDF of
// the summary with its pages; in Chinese it embeds the CJK font, and a
// server without one prints the summary in English saying why.
func TestSummaryPDF(t *testing.T) {
	_, err := os.Stat(ips.DefaultFonts[0])
	haveFont := err == nil
	for _, c := range []struct {
		name, font, query, accept string
		wantFont                  bool
		wantText                  []string
	}{
		{"accept", ips.NoFont, "", "application/pdf", false, []string{"International Patient Summary", "Penicillin", "Allergies and Intolerances", "Metformin"}},
		{"format", ips.NoFont, "?_format=pdf", "", false, []string{"Essential hypertension"}},
		{"chinese-without-font", ips.NoFont, "?_format=pdf&_language=zh-Hant", "", false, []string{"Chinese characters cannot be printed", "Problem List"}},
		{"chinese", "", "?_language=zh-Hant", "application/pdf", true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.wantFont && !haveFont {
				t.Skipf("no CJK font at %s (Debian: fonts-droid-fallback)", ips.DefaultFonts[0])
			}
			for _, b := range platformtest.Backends[:1] { // the PDF does not depend on the store
				s := newServer(t, b.Open(t), ips.Config{FontPath: c.font})
				seedRecord(t, s)
				r := s.do("GET", "/fhir/Patient/p1/$summary"+c.query, nil, "Accept", c.accept).must(t, http.StatusOK)
				if ct := r.header.Get("Content-Type"); ct != "application/pdf" {
					t.Fatalf("Content-Type %q", ct)
				}
				if !bytes.HasPrefix(r.raw, []byte("%PDF-")) || !bytes.Contains(r.raw, []byte("%%EOF")) {
					t.Fatalf("not a PDF: %.40q", r.raw)
				}
				m := pageCount.FindSubmatch(r.raw)
				if m == nil || string(m[1]) == "0" {
					t.Errorf("the PDF has no pages")
				}
				if got := bytes.Contains(r.raw, []byte("/FontFile2")); got != c.wantFont {
					t.Errorf("embeds a TrueType font: %v, want %v", got, c.wantFont)
				}
				text := pdfText(t, r.raw)
				for _, w := range c.wantText {
					if !strings.Contains(text, w) {
						t.Errorf("the PDF does not say %q", w)
					}
				}
				if !c.wantFont && !strings.Contains(text, "HIV") {
					t.Errorf("the operator's PDF leaves out the restricted result it may read")
				}
			}
		})
	}
}

// TestFontRefused: a configured font the PDF library cannot read stops
// the start, not every later print.
func TestFontRefused(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.ttf")
	if err := os.WriteFile(bad, []byte("not a font"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bad, filepath.Join(t.TempDir(), "missing.ttf")} {
		if _, err := ips.New(nil, nil, ips.Config{FontPath: path}); err == nil {
			t.Errorf("%s was accepted as the summary font", path)
		}
	}
}
