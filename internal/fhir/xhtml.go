package fhir

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

const xhtmlNS = "http://www.w3.org/1999/xhtml"

// xhtmlElements is the subset of XHTML allowed in a narrative
// (https://hl7.org/fhir/R4/narrative.html#xhtml).
var xhtmlElements = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`a abbr acronym b big blockquote br caption cite code col colgroup dd dfn div dl dt
		em h1 h2 h3 h4 h5 h6 hr i img li ol p pre q samp small span strong sub sup table tbody td tfoot th thead tr tt ul var`) {
		m[n] = true
	}
	return m
}()

// xhtml checks a narrative div: well-formed XML, root div in the XHTML
// namespace, only the allowed elements, no event attributes or javascript:
// URLs (txt-1), and some non-whitespace text or an image (txt-2).
func (v *validator) xhtml(s string) {
	content, problems := checkXHTML(s)
	for _, p := range problems {
		v.report("invariant", "txt-1: "+p)
	}
	if len(problems) == 0 && !content {
		v.report("invariant", "txt-2: the narrative must have some non-whitespace content")
	}
}

// checkXHTML returns whether the div has content and the txt-1 problems found.
func checkXHTML(s string) (content bool, problems []string) {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	// HTML entity names (&nbsp;) are accepted, as the HL7 validator does, although
	// without a DTD XML only defines the five predefined ones.
	d.Entity = xml.HTMLEntity
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return content, append(problems, "the narrative is not well-formed XHTML: "+err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 && (t.Name.Local != "div" || t.Name.Space != xhtmlNS) {
				return content, append(problems, "the narrative must be a div in the XHTML namespace")
			}
			depth++
			problems = checkXHTMLElement(t, problems)
			content = content || t.Name.Local == "img"
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(strings.TrimSpace(string(t))) > 0 {
				return content, append(problems, "text outside the root div")
			}
			content = content || len(strings.TrimSpace(string(t))) > 0
		case xml.ProcInst, xml.Directive:
			return content, append(problems, "processing instructions and directives are not allowed")
		}
	}
	if depth != 0 {
		problems = append(problems, "the narrative is not well-formed XHTML")
	}
	return content, problems
}

func checkXHTMLElement(t xml.StartElement, problems []string) []string {
	if t.Name.Space != xhtmlNS || !xhtmlElements[t.Name.Local] {
		problems = append(problems, "element <"+t.Name.Local+"> is not allowed in a narrative")
	}
	for _, a := range t.Attr {
		name := strings.ToLower(a.Name.Local)
		val := strings.ToLower(strings.TrimSpace(a.Value))
		switch {
		case strings.HasPrefix(name, "on"):
			problems = append(problems, "event attribute "+a.Name.Local+" is not allowed in a narrative")
		case strings.HasPrefix(val, "javascript:") || strings.HasPrefix(val, "vbscript:"):
			problems = append(problems, "script URL in attribute "+a.Name.Local+" is not allowed in a narrative")
		}
	}
	return problems
}
