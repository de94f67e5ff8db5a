package citizen

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/web"
)

// offersSummary reports whether the FHIR API offers Patient/$summary (the
// International Patient Summary), from its CapabilityStatement.
func offersSummary(c *web.Ctx) (bool, error) {
	cs, err := c.FHIR.Do(c.R.Context(), "GET", "metadata", nil)
	if err != nil {
		return false, err
	}
	for _, r := range web.List(cs, "rest", 0, "resource") {
		if web.Str(r, "type") == "Patient" {
			return slices.ContainsFunc(web.List(r, "operation"), func(o any) bool { return web.Str(o, "name") == "summary" }), nil
		}
	}
	return false, nil
}

// summary offers the download of the record as an International Patient
// Summary, or says it is not offered yet.
func summary(c *web.Ctx) error {
	ok, err := offersSummary(c)
	if err != nil {
		return err
	}
	return c.Render("summary", map[string]any{"Offered": ok})
}

// summaryPath is the patient's $summary, narratives in the page's
// language, in the format given ("" for the document Bundle).
func summaryPath(c *web.Ctx, format string) string {
	q := url.Values{"language": {string(c.Lang)}}
	if format != "" {
		q.Set("_format", format)
	}
	return "Patient/" + patient(c) + "/$summary?" + q.Encode()
}

// summaryJSON sends Patient/$summary as a FHIR JSON file, in the page's
// language.
func summaryJSON(c *web.Ctx) error {
	doc, err := c.FHIR.Do(c.R.Context(), "GET", summaryPath(c, ""), nil)
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("citizen: summary: %w", err)
	}
	h := c.W.Header()
	h.Set("Content-Type", "application/fhir+json")
	h.Set("Content-Disposition", `attachment; filename="patient-summary.json"`)
	c.W.Write(body)
	return nil
}

// summaryPDF sends the printable Patient/$summary (a PDF, in the page's
// language) as a file. The API answers a Binary asked for in no FHIR
// format with its content; a Binary resource is taken too.
func summaryPDF(c *web.Ctx) error {
	_, ctype, body, err := c.FHIR.Raw(c.R.Context(), "GET", summaryPath(c, "pdf"), "", nil)
	if err != nil {
		return err
	}
	if strings.Contains(ctype, "json") {
		var bin struct{ ContentType, Data string }
		if err := json.Unmarshal(body, &bin); err != nil {
			return fmt.Errorf("citizen: summary: %w", err)
		}
		if body, err = base64.StdEncoding.DecodeString(bin.Data); err != nil {
			return fmt.Errorf("citizen: summary: %w", err)
		}
		ctype = bin.ContentType
	}
	if !strings.HasPrefix(ctype, "application/pdf") || !bytes.HasPrefix(body, []byte("%PDF")) {
		return fmt.Errorf("citizen: summary: the API answered %q, want a PDF", ctype)
	}
	h := c.W.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="patient-summary.pdf"`)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	c.W.Write(body)
	return nil
}
