package hl7v2

import (
	"fmt"
	"strings"
	"time"
)

// dateTime converts an HL7 v2 DTM/TS (YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ])
// to a FHIR dateTime at the precision sent. FHIR requires a time zone
// whenever there is a time, so a time without an offset is read in loc.
// When instant is set the result is padded to full seconds, as
// FHIR instant requires.
func dateTime(s string, loc *time.Location, instant bool) (string, error) {
	s = strings.TrimSpace(s)
	body, zone := s, ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		body, zone = s[:i], s[i:]
	}
	frac := ""
	if i := strings.IndexByte(body, '.'); i >= 0 {
		body, frac = body[:i], body[i+1:]
		if frac == "" || len(frac) > 4 || !isDigits(frac) || len(body) != 14 {
			return "", fmt.Errorf("%q: bad fraction of a second", s)
		}
	}
	if !isDigits(body) || len(body)%2 != 0 || len(body) < 4 || len(body) > 14 {
		return "", fmt.Errorf("%q is not a date/time (YYYY[MM[DD[HH[MM[SS]]]]][+/-ZZZZ])", s)
	}
	if zone != "" && (len(zone) != 5 || !isDigits(zone[1:])) {
		return "", fmt.Errorf("%q: bad time zone offset %q", s, zone)
	}
	if instant && len(body) < 8 {
		return "", fmt.Errorf("%q: an instant needs at least a day", s)
	}
	if instant {
		body += "000000"[:14-len(body)]
	}
	layout := "20060102150405"[:len(body)]
	var t time.Time
	var err error
	if zone != "" {
		t, err = time.Parse(layout+"-0700", body+zone)
	} else {
		t, err = time.ParseInLocation(layout, body, loc)
	}
	if err != nil {
		return "", fmt.Errorf("%q is not a valid date/time", s)
	}
	switch len(body) {
	case 4:
		return t.Format("2006"), nil
	case 6:
		return t.Format("2006-01"), nil
	case 8:
		return t.Format("2006-01-02"), nil
	}
	out := t.Format("2006-01-02T15:04:05")
	if frac != "" {
		out += "." + frac
	}
	return out + t.Format("Z07:00"), nil
}

// date converts the date part of a DT/TS to a FHIR date.
func date(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 8 {
		s = s[:8]
	}
	return dateTime(s, time.UTC, false)
}
