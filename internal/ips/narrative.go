package ips

import (
	"html"
	"strings"
)

// Narratives are XHTML fragments within FHIR's rules
// (https://hl7.org/fhir/R4/narrative.html#xhtml): one div in the XHTML
// namespace, only plain elements (p, table, thead, tbody, tr, th, td),
// every text escaped, its language stated.

// div wraps body in the narrative's div, in lang.
func div(lang, body string) string {
	return `<div xmlns="http://www.w3.org/1999/xhtml" lang="` + lang + `" xml:lang="` + lang + `">` + body + `</div>`
}

// text escapes s for XHTML, leaving out the characters XML 1.0 does not
// allow (control characters, non-characters).
func text(s string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, s)
	return html.EscapeString(clean)
}

// sectionNarrative is a section's narrative: a table of its entries, or
// the note saying why it has none.
func sectionNarrative(lang string, sv sectionView) string {
	if len(sv.Rows) == 0 {
		return div(lang, "<p>"+text(sv.Empty)+"</p>")
	}
	var b strings.Builder
	b.WriteString("<table><thead><tr>")
	for _, c := range sv.Columns {
		b.WriteString("<th>" + text(c) + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, row := range sv.Rows {
		b.WriteString("<tr>")
		for _, cell := range row {
			b.WriteString("<td>" + text(cell) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return div(lang, b.String())
}

// headerNarrative is the Composition's own narrative: the document's
// title and whom it is about.
func headerNarrative(v view) string {
	var b strings.Builder
	b.WriteString("<p><b>" + text(v.Title) + "</b></p>")
	b.WriteString("<p>" + text(word(v.Lang, "patient")) + ": " + text(v.Patient))
	if v.Born != "" {
		b.WriteString("; " + text(word(v.Lang, "born")) + ": " + text(v.Born))
	}
	if v.Gender != "" {
		b.WriteString("; " + text(word(v.Lang, "gender")) + ": " + text(v.Gender))
	}
	b.WriteString("</p><p>" + text(word(v.Lang, "generated")) + ": " + text(v.Generated) + "</p>")
	b.WriteString("<p>" + text(word(v.Lang, "source")) + "</p>")
	return div(v.Lang, b.String())
}
