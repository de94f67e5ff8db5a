package citizen

import (
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/web"
)

// TestTranslated fails on a message missing in either language and on
// page text written in a template instead of the catalogue.
func TestTranslated(t *testing.T) {
	c := web.Catalogue{}
	if err := c.LoadCatalogue(files, "."); err != nil {
		t.Fatal(err)
	}
	if m := c.Missing(); len(m) > 0 {
		t.Errorf("messages missing in a language: %v", m)
	}
	words, err := web.LiteralText(files, "pages/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(words) > 0 {
		t.Errorf("template text not through the catalogue:\n%s", strings.Join(words, "\n"))
	}
	for _, k := range kinds {
		if c.T(web.English, "kind."+k.Key) == "⟦kind."+k.Key+"⟧" {
			t.Errorf("record type %s has no name", k.Key)
		}
		for _, typ := range k.Types {
			if c.T(web.Chinese, "type."+typ) == "⟦type."+typ+"⟧" {
				t.Errorf("FHIR type %s has no name", typ)
			}
		}
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"%PDF-1.7\n...", "application/pdf"},
		{"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"},
		{"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"},
		{` {"resourceType":"Bundle","type":"document"}`, "application/fhir+json"},
		{`{"hello":"world"}`, "text/plain; charset=utf-8"},
		{"<html><script>alert(1)</script>", "text/html; charset=utf-8"},
	} {
		if got := sniff([]byte(c.body)); got != c.want {
			t.Errorf("sniff(%.20q) = %q, want %q", c.body, got, c.want)
		}
		if folderTypes[sniff([]byte(c.body))] != (c.want != "text/plain; charset=utf-8" && c.want != "text/html; charset=utf-8") {
			t.Errorf("%.20q: taken = %v", c.body, !folderTypes[c.want])
		}
	}
}

func TestChart(t *testing.T) {
	d := func(s string) time.Time { t, _, _ := web.ParseTime(s); return t }
	ss := []series{{Name: "HbA1c", Unit: "%", Points: []point{{At: d("2025-01-10"), Value: 6.1}, {At: d("2025-06-10"), Value: 7.4}, {At: d("2025-11-03"), Value: 6.8}}}}
	svg := string(svgChart("HbA1c <trend>", ss, 4, 6, web.English))
	for _, want := range []string{`role="img"`, `<title id="chart-title">HbA1c &lt;trend&gt;</title>`, `<rect class="range"`, `<path class="line" d="M`, "10 Jan 2025", "3 Nov 2025"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
	if n := strings.Count(svg, "<circle"); n != 3 {
		t.Errorf("chart has %d points, want 3", n)
	}
	if strings.Contains(svg, "style=") {
		t.Error("the chart has a style attribute, which the Content-Security-Policy refuses")
	}
	if svgChart("x", nil, 0, 0, web.English) != "" {
		t.Error("a chart of nothing is not empty")
	}
}
