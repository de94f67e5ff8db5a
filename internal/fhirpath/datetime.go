package fhirpath

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// precision of a date/time value, coarsest first.
type precision uint8

const (
	pYear precision = iota + 1
	pMonth
	pDay
	pHour
	pMinute
	pSecond
	pMillis
)

// dateTime is a System.Date, System.DateTime or System.Time with partial
// precision (https://hl7.org/fhirpath/N1/#datetime): only the components up
// to prec are meaningful. Times use the hour..millis components only.
type dateTime struct {
	kind                     sysKind // kDate, kDateTime or kTime
	prec                     precision
	year, month, day         int
	hour, minute, second, ms int
	hasTZ                    bool
	tzMinutes                int // offset east of UTC
}

var errBadDate = errors.New("malformed date/time")

// parseDateTimeLiteral parses the text of an @ literal that is not a time:
// a date, or a dateTime when it contains 'T'.
func parseDateTimeLiteral(s string) (Value, error) {
	if strings.Contains(s, "T") {
		d, err := parseDateTime(strings.TrimSuffix(s, "T"), kDateTime)
		return Value{typ: typeDateTime, data: d}, err
	}
	d, err := parseDateTime(s, kDate)
	return Value{typ: typeDate, data: d}, err
}

// parseTime parses hh(:mm(:ss(.fff)?)?)?.
func parseTime(s string) (Value, error) {
	d := dateTime{kind: kTime}
	if err := d.parseClock(s); err != nil {
		return Value{}, err
	}
	return Value{typ: typeTime, data: d}, nil
}

