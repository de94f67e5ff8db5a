package fhirpath

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

func init() {
	register(map[string]*function{
		// string manipulation (https://hl7.org/fhirpath/N1/#string-manipulation)
		"indexOf":        {min: 1, max: 1, eager: stringFn(fnIndexOf)},
		"lastIndexOf":    {min: 1, max: 1, eager: stringFn(fnLastIndexOf)},
		"substring":      {min: 1, max: 2, eager: fnSubstring},
		"startsWith":     {min: 1, max: 1, eager: stringFn(func(s, x string) Value { return boolValue(strings.HasPrefix(s, x)) })},
		"endsWith":       {min: 1, max: 1, eager: stringFn(func(s, x string) Value { return boolValue(strings.HasSuffix(s, x)) })},
		"contains":       {min: 1, max: 1, eager: stringFn(func(s, x string) Value { return boolValue(strings.Contains(s, x)) })},
		"upper":          {eager: stringMap(strings.ToUpper)},
		"lower":          {eager: stringMap(strings.ToLower)},
		"trim":           {eager: stringMap(strings.TrimSpace)},
		"replace":        {min: 2, max: 2, eager: fnReplace},
		"matches":        {min: 1, max: 1, eager: regexFn(false)},
		"matchesFull":    {min: 1, max: 1, eager: regexFn(true)},
		"replaceMatches": {min: 2, max: 2, eager: fnReplaceMatches},
		"length":         {eager: fnLength},
		"toChars":        {eager: fnToChars},
		"split":          {min: 1, max: 1, eager: fnSplit},
		"join":           {max: 1, eager: fnJoin},
		"encode":         {min: 1, max: 1, eager: codecFn(encode)},
		"decode":         {min: 1, max: 1, eager: codecFn(decode)},
		"escape":         {min: 1, max: 1, eager: codecFn(escape)},
		"unescape":       {min: 1, max: 1, eager: codecFn(unescape)},
	})
}

// inputString returns the single String input; ok is false when the input is empty.
func inputString(in Collection) (string, bool, error) {
	s, ok, err := singletonString(in)
	if err == nil && ok && in[0].typ.sys == kString {
		return s, true, nil
	}
	return s, ok, err
}

// stringFn makes a function of the input string and one String argument.
func stringFn(f func(s, arg string) Value) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
		s, ok, err := inputString(in)
		if err != nil || !ok {
			return nil, err
		}
		x, ok, err := singletonString(a[0])
		if err != nil || !ok {
			return nil, err
		}
		return Collection{f(s, x)}, nil
	}
}

func stringMap(f func(string) string) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
		s, ok, err := inputString(in)
		if err != nil || !ok {
			return nil, err
		}
		return Collection{stringValue(f(s))}, nil
	}
}

// Indexes and lengths count characters (runes), not bytes.
func fnIndexOf(s, x string) Value {
	i := strings.Index(s, x)
	if i < 0 {
		return intValue(-1)
	}
	return intValue(int64(utf8.RuneCountInString(s[:i])))
}

func fnLastIndexOf(s, x string) Value {
	i := strings.LastIndex(s, x)
	if i < 0 {
		return intValue(-1)
	}
	return intValue(int64(utf8.RuneCountInString(s[:i])))
}

func fnSubstring(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	start, ok, err := singletonInt(a[0])
	if err != nil || !ok {
		return nil, err
	}
	r := []rune(s)
	if start < 0 || start >= int64(len(r)) {
		return nil, nil
	}
	end := int64(len(r))
	if len(a) == 2 {
		n, ok, err := singletonInt(a[1])
		if err != nil {
			return nil, err
		}
		if ok {
			end = min(end, start+max(n, 0))
		}
	}
	return Collection{stringValue(string(r[start:end]))}, nil
}

// replaceArgs reads the input string and the pattern and substitution of
// replace() and replaceMatches(); ok is false when any of them is empty.
func replaceArgs(in Collection, a []Collection) (s, pat, rep string, ok bool, err error) {
	s, ok0, err := inputString(in)
	if err != nil || !ok0 {
		return "", "", "", false, err
	}
	pat, ok1, err := singletonString(a[0])
	if err != nil {
		return "", "", "", false, err
	}
	rep, ok2, err := singletonString(a[1])
	if err != nil || !ok1 || !ok2 {
		return "", "", "", false, err
	}
	return s, pat, rep, true, nil
}

func fnReplace(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	s, pat, rep, ok, err := replaceArgs(in, a)
	if err != nil || !ok {
		return nil, err
	}
	if n := strings.Count(s, pat); n > 0 && len(s)+n*len(rep) > maxString {
		return nil, errors.New("string too long")
	}
	return Collection{stringValue(strings.ReplaceAll(s, pat, rep))}, nil
}

