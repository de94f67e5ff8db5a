package portal

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// trendLimit is how many results a trend reads.
const trendLimit = "200"

// codeKey is an observation code as "system|code"; base64url, it names a
// trend in the URL (a code, nothing about the person).
func codeKey(r web.Resource) string {
	c := web.Get(r, "code", "coding", 0)
	if c == nil {
		return ""
	}
	return web.Str(c, "system") + "|" + web.Str(c, "code")
}

// labResults reads the patient's numeric laboratory results, grouped by
// code, newest first.
func labResults(c *web.Ctx, patient, code string) (map[string][]web.Resource, error) {
	q := url.Values{"patient": {patient}, "category": {"laboratory"}, "_count": {trendLimit}, "_sort": {"-date"}}
	if code != "" {
		q.Set("code", code)
	}
	b, err := search(c, "Observation", q)
	if err != nil {
		return nil, err
	}
	out := map[string][]web.Resource{}
	for _, r := range b.Matches {
		if k := codeKey(r); k != "" && web.Get(r, "valueQuantity", "value") != nil {
			out[k] = append(out[k], r)
		}
	}
	return out, nil
}

// trendLine is one code on the trends page.
type trendLine struct {
	Key, Name, Latest, Date string
	Count                   int
}

// trends lists the patient's measured laboratory codes with the latest
// value.
func trends(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	groups, err := labResults(c, id, "")
	if err != nil {
		return err
	}
	var lines []trendLine
	for k, rs := range groups {
		it := web.RecordItemOf(rs[0])
		lines = append(lines, trendLine{Key: base64.RawURLEncoding.EncodeToString([]byte(k)), Name: web.Display(web.Get(rs[0], "code")),
			Latest: it.Value, Date: it.Date, Count: len(rs)})
	}
	slices.SortFunc(lines, func(a, b trendLine) int { return strings.Compare(a.Name, b.Name) })
	return c.Render("trends", map[string]any{"ID": id, "Lines": lines})
}

// trendRow is one result in a trend's table.
type trendRow struct{ Date, Value, Flag string }

// trend draws one code's results over time (SVG) with the table of
// numbers.
func trend(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.R.PathValue("code"))
	code := string(raw)
	if err != nil || !strings.Contains(code, "|") {
		return outcome.New(outcome.NotFound, "portal: no trend %q", c.R.PathValue("code"))
	}
	groups, err := labResults(c, id, code)
	if err != nil {
		return err
	}
	rs := groups[code]
	if len(rs) == 0 {
		return outcome.New(outcome.NotFound, "portal: no results of %s", code)
	}
	name := web.Display(web.Get(rs[0], "code"))
	var rows []trendRow
	var pts []point
	for _, r := range rs {
		it := web.RecordItemOf(r)
		rows = append(rows, trendRow{Date: it.Date, Value: web.FormatNumber(c.Lang, web.Str(r, "valueQuantity", "value")),
			Flag: web.Display(web.Get(r, "interpretation", 0))})
		v, err := strconv.ParseFloat(web.Str(r, "valueQuantity", "value"), 64)
		t, _, ok := web.ParseTime(it.Date)
		if err == nil && ok {
			pts = append(pts, point{At: t, Value: v})
		}
	}
	low, _ := strconv.ParseFloat(web.Str(rs[0], "referenceRange", 0, "low", "value"), 64)
	high, _ := strconv.ParseFloat(web.Str(rs[0], "referenceRange", 0, "high", "value"), 64)
	return c.Render("trend", map[string]any{"ID": id, "Name": name, "Unit": web.Str(rs[0], "valueQuantity", "unit"),
		"Chart": chart(c.T("trend.chart_title", name), pts, low, high, c.Lang), "Rows": rows,
		"Low": web.Str(rs[0], "referenceRange", 0, "low", "value"), "High": web.Str(rs[0], "referenceRange", 0, "high", "value")})
}

// point is one result of a chart.
type point struct {
	At    time.Time
	Value float64
}

// The chart's geometry, in SVG user units; the SVG scales to the width.
const (
	chartW, chartH         = 400.0, 220.0
	padL, padR, padT, padB = 44.0, 12.0, 12.0, 32.0
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
)

// chart draws results over time as an SVG line chart (role img, with a
// title), with the reference range shaded when low < high; the page's
// table has the same numbers. No style attributes: the
// Content-Security-Policy refuses them.
func chart(title string, pts []point, low, high float64, lang web.Lang) template.HTML {
	if len(pts) == 0 {
		return ""
	}
	pts = slices.Clone(pts)
	slices.SortFunc(pts, func(a, b point) int { return a.At.Compare(b.At) })
	minV, maxV := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		minV, maxV = math.Min(minV, p.Value), math.Max(maxV, p.Value)
	}
	if low < high {
		minV, maxV = math.Min(minV, low), math.Max(maxV, high)
	}
	span := maxV - minV
	if span == 0 {
		span = math.Max(1, math.Abs(maxV)*0.1)
	}
	minV, maxV = minV-span*0.1, maxV+span*0.1
	first, last := pts[0].At, pts[len(pts)-1].At
	tspan := last.Sub(first).Seconds()
	x := func(t time.Time) float64 {
		if tspan == 0 {
			return padL + plotW/2
		}
		return padL + plotW*t.Sub(first).Seconds()/tspan
	}
	y := func(v float64) float64 { return padT + plotH*(1-(v-minV)/(maxV-minV)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-labelledby="chart-title"><title id="chart-title">%s</title>`,
		chartW, chartH, template.HTMLEscapeString(title))
	if low < high {
		fmt.Fprintf(&b, `<rect class="range" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, padL, y(high), plotW, y(low)-y(high))
	}
	for i := 0; i <= 4; i++ {
		v := minV + (maxV-minV)*float64(i)/4
		fmt.Fprintf(&b, `<line class="grid-line" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text x="%.1f" y="%.1f" text-anchor="end">%s</text>`,
			padL, padL+plotW, y(v), y(v), padL-6, y(v)+4, axisValue(v))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, padL+plotW, padT+plotH, padT+plotH)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text><text x="%.1f" y="%.1f" text-anchor="end">%s</text>`,
		padL, chartH-10, template.HTMLEscapeString(web.FormatDate(lang, first)),
		padL+plotW, chartH-10, template.HTMLEscapeString(web.FormatDate(lang, last)))
	var path strings.Builder
	for i, p := range pts {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(p.At), y(p.Value))
	}
	fmt.Fprintf(&b, `<path class="line" d="%s"/>`, strings.TrimSpace(path.String()))
	for _, p := range pts {
		fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="4"/>`, x(p.At), y(p.Value))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// axisValue writes an axis value with at most one decimal.
func axisValue(v float64) string {
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0")
}
