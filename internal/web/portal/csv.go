package portal

import (
	"net/http"
	"strings"

	"github.com/ehealthplus/ehealth/internal/csvdeposit"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// csvView is the CSV page's data: the templates and, after an upload, the
// report.
type csvView struct {
	Specs    []csvdeposit.Spec
	Template string
	Uploaded bool
	Report   csvdeposit.Report
	Problems []problemLine
	// Unregistered are the citizens of the file the registry does not know
	// (their rows were not deposited); Stored counts the records written.
	Unregistered []unregistered
	Stored       int
	Nothing      bool // nothing was stored
}

// problemLine is a report problem in the page's language.
type problemLine struct {
	Row     int
	Column  string
	Message string
}

// csvForm offers the templates to download and the upload form.
func csvForm(c *web.Ctx) error {
	return c.Render("csv", csvView{Specs: csvdeposit.Specs()})
}

// csvTemplate downloads a blank template.
func csvTemplate(c *web.Ctx) error {
	name := strings.TrimSuffix(c.R.PathValue("name"), ".csv")
	body, err := csvdeposit.Template(name)
	if err != nil {
		return outcome.New(outcome.NotFound, "portal: no template %q", name)
	}
	h := c.W.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	c.W.Write(body)
	return nil
}

// csvUpload checks a filled template row by row (csvdeposit.Parse) and,
// when there is something to store — no problem, or the valid rows when
// the professional chose to keep only those — deposits it.
func csvUpload(c *web.Ctx) error {
	v := csvView{Specs: csvdeposit.Specs(), Template: c.Form("template"), Uploaded: true, Nothing: true}
	if _, err := csvdeposit.Lookup(v.Template); err != nil {
		return outcome.At(outcome.Invalid, "template", "portal: choose a template")
	}
	f, _, err := c.R.FormFile("file")
	if err != nil {
		return outcome.At(outcome.Invalid, "file", "portal: choose a CSV file")
	}
	defer f.Close()
	keep := c.Form("keep") == "1"
	res, err := csvdeposit.Parse(v.Template, f, csvdeposit.Options{Organization: c.Session.Org, PractitionerRole: c.Session.Role, KeepValid: keep})
	v.Report = res.Report
	if err != nil && !outcome.Is(err, outcome.TooLarge) {
		return err
	}
	for _, p := range res.Report.Problems {
		m := p.Message
		if c.Lang == web.Chinese {
			m = p.MessageZH
		}
		v.Problems = append(v.Problems, problemLine{Row: p.Row, Column: p.Column, Message: m})
	}
	if res.Bundle != nil {
		dep, err := resolvePatients(c, res.Bundle, keep)
		if err != nil {
			return err
		}
		v.Unregistered = dep.unregistered
		if dep.bundle != nil {
			answer, err := c.FHIR.Do(c.R.Context(), http.MethodPost, "", dep.bundle)
			if err != nil {
				return err
			}
			v.Stored, v.Nothing = len(web.List(answer, "entry")), false
		}
	}
	status := http.StatusOK
	if v.Nothing && len(v.Problems)+len(v.Unregistered) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return c.RenderStatus(status, "csv", v)
}