// compileRegex compiles a FHIRPath regular expression; '.' matches new lines
// (single-line mode, https://hl7.org/fhirpath/N1/#matchesregex-string-boolean).
// Compiled patterns are kept: invariants evaluated on every write call
// matches() with the same few patterns again and again.
func compileRegex(pat string, full bool) (*regexp.Regexp, error) {
	if full {
		pat = "^(?:" + pat + ")$"
	}
	pat = "(?s)" + pat
	if re, ok := regexCache.Load(pat); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, err
	}
	if regexCached.Add(1) <= maxCachedRegexes {
		regexCache.Store(pat, re)
	}
	return re, nil
}

// maxCachedRegexes bounds the regex cache: patterns can come from ad-hoc
// expressions (the fhirpath command, FHIRPath Patch), not only invariants.
const maxCachedRegexes = 1024

var (
	regexCache  sync.Map // pattern → *regexp.Regexp
	regexCached atomic.Int64
)

func regexFn(full bool) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
		s, ok, err := inputString(in)
		if err != nil || !ok {
			return nil, err
		}
		pat, ok, err := singletonString(a[0])
		if err != nil || !ok {
			return nil, err
		}
		re, err := compileRegex(pat, full)
		if err != nil {
			return nil, err
		}
		return boolCollection(re.MatchString(s)), nil
	}
}

func fnReplaceMatches(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	s, pat, rep, ok, err := replaceArgs(in, a)
	if err != nil || !ok {
		return nil, err
	}
	if pat == "" {
		return Collection{stringValue(s)}, nil
	}
	re, err := compileRegex(pat, false)
	if err != nil {
		return nil, err
	}
	r := re.ReplaceAllString(s, rep)
	if len(r) > maxString {
		return nil, errors.New("string too long")
	}
	return Collection{stringValue(r)}, nil
}

func fnLength(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	return Collection{intValue(int64(utf8.RuneCountInString(s)))}, nil
}

func fnToChars(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	var out Collection
	for _, r := range s {
		out = append(out, stringValue(string(r)))
	}
	return out, nil
}

func fnSplit(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	s, ok, err := inputString(in)
	if err != nil || !ok {
		return nil, err
	}
	sep, ok, err := singletonString(a[0])
	if err != nil || !ok {
		return nil, err
	}
	parts := strings.Split(s, sep)
	out := make(Collection, len(parts))
	for i, p := range parts {
		out[i] = stringValue(p)
	}
	return out, nil
}

func fnJoin(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	sep := ""
	if len(a) == 1 {
		var err error
		if sep, _, err = singletonString(a[0]); err != nil {
			return nil, err
		}
	}
	if len(in) == 0 {
		return nil, nil
	}
	parts := make([]string, 0, len(in))
	for _, v := range in {
		s, _, err := singletonString(Collection{v})
		if err != nil {
			return nil, err
		}
		parts = append(parts, s)
	}
	return Collection{stringValue(strings.Join(parts, sep))}, nil
}

// codecFn makes encode, decode, escape and unescape; an unknown format gives empty.
func codecFn(f func(s, format string) (string, bool)) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
		s, ok, err := inputString(in)
		if err != nil || !ok {
			return nil, err
		}
		format, ok, err := singletonString(a[0])
		if err != nil || !ok {
			return nil, err
		}
		r, ok := f(s, format)
		if !ok {
			return nil, nil
		}
		return Collection{stringValue(r)}, nil
	}
}

func encode(s, format string) (string, bool) {
	switch format {
	case "base64":
		return base64.StdEncoding.EncodeToString([]byte(s)), true
	case "urlbase64":
		return base64.URLEncoding.EncodeToString([]byte(s)), true
	case "hex":
		return hex.EncodeToString([]byte(s)), true
	}
	return "", false
}

func decode(s, format string) (string, bool) {
	var b []byte
	var err error
	switch format {
	case "base64":
		b, err = base64.StdEncoding.DecodeString(s)
	case "urlbase64":
		b, err = base64.URLEncoding.DecodeString(s)
	case "hex":
		b, err = hex.DecodeString(s)
	default:
		return "", false
	}
	return string(b), err == nil
}

func escape(s, format string) (string, bool) {
	switch format {
	case "html":
		return htmlEscaper.Replace(s), true
	case "json":
		b, _ := json.Marshal(s)
		r := string(b[1 : len(b)-1])
		r = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(r)
		return r, true
	}
	return "", false
}

func unescape(s, format string) (string, bool) {
	switch format {
	case "html":
		return html.UnescapeString(s), true
	case "json":
		return unescapeJSON(s)
	}
	return "", false
}

// unescapeJSON undoes the escapes of a JSON string body, leaving other text as it is.
func unescapeJSON(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if i+5 > len(s) {
				return "", false
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", false
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
