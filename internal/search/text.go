package search

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize folds a string for string search
// (https://hl7.org/fhir/R4/search.html#string: case- and
// accent-insensitive): compatibility-decomposed (NFKD, so full-width
// "Ｌｅｅ" is "lee"), combining marks dropped, recomposed (NFC, so Hangul
// syllables stay whole), lower-cased, white space trimmed and collapsed.
// "Zoë  Ménard" becomes "zoe menard"; Chinese text is unchanged. The kana
// voicing marks are kept: ガ and カ are different sounds, not accents.
func Normalize(s string) string {
	var d strings.Builder
	d.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) && r != '\u3099' && r != '\u309A' {
			continue
		}
		d.WriteRune(r)
	}
	var b strings.Builder
	b.Grow(d.Len())
	space := false
	for _, r := range norm.NFC.String(d.String()) {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteString(foldRune(r))
	}
	return b.String()
}

// foldRune lower-cases r, with the few letters that do not decompose into
// a base letter and a mark mapped by hand (ø, ł, æ, ß ...).
func foldRune(r rune) string {
	switch r {
	case 'ø', 'Ø':
		return "o"
	case 'ł', 'Ł':
		return "l"
	case 'đ', 'Đ':
		return "d"
	case 'æ', 'Æ':
		return "ae"
	case 'œ', 'Œ':
		return "oe"
	case 'ß':
		return "ss"
	case 'ı':
		return "i"
	}
	return string(unicode.ToLower(r))
}

// StringMatch reports whether the target, as indexed (normalised and
// exact forms), matches the search value under the modifier: by default
// the normalised target starts with the normalised value; :exact compares
// the original strings; :contains looks anywhere in the normalised target.
func StringMatch(mod Modifier, value string, target StringRow) bool {
	switch mod {
	case ModExact:
		return target.Exact == value
	case ModContains:
		return strings.Contains(target.Norm, Normalize(value))
	default:
		return strings.HasPrefix(target.Norm, Normalize(value))
	}
}
