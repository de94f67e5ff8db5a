package ips

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// cjkFamily is the name the PDF gives the loaded CJK font.
const cjkFamily = "cjk"

// PDF prints doc on A4 pages: the title, whom it is about, then every
// section with its entries or the note saying why it has none, page
// numbers at the foot. In Chinese it needs the CJK font; without one the
// summary is printed in English with a note saying why.
func (s *Service) PDF(doc Document) ([]byte, error) {
	v, note := doc.view, ""
	if v.Lang == TraditionalChinese && s.font == nil {
		r := reader{lang: English, terms: s.terms, included: doc.rec.byRef}
		v, note = s.read(r, doc.patient, doc.placed, doc.now), word(English, "noFont")
	}
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCreationDate(doc.now)
	p.SetModificationDate(doc.now)
	p.SetCatalogSort(true)
	p.SetTitle(v.Title, true)
	p.SetCreator(s.cfg.Name, true)
	p.SetLang(v.Lang)
	family, bold, show := "Helvetica", "B", p.UnicodeTranslatorFromDescriptor("")
	if s.font != nil {
		p.AddUTF8FontFromBytes(cjkFamily, "", s.font)
		family, bold, show = cjkFamily, "", func(s string) string { return s }
	}
	p.SetAutoPageBreak(true, 18)
	p.AliasNbPages("{nb}")
	p.SetFooterFunc(func() {
		p.SetY(-12)
		p.SetFont(family, "", 8)
		p.CellFormat(0, 5, show(fmt.Sprintf("%s — %s %d/{nb}", v.Title, word(v.Lang, "page"), p.PageNo())), "", 0, "C", false, 0, "")
	})
	p.AddPage()
	line := func(size float64, style, s string) {
		p.SetFont(family, style, size)
		p.MultiCell(0, size*0.5, show(s), "", "L", false)
	}
	line(18, bold, v.Title)
	p.Ln(2)
	line(11, "", word(v.Lang, "patient")+": "+v.Patient)
	if v.Born != "" || v.Gender != "" {
		line(11, "", strings.Trim(word(v.Lang, "born")+": "+v.Born+"   "+word(v.Lang, "gender")+": "+v.Gender, " "))
	}
	line(9, "", word(v.Lang, "generated")+": "+v.Generated)
	if note != "" {
		p.Ln(2)
		p.SetTextColor(160, 0, 0)
		line(10, "", note)
		p.SetTextColor(0, 0, 0)
	}
	for _, sv := range v.Sections {
		p.Ln(4)
		line(14, bold, sv.Title)
		if len(sv.Rows) == 0 {
			line(10, "", sv.Empty)
			continue
		}
		for _, row := range sv.Rows {
			line(10, "", "• "+joinCells(sv.Columns, row))
		}
	}
	p.Ln(6)
	line(8, "", word(v.Lang, "source"))
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, outcome.Wrap(outcome.Internal, "ips: print the summary", err)
	}
	return buf.Bytes(), nil
}

// checkFont prints a line with font, so a font the PDF library cannot
// read is found at start-up rather than on every printed summary.
func checkFont(font []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("not a TrueType font the PDF library reads: %v", r)
		}
	}()
	p := fpdf.New("P", "mm", "A4", "")
	p.AddUTF8FontFromBytes(cjkFamily, "", font)
	p.AddPage()
	p.SetFont(cjkFamily, "", 10)
	p.Cell(0, 5, "病人摘要 Patient summary")
	return p.Output(io.Discard)
}

// joinCells writes one entry's cells on a line: the item, then each other
// cell that has something, labelled by its column.
func joinCells(columns, row []string) string {
	parts := []string{row[0]}
	for i := 1; i < len(row) && i < len(columns); i++ {
		if row[i] != "" {
			parts = append(parts, columns[i]+": "+row[i])
		}
	}
	return strings.Join(parts, " · ")
}
