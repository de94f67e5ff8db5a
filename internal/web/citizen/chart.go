package citizen

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/web"
)

// point is one value of a series.
type point struct {
	At    time.Time
	Date  string // the FHIR dateTime
	Value float64
	Text  string // the value as recorded
}

// series is one line of a chart (a component of a blood pressure is a
// line of its own).
type series struct {
	Name   string
	Unit   string
	Points []point // oldest first
}

// The chart's geometry, in SVG user units; the SVG scales to the width.
const (
	chartW, chartH         = 400.0, 220.0
	padL, padR, padT, padB = 44.0, 12.0, 12.0, 32.0
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
	gridLines              = 4
	maxSeries              = 2
)

// svgChart draws up to two series over time as an SVG line chart, with a
// shaded reference range when low < high. The SVG has a title and role
// img; the numbers are also in the page's table.
func svgChart(title string, ss []series, low, high float64, lang web.Lang) template.HTML {
	var minT, maxT time.Time
	minV, maxV := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, p := range s.Points {
			if minT.IsZero() || p.At.Before(minT) {
				minT = p.At
			}
			if p.At.After(maxT) {
				maxT = p.At
			}
			minV, maxV = math.Min(minV, p.Value), math.Max(maxV, p.Value)
		}
	}
	if math.IsInf(minV, 1) {
		return ""
	}
	if low < high {
		minV, maxV = math.Min(minV, low), math.Max(maxV, high)
	}
	span := maxV - minV
	if span == 0 {
		span = math.Max(1, math.Abs(maxV)*0.1)
	}
	minV, maxV = minV-span*0.1, maxV+span*0.1
	tspan := maxT.Sub(minT).Seconds()
	x := func(t time.Time) float64 {
		if tspan == 0 {
			return padL + plotW/2
		}
		return padL + plotW*t.Sub(minT).Seconds()/tspan
	}
	y := func(v float64) float64 { return padT + plotH*(1-(v-minV)/(maxV-minV)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-labelledby="chart-title"><title id="chart-title">%s</title>`,
		chartW, chartH, template.HTMLEscapeString(title))
	if low < high {
		fmt.Fprintf(&b, `<rect class="range" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, padL, y(high), plotW, y(low)-y(high))
	}
	for i := 0; i <= gridLines; i++ {
		v := minV + (maxV-minV)*float64(i)/gridLines
		fmt.Fprintf(&b, `<line class="grid-line" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, padL+plotW, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, padL-6, y(v)+4, trimFloat(v))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, padL+plotW, padT+plotH, padT+plotH)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`, padL, chartH-10, template.HTMLEscapeString(web.FormatDate(lang, minT)))
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, padL+plotW, chartH-10, template.HTMLEscapeString(web.FormatDate(lang, maxT)))
	for i, s := range ss[:min(len(ss), maxSeries)] {
		line, dot := "line", "dot"
		if i == 1 {
			line, dot = "line2", "dot2"
		}
		var path strings.Builder
		for j, p := range s.Points {
			cmd := "L"
			if j == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(p.At), y(p.Value))
		}
		fmt.Fprintf(&b, `<path class="%s" d="%s"/>`, line, strings.TrimSpace(path.String()))
		for _, p := range s.Points {
			fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%.1f" r="4"/>`, dot, x(p.At), y(p.Value))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// trimFloat writes an axis value with at most one decimal.
func trimFloat(v float64) string {
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0")
}
