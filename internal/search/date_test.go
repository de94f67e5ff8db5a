package search

import (
	"testing"
	"time"
)

func mustDate(t *testing.T, s string, loc *time.Location) DateRange {
	t.Helper()
	r, err := ParseDate(s, loc)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return r
}

func TestParseDatePrecision(t *testing.T) {
	hk := time.FixedZone("HKT", 8*3600)
	tests := []struct {
		in     string
		loc    *time.Location
		lo, hi string // RFC 3339 in UTC
	}{
		{"2013", nil, "2013-01-01T00:00:00Z", "2014-01-01T00:00:00Z"},
		{"2013-01", nil, "2013-01-01T00:00:00Z", "2013-02-01T00:00:00Z"},
		{"2012-02", nil, "2012-02-01T00:00:00Z", "2012-03-01T00:00:00Z"},
		{"2013-12-31", nil, "2013-12-31T00:00:00Z", "2014-01-01T00:00:00Z"},
		{"2012-02-29", nil, "2012-02-29T00:00:00Z", "2012-03-01T00:00:00Z"},
		{"2013-01-14T10:00", nil, "2013-01-14T10:00:00Z", "2013-01-14T10:01:00Z"},
		{"2013-01-14T10:00:05", nil, "2013-01-14T10:00:05Z", "2013-01-14T10:00:06Z"},
		{"2013-01-14T10:00:05.1", nil, "2013-01-14T10:00:05.1Z", "2013-01-14T10:00:05.2Z"},
		{"2013-01-14T10:00:05.123Z", nil, "2013-01-14T10:00:05.123Z", "2013-01-14T10:00:05.124Z"},
		{"2013-01-14T10:00:05.123456789Z", nil, "2013-01-14T10:00:05.123456Z", "2013-01-14T10:00:05.123457Z"},
		{"2013-01-14T10:00:00+08:00", nil, "2013-01-14T02:00:00Z", "2013-01-14T02:00:01Z"},
		{"2013-01-14T10:00:00-05:30", nil, "2013-01-14T15:30:00Z", "2013-01-14T15:30:01Z"},
		// an unescaped '+' in a query arrives as a space
		{"2013-01-14T10:00:00 08:00", nil, "2013-01-14T02:00:00Z", "2013-01-14T02:00:01Z"},
		// no zone: the server's zone
		{"2013-01-14", hk, "2013-01-13T16:00:00Z", "2013-01-14T16:00:00Z"},
		{"2013-01-14T10:00", hk, "2013-01-14T02:00:00Z", "2013-01-14T02:01:00Z"},
		{"2013", hk, "2012-12-31T16:00:00Z", "2013-12-31T16:00:00Z"},
		// an explicit zone wins over the server's
		{"2013-01-14T10:00:00Z", hk, "2013-01-14T10:00:00Z", "2013-01-14T10:00:01Z"},
	}
	for _, tt := range tests {
		r := mustDate(t, tt.in, tt.loc)
		lo, hi := r.Time()
		if got := lo.Format(time.RFC3339Nano); got != tt.lo {
			t.Errorf("%s: lo = %s, want %s", tt.in, got, tt.lo)
		}
		if got := hi.Format(time.RFC3339Nano); got != tt.hi {
			t.Errorf("%s: hi = %s, want %s", tt.in, got, tt.hi)
		}
	}
}

func TestParseDateInvalid(t *testing.T) {
	for _, s := range []string{
		"", "13", "20130", "2013-1", "2013-13", "2013-00", "2013-02-30", "2013-01-32", "2013-01-14T",
		"2013-01-14T10", "2013-01-14T25:00", "2013-01-14T10:60", "2013-01-14T10:00:61", "2013-01-14 10:00",
		"2013-01-14T10:00:00.", "2013-01-14T10:00:00.x", "2013-01-14T10:00:00+8", "2013-01-14T10:00:00+15:00",
		"+013", "2013-+1", "abcd", "2013-01-14T10:00:00Zjunk",
	} {
		if r, err := ParseDate(s, nil); err == nil {
			t.Errorf("ParseDate(%q) = %v, want error", s, r)
		}
	}
}

