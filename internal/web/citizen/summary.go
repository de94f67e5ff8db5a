package citizen

import (
	"encoding/json"
	"fmt"
	"slices"

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

// summaryJSON sends Patient/$summary as a FHIR JSON file.
func summaryJSON(c *web.Ctx) error {
	doc, err := c.FHIR.Do(c.R.Context(), "GET", "Patient/"+patient(c)+"/$summary", nil)
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
