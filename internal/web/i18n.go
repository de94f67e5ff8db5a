package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lang is a language the apps speak: a BCP 47 tag.
type Lang string

// The languages of the apps. Every message key exists in both.
const (
	English Lang = "en"
	Chinese Lang = "zh-Hant"
)

// Langs are the languages in the order the switch offers them.
var Langs = []Lang{English, Chinese}

// langCookie remembers the chosen language (not a secret: no prefix needed,
// but Lax and HttpOnly like the rest).
const langCookie = "lang"

// ParseLang returns the Lang a tag names (en, en-GB, zh-Hant, zh-HK, zh-TW
// and zh are Chinese), and false for anything else.
func ParseLang(tag string) (Lang, bool) {
	t := strings.ToLower(strings.TrimSpace(tag))
	switch {
	case t == "en" || strings.HasPrefix(t, "en-"):
		return English, true
	case t == "zh" || t == "zh-hant" || strings.HasPrefix(t, "zh-hant-") || t == "zh-hk" || t == "zh-tw" || t == "zh-mo":
		return Chinese, true
	}
	return "", false
}

// fromAcceptLanguage picks the first language of an Accept-Language header
// the apps speak, English otherwise.
func fromAcceptLanguage(h string) Lang {
	for part := range strings.SplitSeq(h, ",") {
		tag, _, _ := strings.Cut(part, ";")
		if l, ok := ParseLang(tag); ok {
			return l
		}
	}
	return English
}

// Catalogue is the messages of the apps in every language, by key. Keys
// are dotted ("nav.home"); values are fmt formats whose arguments are
// given by index ("%[1]s") where the languages order them differently.
type Catalogue map[Lang]map[string]string

// LoadCatalogue reads messages.<lang>.json for each of Langs from dir in
// fsys and adds them to c; a key defined twice is an error.
func (c Catalogue) LoadCatalogue(fsys fs.FS, dir string) error {
	for _, l := range Langs {
		name := path.Join(dir, "messages."+string(l)+".json")
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("web: messages: %w", err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("web: messages %s: %w", name, err)
		}
		if c[l] == nil {
			c[l] = map[string]string{}
		}
		for k, v := range m {
			if _, dup := c[l][k]; dup {
				return fmt.Errorf("web: messages %s: key %q is defined twice", name, k)
			}
			c[l][k] = v
		}
	}
	return nil
}

// Missing lists, sorted, "lang: key" for every key some language has and
// another lacks (or has empty). The site refuses to start unless it is
// empty.
func (c Catalogue) Missing() []string {
	all := map[string]bool{}
	for _, m := range c {
		for k := range m {
			all[k] = true
		}
	}
	var out []string
	for _, l := range Langs {
		for k := range all {
			if strings.TrimSpace(c[l][k]) == "" {
				out = append(out, string(l)+": "+k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Keys returns every key, sorted.
func (c Catalogue) Keys() []string {
	return slices.Sorted(maps.Keys(c[English]))
}

// missingMark is how a key missing from the catalogue shows on a page, so
// a browser test finds it in the text.
const missingMark = "⟦"

// T formats the message key in l with args; a missing key shows as
// ⟦key⟧ (the catalogue check at start-up makes that a bug in a key's
// name).
func (c Catalogue) T(l Lang, key string, args ...any) string {
	f, ok := c[l][key]
	if !ok {
		return missingMark + key + "⟧"
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// hongKong is the apps' time zone: Hong Kong has kept UTC+8 without
// daylight saving since 1979.
var hongKong = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Hong_Kong"); err == nil {
		return loc
	}
	return time.FixedZone("HKT", 8*3600)
}()

// HongKong returns the apps' time zone.
func HongKong() *time.Location { return hongKong }

// ParseTime reads a FHIR date, dateTime or instant (any precision); ok is
// false for anything else. A date without a time is midnight in Hong Kong.
func ParseTime(s string) (t time.Time, precision int, ok bool) {
	for i, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		var err error
		if i == 0 {
			t, err = time.Parse(layout, s)
		} else {
			t, err = time.ParseInLocation(layout, s, hongKong)
		}
		if err == nil {
			return t, i, true
		}
	}
	return time.Time{}, 0, false
}

// FormatDate writes a date for l: "3 Nov 2025", "2025年11月3日"; FHIR
// partial dates keep their precision ("Nov 2025", "2025年11月").
func FormatDate(l Lang, t time.Time) string { return formatDate(l, t, 2) }

func formatDate(l Lang, t time.Time, precision int) string {
	t = t.In(hongKong)
	if l == Chinese {
		switch {
		case precision >= 4:
			return fmt.Sprintf("%d年", t.Year())
		case precision == 3:
			return fmt.Sprintf("%d年%d月", t.Year(), t.Month())
		}
		return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
	}
	switch {
	case precision >= 4:
		return t.Format("2006")
	case precision == 3:
		return t.Format("Jan 2006")
	}
	return t.Format("2 Jan 2006")
}

// FormatDateTime writes a moment in Hong Kong time for l: "3 Nov 2025,
// 10:42", "2025年11月3日 10:42".
func FormatDateTime(l Lang, t time.Time) string {
	t = t.In(hongKong)
	if l == Chinese {
		return formatDate(l, t, 2) + " " + t.Format("15:04")
	}
	return t.Format("2 Jan 2006, 15:04")
}

// FormatFHIRDate formats a FHIR date or dateTime string for l at its own
// precision (a date without a time shows no time); text that is not one
// comes back unchanged.
func FormatFHIRDate(l Lang, s string) string {
	t, p, ok := ParseTime(s)
	switch {
	case !ok:
		return s
	case p <= 1:
		return FormatDateTime(l, t)
	}
	return formatDate(l, t, p)
}

// FormatNumber writes a decimal with thousands separators, keeping the
// digits given after the point ("1,234.50"); both languages group by
// three with commas in Hong Kong.
func FormatNumber(_ Lang, s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if _, err := strconv.ParseUint(whole, 10, 64); err != nil {
		return s
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}
