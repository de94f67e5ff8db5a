package csvdeposit

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is one data row being checked: its cells by column and what is
// wrong with it.
type row struct {
	p      *parser
	n      int
	cells  map[string]string
	failed bool
	cand   *patient // the row's patient, once read
}

// get is the trimmed cell of column name ("" when absent).
func (r *row) get(name string) string { return r.cells[name] }

// fail reports a problem with the row's column col.
func (r *row) fail(col string, code Code, en, zh string) {
	r.failed = true
	r.p.add(Problem{Row: r.n, Column: col, Code: code, Message: en, MessageZH: zh})
}

// missing reports whether a required cell is empty (already reported).
func (r *row) missing(col string) bool { return r.get(col) == "" }

// date reads a YYYY-MM-DD cell; ok is false when empty or reported bad.
// A date in the future is an error.
func (r *row) date(col string) (string, bool) {
	t, ok := r.anyDate(col)
	if !ok {
		return "", false
	}
	return r.get(col), r.notFuture(col, t)
}

// anyDate reads a YYYY-MM-DD cell, in the future or not.
func (r *row) anyDate(col string) (time.Time, bool) {
	s := r.get(col)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("2006-01-02", s, r.p.opts.Location)
	if err != nil {
		r.fail(col, CodeFormat, fmt.Sprintf("%q is not a date written YYYY-MM-DD (e.g. 2026-03-01)", truncate(s, 30)),
			fmt.Sprintf("「%s」不是 YYYY-MM-DD 格式的日期（例如 2026-03-01）", truncate(s, 30)))
		return time.Time{}, false
	}
	return t, true
}

// dateTimeFormats are the forms a date with a time may take.
var dateTimeFormats = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// dateTime reads a cell that is a date (YYYY-MM-DD) or a date and time
// (YYYY-MM-DD HH:MM[:SS], in Options.Location) as a FHIR dateTime.
func (r *row) dateTime(col string) (string, bool) {
	s := r.get(col)
	if len(s) == len("2006-01-02") {
		return r.date(col)
	}
	for _, f := range dateTimeFormats {
		if t, err := time.ParseInLocation(f, s, r.p.opts.Location); err == nil {
			return t.Format("2006-01-02T15:04:05-07:00"), r.notFuture(col, t)
		}
	}
	r.fail(col, CodeFormat, fmt.Sprintf("%q is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DD HH:MM)", truncate(s, 30)),
		fmt.Sprintf("「%s」不是日期（YYYY-MM-DD）或日期時間（YYYY-MM-DD HH:MM）", truncate(s, 30)))
	return "", false
}

// notFuture checks that t is not after today (a day of slack for clocks
// and time zones) nor before 1900.
func (r *row) notFuture(col string, t time.Time) bool {
	switch {
	case t.After(r.p.now.AddDate(0, 0, 1)):
		r.fail(col, CodeRange, "the date is in the future", "日期在將來")
		return false
	case t.Year() < 1900:
		r.fail(col, CodeRange, "the date is before 1900", "日期早於 1900 年")
		return false
	}
	return true
}

// notBeforeBirth checks that an event's date (a FHIR date or dateTime) is
// not before the patient's birth date.
func (r *row) notBeforeBirth(col, when string) {
	if r.cand == nil || r.cand.birthDate == "" || len(when) < 10 {
		return
	}
	if when[:10] < r.cand.birthDate {
		r.fail(col, CodeRange, "the date is before the patient's date of birth", "日期早於病人的出生日期")
	}
}

// choice reads a cell that takes one of values (case-insensitive), def
// when empty; values maps what people write to the FHIR code.
func (r *row) choice(col string, values map[string]string, def string) string {
	s := r.get(col)
	if s == "" {
		return def
	}
	if v, ok := values[strings.ToLower(s)]; ok {
		return v
	}
	allowed := choices(values)
	r.fail(col, CodeValue, fmt.Sprintf("%q is not one of: %s", truncate(s, 30), allowed), fmt.Sprintf("「%s」不是以下其中之一：%s", truncate(s, 30), allowed))
	return ""
}

// choices lists the FHIR codes of a choice column, sorted, once each.
func choices(values map[string]string) string {
	seen := map[string]bool{}
	var out []string
	for k, v := range values {
		if k == v && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

var numberRE = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$`)

// number reads a decimal cell as a JSON number keeping the digits written
// (FHIR keeps precision: 36.50 is not 36.5).
func (r *row) number(col, s string) (json.Number, float64, bool) {
	if !numberRE.MatchString(s) {
		r.fail(col, CodeFormat, fmt.Sprintf("%q is not a number (write 36.5, not 36,5 nor 36.5°C)", truncate(s, 30)),
			fmt.Sprintf("「%s」不是數字（請寫 36.5，不要寫 36,5 或 36.5°C）", truncate(s, 30)))
		return "", 0, false
	}
	f, _ := strconv.ParseFloat(s, 64)
	s = strings.TrimPrefix(s, "+")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole = strings.TrimLeft(whole, "0"); whole == "" {
		whole = "0"
	}
	out := whole
	if frac != "" {
		out += "." + frac
	}
	if neg && f != 0 {
		out = "-" + out
	}
	return json.Number(out), f, true
}

// positiveInt reads a cell that must be a whole number from 1 to max.
func (r *row) positiveInt(col string, max int) (int, bool) {
	s := r.get(col)
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		r.fail(col, CodeFormat, fmt.Sprintf("%q is not a whole number from 1 to %d", truncate(s, 30), max),
			fmt.Sprintf("「%s」不是 1 至 %d 的整數", truncate(s, 30), max))
		return 0, false
	}
	return n, true
}

// text reads a free-text cell of at most max characters.
func (r *row) text(col string, max int) string {
	s := r.get(col)
	if n := len([]rune(s)); n > max {
		r.fail(col, CodeRange, fmt.Sprintf("the text is %d characters long; at most %d", n, max), fmt.Sprintf("文字長 %d 個字元；上限為 %d", n, max))
		return ""
	}
	return s
}

// note is the common note column as FHIR Annotations.
func (r *row) note(res map[string]any) {
	if t := r.text("note", 2000); t != "" {
		res["note"] = []any{map[string]any{"text": t}}
	}
}
