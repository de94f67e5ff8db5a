package registry

import (
	"slices"
	"strings"
	"unicode"
)

// The languages of a citizen's names (BCP 47).
const (
	LangEnglish = "en"
	LangChinese = "zh-HK"
)

// nameLanguage is the language of a HumanName: its language extension,
// else Chinese when it holds Han characters, else English.
func nameLanguage(name map[string]any) string {
	exts, _ := name["extension"].([]any)
	for _, e := range exts {
		m, _ := e.(map[string]any)
		if url, _ := m["url"].(string); url == LanguageExtension {
			if code, _ := m["valueCode"].(string); code != "" {
				return code
			}
		}
	}
	if hasHan(nameText(name)) {
		return LangChinese
	}
	return LangEnglish
}

// isChinese reports whether a language tag is Chinese (zh, zh-HK, zh-Hant…).
func isChinese(lang string) bool { return lang == "zh" || strings.HasPrefix(lang, "zh-") }

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// withLanguage returns a copy of name carrying its language extension.
func withLanguage(name map[string]any) map[string]any {
	out := make(map[string]any, len(name)+1)
	for k, v := range name {
		out[k] = v
	}
	lang := nameLanguage(name)
	exts, _ := name["extension"].([]any)
	for _, e := range exts {
		if m, _ := e.(map[string]any); m["url"] == LanguageExtension {
			return out
		}
	}
	out["extension"] = append(append([]any{}, exts...), map[string]any{"url": LanguageExtension, "valueCode": lang})
	return out
}

// nameText is the whole name as written: text, else family and given
// joined.
func nameText(name map[string]any) string {
	if t, _ := name["text"].(string); t != "" {
		return t
	}
	parts := []string{}
	if f, _ := name["family"].(string); f != "" {
		parts = append(parts, f)
	}
	given, _ := name["given"].([]any)
	for _, g := range given {
		if s, _ := g.(string); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// nameKey is a HumanName reduced for comparison: family and given names
// (else text) folded to lower-case letters and Han characters, with
// spaces, hyphens and punctuation dropped, so "CHAN Tai-man" and "Chan
// Tai Man" compare equal. family is the family name alone, folded.
type nameKey struct {
	lang   string
	family string
	full   string
}

func keyOf(name map[string]any) nameKey {
	k := nameKey{lang: nameLanguage(name)}
	family, _ := name["family"].(string)
	k.family = fold(family)
	full := family
	given, _ := name["given"].([]any)
	for _, g := range given {
		s, _ := g.(string)
		full += s
	}
	if fold(full) == "" {
		full, _ = name["text"].(string)
	}
	k.full = fold(full)
	if !isChinese(k.lang) {
		// An English name written "Tai Man CHAN" or "CHAN Tai Man" is one
		// name: compare the letters in sorted word order.
		k.full = sortedWords(family, given, name["text"])
	}
	return k
}

// fold keeps letters, digits and Han characters, lower-cased.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// sortedWords folds the words of an English name and joins them sorted.
func sortedWords(family string, given []any, text any) string {
	words := strings.FieldsFunc(family, splitName)
	for _, g := range given {
		s, _ := g.(string)
		words = append(words, strings.FieldsFunc(s, splitName)...)
	}
	if len(words) == 0 {
		t, _ := text.(string)
		words = strings.FieldsFunc(t, splitName)
	}
	out := make([]string, 0, len(words))
	for _, w := range words {
		if f := fold(w); f != "" {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func splitName(r rune) bool { return unicode.IsSpace(r) || r == '-' || r == ',' || r == '.' }

// names lists a resource's HumanNames.
func names(res map[string]any) []map[string]any {
	list, _ := res["name"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, n := range list {
		if m, ok := n.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// nameAgreement compares two resources' names: full when a name of one
// equals a name of the other in the same script (English with English,
// Chinese with Chinese), family when only family names agree.
func nameAgreement(a, b map[string]any) (full, family bool) {
	for _, x := range names(a) {
		kx := keyOf(x)
		for _, y := range names(b) {
			ky := keyOf(y)
			if isChinese(kx.lang) != isChinese(ky.lang) {
				continue
			}
			if kx.full != "" && kx.full == ky.full {
				return true, true
			}
			if kx.family != "" && kx.family == ky.family {
				family = true
			}
		}
	}
	return false, family
}
