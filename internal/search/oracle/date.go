package oracle

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"
)

// The open ends of a Period without a start or an end.
const (
	openLow  int64 = math.MinInt64
	openHigh int64 = math.MaxInt64
)

// dateRE is a FHIR date, dateTime or instant of any precision; the zone is
// optional (a search value may leave it out) and then UTC.
var dateRE = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$`)

// parseDate returns the instants [lo, hi) a date value covers, in
// microseconds since the epoch: "2013" is the whole year, "2013-01-14T10:00"
// the whole minute, "...:05.12" a hundredth of a second.
func parseDate(s string) (lo, hi int64, err error) {
	m := dateRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("not a date: %q", s)
	}
	num := func(i, def int) int {
		if m[i] == "" {
			return def
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" {
		h, _ := strconv.Atoi(z[1:3])
		mi, _ := strconv.Atoi(z[4:6])
		off := h*3600 + mi*60
		if z[0] == '-' {
			off = -off
		}
		loc = time.FixedZone(z, off)
	}
	start := time.Date(num(1, 0), time.Month(num(2, 1)), num(3, 1), num(4, 0), num(5, 0), num(6, 0), 0, loc)
	var end time.Time
	switch {
	case m[2] == "":
		end = start.AddDate(1, 0, 0)
	case m[3] == "":
		end = start.AddDate(0, 1, 0)
	case m[4] == "":
		end = start.AddDate(0, 0, 1)
	case m[6] == "":
		end = start.Add(time.Minute)
	case m[7] == "":
		end = start.Add(time.Second)
	default:
		frac := m[7]
		if len(frac) > 6 {
			frac = frac[:6]
		}
		us, _ := strconv.Atoi(frac)
		for i := len(frac); i < 6; i++ {
			us *= 10
		}
		step := int64(1)
		for i := len(frac); i < 6; i++ {
			step *= 10
		}
		lo := start.UnixMicro() + int64(us)
		return lo, lo + step, nil
	}
	return start.UnixMicro(), end.UnixMicro(), nil
}

func microString(us int64) string {
	switch us {
	case openLow:
		return "-inf"
	case openHigh:
		return "+inf"
	}
	return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.999999Z")
}

// matchDate applies prefix p with search range [slo, shi) to a target
// range [tlo, thi), as the table at
// https://hl7.org/fhir/R4/search.html#prefix reads for ranges:
//
//	eq  the search range fully contains the target
//	ne  it does not
//	gt  the range above the search value overlaps the target
//	lt  the range below the search value overlaps the target
//	ge  gt, or eq
//	le  lt, or eq
//	sa  the target starts after the search range ends
//	eb  the target ends before the search range starts
func matchDate(p string, slo, shi, tlo, thi int64) bool {
	contains := slo <= tlo && thi <= shi
	above := thi > shi // some instant of the target is at or after shi
	below := tlo < slo // some instant of the target is before slo
	switch p {
	case "ne":
		return !contains
	case "gt":
		return above
	case "lt":
		return below
	case "ge":
		return above || contains
	case "le":
		return below || contains
	case "sa":
		return tlo >= shi
	case "eb":
		return thi <= slo
	}
	return contains
}
