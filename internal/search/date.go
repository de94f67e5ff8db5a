package search

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// DateRange is the half-open interval of instants [Lo, Hi) a date value
// covers, in microseconds since the Unix epoch. "2013-01" covers the whole
// of January; a Period without an end has Hi = OpenHigh, one without a
// start has Lo = OpenLow (https://hl7.org/fhir/R4/search.html#date).
type DateRange struct {
	Lo, Hi int64
}

// The open ends of a DateRange.
const (
	OpenLow  int64 = math.MinInt64
	OpenHigh int64 = math.MaxInt64
)

// ParseDate reads a FHIR date, dateTime or instant of any precision
// ("2013", "2013-01", "2013-01-14", "2013-01-14T10:00",
// "2013-01-14T10:00:00.123+08:00") into the range it covers. A value
// without a zone is read in loc (UTC when nil). A space where the zone's
// sign should be is read as '+', because an unescaped '+' in a query
// string arrives as a space.
func ParseDate(s string, loc *time.Location) (DateRange, error) {
	if loc == nil {
		loc = time.UTC
	}
	bad := func() (DateRange, error) { return DateRange{}, fmt.Errorf("%q is not a FHIR date", s) }
	num := func(from, n int) (int, bool) {
		if len(s) < from+n {
			return 0, false
		}
		v, err := strconv.Atoi(s[from : from+n])
		return v, err == nil && allDigits(s[from:from+n])
	}
	year, ok := num(0, 4)
	if !ok {
		return bad()
	}
	if len(s) == 4 {
		lo := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
		return rangeOf(lo, lo.AddDate(1, 0, 0)), nil
	}
	month, ok := num(5, 2)
	if !ok || s[4] != '-' || month < 1 || month > 12 {
		return bad()
	}
	if len(s) == 7 {
		lo := time.Date(year, time.Month(month), 1, 0, 0, 0, 0, loc)
		return rangeOf(lo, lo.AddDate(0, 1, 0)), nil
	}
	day, ok := num(8, 2)
	if !ok || s[7] != '-' || day < 1 || day > daysIn(year, month) {
		return bad()
	}
	if len(s) == 10 {
		lo := time.Date(year, time.Month(month), day, 0, 0, 0, 0, loc)
		return rangeOf(lo, lo.AddDate(0, 0, 1)), nil
	}
	if s[10] != 'T' {
		return bad()
	}
	return parseTime(s, year, month, day, loc)
}

// parseTime reads the part of a dateTime from 'T' on.
func parseTime(s string, year, month, day int, loc *time.Location) (DateRange, error) {
	bad := func() (DateRange, error) { return DateRange{}, fmt.Errorf("%q is not a FHIR dateTime", s) }
	rest := s[11:]
	clock, zone := rest, ""
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c == 'Z' || c == '+' || c == '-' || c == ' ' {
			clock, zone = rest[:i], rest[i:]
			break
		}
	}
	if zone != "" {
		z, err := parseZone(zone)
		if err != nil {
			return bad()
		}
		loc = z
	}
	var hh, mm, ss, nanos int
	step := time.Minute
	switch {
	case len(clock) == 5 && clock[2] == ':':
	case len(clock) >= 8 && clock[2] == ':' && clock[5] == ':':
		step = time.Second
		v, err := strconv.Atoi(clock[6:8])
		if err != nil || v > 59 || !allDigits(clock[6:8]) {
			return bad()
		}
		ss = v
		if len(clock) > 8 {
			frac := clock[9:]
			if clock[8] != '.' || frac == "" || !allDigits(frac) {
				return bad()
			}
			if len(frac) > 9 {
				frac = frac[:9]
			}
			n, _ := strconv.Atoi(frac)
			for i := len(frac); i < 9; i++ {
				n *= 10
			}
			nanos = n
			step = time.Duration(math.Pow10(9 - len(frac)))
			if step < time.Microsecond {
				step = time.Microsecond
			}
		}
	default:
		return bad()
	}
	h, err1 := strconv.Atoi(clock[0:2])
	m, err2 := strconv.Atoi(clock[3:5])
	if err1 != nil || err2 != nil || !allDigits(clock[0:2]+clock[3:5]) || h > 23 || m > 59 {
		return bad()
	}
	hh, mm = h, m
	lo := time.Date(year, time.Month(month), day, hh, mm, ss, nanos, loc)
	return rangeOf(lo, lo.Add(step)), nil
}

func parseZone(z string) (*time.Location, error) {
	if z == "Z" {
		return time.UTC, nil
	}
	if len(z) != 6 || z[3] != ':' || !allDigits(z[1:3]+z[4:6]) {
		return nil, fmt.Errorf("bad zone %q", z)
	}
	h, _ := strconv.Atoi(z[1:3])
	m, _ := strconv.Atoi(z[4:6])
	if h > 14 || m > 59 {
		return nil, fmt.Errorf("bad zone %q", z)
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone("", off), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func rangeOf(lo, hi time.Time) DateRange { return DateRange{lo.UnixMicro(), hi.UnixMicro()} }

// Time returns the range's ends as times; an open end is the zero Time.
func (r DateRange) Time() (lo, hi time.Time) {
	if r.Lo != OpenLow {
		lo = time.UnixMicro(r.Lo).UTC()
	}
	if r.Hi != OpenHigh {
		hi = time.UnixMicro(r.Hi).UTC()
	}
	return lo, hi
}

// String shows the range for messages and tests.
func (r DateRange) String() string {
	lo, hi := r.Time()
	f := func(t time.Time, open bool, sign string) string {
		if open {
			return sign + "inf"
		}
		return t.Format(time.RFC3339Nano)
	}
	return "[" + f(lo, r.Lo == OpenLow, "-") + ", " + f(hi, r.Hi == OpenHigh, "+") + ")"
}

// contains reports whether r fully contains t.
func (r DateRange) contains(t DateRange) bool { return r.Lo <= t.Lo && t.Hi <= r.Hi }

// overlaps reports whether r and t share an instant.
func (r DateRange) overlaps(t DateRange) bool { return r.Lo < t.Hi && t.Lo < r.Hi }

// MatchDate applies prefix p with search range s (and approx, the range
// ap uses) to a target range t, as the table in
// https://hl7.org/fhir/R4/search.html#prefix defines it for ranges.
func MatchDate(p Prefix, s, approx, t DateRange) bool {
	switch p {
	case Ne:
		return !s.contains(t)
	case Gt:
		return t.Hi > s.Hi
	case Lt:
		return t.Lo < s.Lo
	case Ge:
		return t.Hi > s.Hi || s.contains(t)
	case Le:
		return t.Lo < s.Lo || s.contains(t)
	case Sa:
		return t.Lo >= s.Hi
	case Eb:
		return t.Hi <= s.Lo
	case Ap:
		return approx.overlaps(t)
	default: // eq
		return s.contains(t)
	}
}

// approxDate widens s by 10% of its distance from now on each side, so
// ap2010 tolerates about a year and a half today, and ap of a date near
// now is close to eq. A range that includes now is not widened.
func approxDate(s DateRange, now time.Time) DateRange {
	n := now.UnixMicro()
	var gap int64
	switch {
	case s.Hi != OpenHigh && s.Hi <= n:
		gap = n - s.Hi
	case s.Lo != OpenLow && s.Lo > n:
		gap = s.Lo - n
	}
	w := gap / 10
	out := s
	if out.Lo != OpenLow && out.Lo > OpenLow+w {
		out.Lo -= w
	}
	if out.Hi != OpenHigh && out.Hi < OpenHigh-w {
		out.Hi += w
	}
	return out
}
