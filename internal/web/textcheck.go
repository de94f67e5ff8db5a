package web

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"text/template/parse"
	"unicode"
)

// hole stands for a template action in the text LiteralText checks.
const hole = "\x00"

var (
	tagPattern      = regexp.MustCompile(`(?s)<!--.*?-->|<[^>]*>`)
	attrPattern     = regexp.MustCompile(`(?i)\b(alt|title|aria-label|placeholder|aria-description)="([^"]*)"`)
	entityPattern   = regexp.MustCompile(`&[#A-Za-z0-9]+;`)
	languageNameSet = []string{"English", "繁體中文"}
)

// LiteralText lists the words written straight into the templates
// matching pattern in fsys instead of going through the catalogue (T):
// text between tags and the alt, title, aria-label and placeholder
// attributes. Every page must be translatable, so apps test that it is
// empty.
func LiteralText(fsys fs.FS, pattern string) ([]string, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		trees, err := parse.Parse(n, string(b), "{{", "}}", placeholderFuncs, builtinFuncs())
		if err != nil {
			return nil, fmt.Errorf("web: %s: %w", n, err)
		}
		for name, t := range trees {
			var sb strings.Builder
			flatten(&sb, t.Root)
			for _, w := range literalWords(sb.String()) {
				out = append(out, fmt.Sprintf("%s (%s): %q", n, name, w))
			}
		}
	}
	return out, nil
}

// builtinFuncs names text/template's own functions for the parser.
func builtinFuncs() map[string]any {
	m := map[string]any{}
	for _, f := range []string{"and", "or", "not", "len", "index", "slice", "print", "printf", "println",
		"html", "js", "urlquery", "call", "eq", "ne", "lt", "le", "gt", "ge"} {
		m[f] = fmt.Sprint
	}
	return m
}

// flatten writes a template's text with each action as a hole.
func flatten(sb *strings.Builder, n parse.Node) {
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return
		}
		for _, c := range x.Nodes {
			flatten(sb, c)
		}
	case *parse.TextNode:
		sb.Write(x.Text)
	case *parse.IfNode:
		sb.WriteString(hole)
		flatten(sb, x.List)
		flatten(sb, x.ElseList)
	case *parse.RangeNode:
		sb.WriteString(hole)
		flatten(sb, x.List)
		flatten(sb, x.ElseList)
	case *parse.WithNode:
		sb.WriteString(hole)
		flatten(sb, x.List)
		flatten(sb, x.ElseList)
	default:
		sb.WriteString(hole)
	}
}

// literalWords returns the runs of letters in s outside tags, and in the
// human-readable attributes of tags, ignoring the holes and entities. The
// language switch's own names are the only words allowed as they are.
func literalWords(s string) []string {
	var out []string
	for _, tag := range tagPattern.FindAllString(s, -1) {
		for _, m := range attrPattern.FindAllStringSubmatch(tag, -1) {
			if hasLetter(m[2]) {
				out = append(out, m[1]+"="+m[2])
			}
		}
	}
	text := entityPattern.ReplaceAllString(tagPattern.ReplaceAllString(s, hole), hole)
	for _, part := range strings.Split(text, hole) {
		if p := strings.TrimSpace(part); hasLetter(p) {
			out = append(out, p)
		}
	}
	return out
}

func hasLetter(s string) bool {
	for _, w := range languageNameSet {
		s = strings.ReplaceAll(s, w, "")
	}
	for _, r := range strings.ReplaceAll(s, hole, "") {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