// parseDateTime parses YYYY(-MM(-DD(Thh(:mm(:ss(.fff)?)?)?(tz)?)?)?)?.
func parseDateTime(s string, kind sysKind) (dateTime, error) {
	d := dateTime{kind: kind}
	date, clock, hasClock := strings.Cut(s, "T")
	parts := strings.Split(date, "-")
	if len(parts) > 3 || len(parts[0]) != 4 {
		return d, errBadDate
	}
	dst := []*int{&d.year, &d.month, &d.day}
	limits := [][2]int{{0, 9999}, {1, 12}, {1, 31}}
	for i, p := range parts {
		if (i > 0 && len(p) != 2) || !allDigits(p) {
			return d, errBadDate
		}
		n, _ := strconv.Atoi(p)
		if n < limits[i][0] || n > limits[i][1] {
			return d, errBadDate
		}
		*dst[i] = n
		d.prec = precision(i + 1)
	}
	if d.prec == pDay && d.day > daysIn(d.year, d.month) {
		return d, errBadDate
	}
	if !hasClock || clock == "" {
		return d, nil
	}
	if kind == kDate || d.prec != pDay {
		return d, errBadDate
	}
	clock, err := d.parseZone(clock)
	if err != nil {
		return d, err
	}
	return d, d.parseClock(clock)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// parseZone strips and records a trailing Z or ±hh:mm.
func (d *dateTime) parseZone(s string) (string, error) {
	if strings.HasSuffix(s, "Z") {
		d.hasTZ = true
		return s[:len(s)-1], nil
	}
	if i := strings.LastIndexAny(s, "+-"); i >= 0 {
		z := s[i+1:]
		if len(z) != 5 || z[2] != ':' || !allDigits(z[:2]) || !allDigits(z[3:]) {
			return s, errBadDate
		}
		h, _ := strconv.Atoi(z[:2])
		m, _ := strconv.Atoi(z[3:])
		if h > 14 || m > 59 {
			return s, errBadDate
		}
		d.hasTZ, d.tzMinutes = true, h*60+m
		if s[i] == '-' {
			d.tzMinutes = -d.tzMinutes
		}
		return s[:i], nil
	}
	return s, nil
}

func (d *dateTime) parseClock(s string) error {
	main, frac, hasFrac := strings.Cut(s, ".")
	parts := strings.Split(main, ":")
	if len(parts) > 3 {
		return errBadDate
	}
	dst := []*int{&d.hour, &d.minute, &d.second}
	limits := []int{23, 59, 59}
	for i, p := range parts {
		if len(p) != 2 || !allDigits(p) {
			return errBadDate
		}
		n, _ := strconv.Atoi(p)
		if n > limits[i] {
			return errBadDate
		}
		*dst[i] = n
		d.prec = pHour + precision(i)
	}
	if hasFrac {
		if d.prec != pSecond || !allDigits(frac) {
			return errBadDate
		}
		ms, _ := strconv.Atoi((frac + "00")[:3])
		d.ms, d.prec = ms, pMillis
	}
	return nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// String formats the value as FHIR does (no '@').
func (d dateTime) String() string {
	var b strings.Builder
	if d.kind != kTime {
		fmt.Fprintf(&b, "%04d", d.year)
		if d.prec >= pMonth {
			fmt.Fprintf(&b, "-%02d", d.month)
		}
		if d.prec >= pDay {
			fmt.Fprintf(&b, "-%02d", d.day)
		}
		if d.prec < pHour {
			return b.String()
		}
		b.WriteByte('T')
	}
	fmt.Fprintf(&b, "%02d", d.hour)
	if d.prec >= pMinute {
		fmt.Fprintf(&b, ":%02d", d.minute)
	}
	if d.prec >= pSecond {
		fmt.Fprintf(&b, ":%02d", d.second)
	}
	if d.prec >= pMillis {
		fmt.Fprintf(&b, ".%03d", d.ms)
	}
	if d.hasTZ && d.kind != kTime {
		if d.tzMinutes == 0 {
			b.WriteString("Z")
		} else {
			z, sign := d.tzMinutes, '+'
			if z < 0 {
				z, sign = -z, '-'
			}
			fmt.Fprintf(&b, "%c%02d:%02d", sign, z/60, z%60)
		}
	}
	return b.String()
}

// literal formats the value as a FHIRPath literal (with '@').
func (d dateTime) literal() string {
	if d.kind == kTime {
		return "@T" + d.String()
	}
	return "@" + d.String()
}

// toTime returns the value as a time.Time with missing components at their minimum.
func (d dateTime) toTime() time.Time {
	y, mo, day := d.year, max(d.month, 1), max(d.day, 1)
	if d.kind == kTime {
		y, mo, day = 2000, 1, 1
	}
	loc := time.UTC
	if d.hasTZ {
		loc = time.FixedZone("", d.tzMinutes*60)
	}
	return time.Date(y, time.Month(mo), day, d.hour, d.minute, d.second, d.ms*1e6, loc)
}

func dateTimeFromTime(t time.Time, p precision) dateTime {
	_, off := t.Zone()
	return dateTime{kind: kDateTime, prec: p, year: t.Year(), month: int(t.Month()), day: t.Day(),
		hour: t.Hour(), minute: t.Minute(), second: t.Second(), ms: t.Nanosecond() / 1e6,
		hasTZ: true, tzMinutes: off / 60}
}

// fromTime copies the components of t into d, keeping d's kind and precision.
func (d dateTime) fromTime(t time.Time) dateTime {
	d.year, d.month, d.day = t.Year(), int(t.Month()), t.Day()
	d.hour, d.minute, d.second, d.ms = t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e6
	return d
}

// utc normalises a value with a time zone to UTC.
func (d dateTime) utc() dateTime {
	if !d.hasTZ || d.tzMinutes == 0 || d.prec < pHour {
		return d
	}
	n := d.fromTime(d.toTime().UTC())
	n.tzMinutes = 0
	return n
}

// components returns the comparable components, seconds and milliseconds merged.
func (d dateTime) components() []int {
	if d.kind == kTime {
		return []int{d.hour, d.minute, d.second*1000 + d.ms}
	}
	return []int{d.year, d.month, d.day, d.hour, d.minute, d.second*1000 + d.ms}
}

// levels is the number of comparable components present.
func (d dateTime) levels() int {
	p := min(int(d.prec), int(pSecond))
	if d.kind == kTime {
		return p - int(pHour) + 1
	}
	return p
}

// compareDateTime compares two values component by component
// (https://hl7.org/fhirpath/N1/#comparison); ok is false when the result
// is undecidable because the precisions or time zones differ.
func compareDateTime(a, b dateTime) (c int, ok bool) {
	if (a.kind == kTime) != (b.kind == kTime) {
		return 0, false
	}
	if a.hasTZ && b.hasTZ {
		a, b = a.utc(), b.utc()
	} else if a.hasTZ != b.hasTZ && a.prec >= pHour && b.prec >= pHour && a.kind != kTime {
		return 0, false
	}
	ca, cb := a.components(), b.components()
	la, lb := a.levels(), b.levels()
	for i := 0; i < min(la, lb); i++ {
		if ca[i] != cb[i] {
			if ca[i] < cb[i] {
				return -1, true
			}
			return 1, true
		}
	}
	if la != lb {
		return 0, false
	}
	return 0, true
}

// addDuration adds a calendar or UCUM time quantity (value truncated to an
// integer) to the value (https://hl7.org/fhirpath/N1/#date-time-arithmetic).
func (d dateTime) addDuration(q quantity, sign int) (dateTime, error) {
	unit, ok := durationUnit(q.Unit)
	if !ok {
		return d, fmt.Errorf("cannot add %s to a date/time", q)
	}
	n, _ := q.Value.truncate(0).int64()
	n *= int64(sign)
	if d.kind == kDate && (unit == "hour" || unit == "minute" || unit == "second" || unit == "millisecond") {
		return d, nil
	}
	t := d.toTime()
	switch unit {
	case "year":
		t = addMonths(t, int(n)*12)
	case "month":
		t = addMonths(t, int(n))
	case "week":
		t = t.AddDate(0, 0, int(n)*7)
	case "day":
		t = t.AddDate(0, 0, int(n))
	case "hour":
		t = t.Add(time.Duration(n) * time.Hour)
	case "minute":
		t = t.Add(time.Duration(n) * time.Minute)
	case "second":
		t = t.Add(time.Duration(n) * time.Second)
	case "millisecond":
		t = t.Add(time.Duration(n) * time.Millisecond)
	}
	if t.Year() < 1 || t.Year() > 9999 {
		return d, errors.New("date/time arithmetic out of range")
	}
	return d.fromTime(t), nil
}

// addMonths adds months, clamping the day to the end of the resulting month.
func addMonths(t time.Time, n int) time.Time {
	y, m := t.Year(), int(t.Month())-1+n
	y += m / 12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	day := min(t.Day(), daysIn(y, m+1))
	return time.Date(y, time.Month(m+1), day, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// durationUnit maps calendar keywords and the UCUM time units that are
// calendar-compatible to a calendar unit; 'a' and 'mo' are not.
func durationUnit(u string) (string, bool) {
	if c, ok := calendarUnits[u]; ok {
		return c, true
	}
	switch u {
	case "wk":
		return "week", true
	case "d":
		return "day", true
	case "h":
		return "hour", true
	case "min":
		return "minute", true
	case "s":
		return "second", true
	case "ms":
		return "millisecond", true
	}
	return "", false
}

// precisionDigits is the value of precision() for each precision.
func (d dateTime) precisionDigits() int {
	if d.kind == kTime {
		return [...]int{0, 0, 0, 0, 2, 4, 6, 9}[d.prec]
	}
	return [...]int{0, 4, 6, 8, 10, 12, 14, 17}[d.prec]
}

// boundary returns the lowest (high=false) or highest value the partial
// value may stand for, at the precision given in digits.
func (d dateTime) boundary(high bool, digits int) (dateTime, bool) {
	p, ok := precisionForDigits(d.kind, digits)
	if !ok {
		return d, false
	}
	if d.kind != kTime && d.prec == pHour {
		d.prec = pMinute // an hour alone is not a valid FHIR dateTime: read T08 as T08:00
	}
	if d.kind == kDate && p > pDay {
		return d, false
	}
	if d.prec < pMonth {
		d.month = map[bool]int{false: 1, true: 12}[high]
	}
	if d.prec < pDay && d.kind != kTime {
		d.day = 1
		if high {
			d.day = daysIn(d.year, d.month)
		}
	}
	if d.prec < pHour {
		d.hour = map[bool]int{false: 0, true: 23}[high]
	}
	if d.prec < pMinute {
		d.minute = map[bool]int{false: 0, true: 59}[high]
	}
	if d.prec < pSecond {
		d.second = map[bool]int{false: 0, true: 59}[high]
	}
	if d.prec < pMillis {
		d.ms = map[bool]int{false: 0, true: 999}[high]
	}
	if d.kind == kDateTime && !d.hasTZ && p >= pHour {
		d.hasTZ, d.tzMinutes = true, 14*60
		if high {
			d.tzMinutes = -12 * 60
		}
	}
	d.prec = p
	return d, true
}

func precisionForDigits(kind sysKind, digits int) (precision, bool) {
	var table map[int]precision
	if kind == kTime {
		table = map[int]precision{2: pHour, 4: pMinute, 6: pSecond, 9: pMillis}
	} else {
		table = map[int]precision{4: pYear, 6: pMonth, 8: pDay, 10: pHour, 12: pMinute, 14: pSecond, 17: pMillis}
	}
	p, ok := table[digits]
	return p, ok
}
