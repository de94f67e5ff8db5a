package search

import (
	"html"
	"slices"
	"strings"
	"unicode"
)

// Full-text search (https://hl7.org/fhir/R4/search.html#text): _text
// searches the narrative (text.div with its tags stripped) and _content
// every string in the resource. The indexer writes one TextRow per
// resource and parameter; a value matches when each of its words occurs
// as a word of the text, the last one as a prefix ("chest pa" finds "chest
// pain"). Words are runs of letters and digits of the Normalize'd text, as
// SQLite FTS5's unicode61 tokenizer and PostgreSQL's 'simple' configuration
// split them for ASCII text.
//
// Neither tokenizer splits a run of Chinese (or other unspaced script)
// characters into words, so a value with a non-ASCII letter also matches
// when it occurs anywhere in the normalised text: 糖尿病 finds
// "2型糖尿病". PostgreSQL's parser also keeps some punctuated forms
// (hyphenated words, e-mail addresses, "-6") as tokens of their own; such
// values may match differently there, and are outside this contract.

// FullText is the kind of a TextRow: not an R4 parameter type, but the
// table of the full-text index. The parameters themselves are strings.
const FullText ParamType = "fulltext"

// MaxIndexedText bounds the text indexed for one resource and parameter
// (bytes of normalised text); the rest is not searchable.
const MaxIndexedText = 64 << 10

// TextRow is the full-text row of _text or _content: the resource's
// narrative or string content, normalised and bounded.
type TextRow struct {
	Text string
}

// Kind implements Row.
func (TextRow) Kind() ParamType { return FullText }

// fullText are the parameters answered by the full-text index.
var fullText = map[string]bool{"_text": true, "_content": true}

// IsFullText reports whether code is _text or _content.
func IsFullText(code string) bool { return fullText[code] }

// textRow computes the row of _text or _content for res; ok is false when
// the resource has no such text.
func textRow(code string, res map[string]any) (TextRow, bool) {
	var b strings.Builder
	switch code {
	case "_text":
		if n, ok := res["text"].(map[string]any); ok {
			div, _ := n["div"].(string)
			b.WriteString(StripTags(div))
		}
	case "_content":
		collectStrings(&b, "", res)
	}
	t := bound(Normalize(b.String()), MaxIndexedText)
	return TextRow{Text: t}, t != ""
}

// collectStrings writes every string value under v, space separated,
// narrative divs without their tags.
func collectStrings(b *strings.Builder, key string, v any) {
	if b.Len() > 4*MaxIndexedText {
		return
	}
	switch v := v.(type) {
	case string:
		if key == "div" {
			v = StripTags(v)
		}
		if key != "resourceType" {
			b.WriteString(v)
			b.WriteByte(' ')
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			collectStrings(b, k, v[k])
		}
	case []any:
		for _, e := range v {
			collectStrings(b, key, e)
		}
	}
}

// StripTags turns XHTML into its text: tags become spaces and entities
// are decoded.
func StripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}

// bound cuts s to at most n bytes, on a rune boundary.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(c byte) bool { return c&0xC0 != 0x80 }

// TextWords splits a search value into the words the full-text index
// matches: runs of letters and digits of the normalised value.
func TextWords(v string) []string {
	return strings.FieldsFunc(Normalize(v), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

// TextNeedsSubstring reports whether a value also matches as a substring
// of the text: it has a non-ASCII letter (Chinese, Japanese …).
func TextNeedsSubstring(v string) bool {
	for _, r := range v {
		if r > unicode.MaxASCII && unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// MatchText reports whether the full-text value v matches row r.
func MatchText(v string, r TextRow) bool {
	if TextNeedsSubstring(v) {
		if n := Normalize(v); n != "" && strings.Contains(r.Text, n) {
			return true
		}
	}
	words := TextWords(v)
	if len(words) == 0 {
		return false
	}
	have := TextWords(r.Text)
	for i, w := range words {
		last := i == len(words)-1
		if !slices.ContainsFunc(have, func(h string) bool { return h == w || last && strings.HasPrefix(h, w) }) {
			return false
		}
	}
	return true
}