func TestMatchDate(t *testing.T) {
	d := func(s string) DateRange { return mustDate(t, s, nil) }
	period := func(lo, hi string) DateRange {
		r := DateRange{OpenLow, OpenHigh}
		if lo != "" {
			r.Lo = d(lo).Lo
		}
		if hi != "" {
			r.Hi = d(hi).Hi
		}
		return r
	}
	tests := []struct {
		prefix Prefix
		search string
		target DateRange
		want   bool
	}{
		// eq: the search range contains the target
		{Eq, "2013-01-14", d("2013-01-14T10:00"), true},
		{Eq, "2013-01-14", d("2013-01-14"), true},
		{Eq, "2013-01-14", d("2013-01-15T00:00"), false},
		{Eq, "2013-01-14", d("2013-01"), false}, // a month is not within a day
		{Eq, "2013", d("2013-06-01T12:00:00Z"), true},
		{Eq, "2013-01-14T10:00", d("2013-01-14T10:00:30"), true},
		{Eq, "2013-01-14", period("2013-01-14", ""), false}, // ongoing
		// ne
		{Ne, "2013-01-14", d("2013-01-15"), true},
		{Ne, "2013-01-14", d("2013-01-14T23:59"), false},
		// gt / ge: the target reaches after the search range
		{Gt, "2013-01-14", d("2013-01-15"), true},
		{Gt, "2013-01-14", d("2013-01-14T23:59"), false},
		{Gt, "2013-01-14", d("2013-01"), true}, // January goes on after the 14th
		{Gt, "2013-01-14", d("2012"), false},
		{Ge, "2013-01-14", d("2013-01-14T23:59"), true},
		{Ge, "2013-01-14", d("2013-01-13"), false},
		{Gt, "2013-01-14", period("2010", ""), true}, // ongoing period reaches every future date
		// lt / le
		{Lt, "2013-01-14", d("2013-01-13T23:59:59"), true},
		{Lt, "2013-01-14", d("2013-01-14T00:00"), false},
		{Le, "2013-01-14", d("2013-01-14T00:00"), true},
		{Le, "2013-01-14", d("2013-01-15"), false},
		{Lt, "2013-01-14", period("", "2020"), true}, // no start: −∞
		// sa / eb: wholly after / before
		{Sa, "2013-01-14", d("2013-01-15"), true},
		{Sa, "2013-01-14", d("2013-01"), false},
		{Sa, "2013-01-14", period("2013-01-15", ""), true},
		{Eb, "2013-01-14", d("2013-01-13"), true},
		{Eb, "2013-01-14", d("2013-01-14"), false},
		{Eb, "2013-01-14", period("", "2013-01-10"), true},
		// a period open on both ends fits no eq but every gt and lt
		{Gt, "2013", DateRange{OpenLow, OpenHigh}, true},
		{Lt, "2013", DateRange{OpenLow, OpenHigh}, true},
		{Eq, "2013", DateRange{OpenLow, OpenHigh}, false},
	}
	for _, tt := range tests {
		s := d(tt.search)
		if got := MatchDate(tt.prefix, s, s, tt.target); got != tt.want {
			t.Errorf("%s%s vs %v = %v, want %v", tt.prefix, tt.search, tt.target, got, tt.want)
		}
	}
}

func TestApproxDate(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := mustDate(t, "2014", nil) // ten years before now: widened by about a year
	a := approxDate(s, now)
	lo, hi := a.Time()
	if lo.Year() != 2013 || hi.Year() != 2015 || hi.Month() != 11 {
		t.Errorf("ap2014 = %v", a)
	}
	if !MatchDate(Ap, s, a, mustDate(t, "2015-06", nil)) || MatchDate(Ap, s, a, mustDate(t, "2016-06", nil)) {
		t.Error("ap2014 should reach mid-2015 but not mid-2016")
	}
	// a range holding now is not widened
	cur := mustDate(t, "2024", nil)
	if approxDate(cur, now) != cur {
		t.Error("range containing now was widened")
	}
	// the future widens too
	fut := mustDate(t, "2034", nil)
	if w := approxDate(fut, now); w.Lo >= fut.Lo || w.Hi <= fut.Hi {
		t.Error("future date not widened")
	}
}
