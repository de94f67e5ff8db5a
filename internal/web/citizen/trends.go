package citizen

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// trendLimit is how many measurements a trend reads.
const trendLimit = "200"

// codeKey is an observation code as "system|code"; base64url, it names
// the trend in the URL (a code, never anything about the person).
func codeKey(r web.Resource) string {
	c := web.Get(r, "code", "coding", 0)
	if c == nil {
		return ""
	}
	return web.Str(c, "system") + "|" + web.Str(c, "code")
}

// measurements reads the patient's numeric observations — lab results,
// vital signs and self-recorded values — grouped by code.
func measurements(c *web.Ctx, code string) (map[string][]web.Resource, error) {
	q := url.Values{"_count": {trendLimit}, "_sort": {"-date"}}
	if code != "" {
		q.Set("code", code)
	}
	b, err := search(c, "Observation", q)
	if err != nil {
		return nil, err
	}
	out := map[string][]web.Resource{}
	for _, r := range b.Matches {
		if k := codeKey(r); k != "" && numeric(r) {
			out[k] = append(out[k], r)
		}
	}
	return out, nil
}

func numeric(r web.Resource) bool {
	if web.Get(r, "valueQuantity", "value") != nil {
		return true
	}
	return slices.ContainsFunc(web.List(r, "component"), func(c any) bool { return web.Get(c, "valueQuantity", "value") != nil })
}

// trendLine is one code on the trends page.
type trendLine struct {
	Key, Name, Latest, Date string
	Count                   int
	Citizen                 bool
}

// trends lists the measured codes, with the latest value.
func trends(c *web.Ctx) error {
	groups, err := measurements(c, "")
	if err != nil {
		return err
	}
	var lines []trendLine
	for k, rs := range groups {
		latest := web.RecordItemOf(rs[0])
		lines = append(lines, trendLine{Key: base64.RawURLEncoding.EncodeToString([]byte(k)), Name: web.Display(web.Get(rs[0], "code")), Latest: latest.Value, Date: latest.Date,
			Count: len(rs), Citizen: web.CitizenProvided(rs[0])})
	}
	slices.SortFunc(lines, func(a, b trendLine) int { return strings.Compare(a.Name, b.Name) })
	return c.Render("trends", map[string]any{"Lines": lines})
}

// row is one measurement in a trend's table.
type row struct {
	Date    string
	Values  []string
	Flag    string
	Citizen bool
}

// trend draws one code's values over time, with the table of numbers.
func trend(c *web.Ctx) error {
	raw, err := base64.RawURLEncoding.DecodeString(c.R.PathValue("code"))
	code := string(raw)
	if err != nil || !strings.Contains(code, "|") {
		return outcome.New(outcome.NotFound, "citizen: no trend %q", code)
	}
	groups, err := measurements(c, code)
	if err != nil {
		return err
	}
	rs := groups[code]
	if len(rs) == 0 {
		return outcome.New(outcome.NotFound, "citizen: no measurements of %s", code)
	}
	name := web.Display(web.Get(rs[0], "code"))
	ss := seriesOf(rs)
	var rows []row
	for _, r := range rs {
		it := web.RecordItemOf(r)
		rw := row{Date: it.Date, Flag: web.Display(web.Get(r, "interpretation", 0)), Citizen: web.CitizenProvided(r)}
		if v := web.Get(r, "valueQuantity"); v != nil {
			rw.Values = []string{web.FormatNumber(c.Lang, web.Str(v, "value"))}
		}
		for _, comp := range web.List(r, "component") {
			rw.Values = append(rw.Values, web.FormatNumber(c.Lang, web.Str(comp, "valueQuantity", "value")))
		}
		rows = append(rows, rw)
	}
	low, _ := strconv.ParseFloat(web.Str(rs[0], "referenceRange", 0, "low", "value"), 64)
	high, _ := strconv.ParseFloat(web.Str(rs[0], "referenceRange", 0, "high", "value"), 64)
	var names []string
	for _, s := range ss {
		names = append(names, strings.TrimSpace(s.Name+" ("+s.Unit+")"))
	}
	return c.Render("trend", map[string]any{"Name": name, "Chart": svgChart(c.T("trend.chart_title", name), ss, low, high, c.Lang),
		"Columns": names, "Rows": rows, "Low": web.Str(rs[0], "referenceRange", 0, "low", "value"),
		"High": web.Str(rs[0], "referenceRange", 0, "high", "value"), "Unit": web.Str(rs[0], "valueQuantity", "unit")})
}

// seriesOf turns measurements (newest first) into series, oldest first:
// the value, or one series per component.
func seriesOf(rs []web.Resource) []series {
	var ss []series
	add := func(name, unit string, at string, v any) {
		f, err := strconv.ParseFloat(web.Str(v), 64)
		t, _, ok := web.ParseTime(at)
		if err != nil || !ok {
			return
		}
		i := slices.IndexFunc(ss, func(s series) bool { return s.Name == name })
		if i < 0 {
			ss = append(ss, series{Name: name, Unit: unit})
			i = len(ss) - 1
		}
		ss[i].Points = append(ss[i].Points, point{At: t, Date: at, Value: f})
	}
	for _, r := range slices.Backward(rs) {
		at := web.RecordItemOf(r).Date
		if v := web.Get(r, "valueQuantity"); v != nil {
			add(web.Display(web.Get(r, "code")), web.Str(v, "unit"), at, web.Get(v, "value"))
		}
		for _, comp := range web.List(r, "component") {
			add(web.Display(web.Get(comp, "code")), web.Str(comp, "valueQuantity", "unit"), at, web.Get(comp, "valueQuantity", "value"))
		}
	}
	return ss
}
