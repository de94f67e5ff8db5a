package console

import (
	"net/url"

	"github.com/ehealthplus/ehealth/internal/web"
)

// The accreditation's MeasureReport extensions (accreditation.LevelExtension,
// TypesExtension): the console reads the report the FHIR API answers.
const (
	levelExtension = "https://ehealth.hk/fhir/StructureDefinition/accreditation-level"
	typesExtension = "https://ehealth.hk/fhir/StructureDefinition/accreditation-types"
	markExtension  = "https://ehealth.hk/fhir/StructureDefinition/accreditation-mark"
)

// accreditation is a provider's latest assessment.
type accreditation struct {
	Level, Date, Start, End string
	Counted                 string // record types counted toward the level
	Marks                   []string
	Types                   []assessedType
}

// assessedType is one record type of an assessment.
type assessedType struct {
	Type, Deposited, Valid string
}

// latestAccreditation reads the provider's newest MeasureReport, nil if
// it was never assessed.
func (con *console) latestAccreditation(c *web.Ctx, id string) (*accreditation, error) {
	b, err := c.FHIR.Search(c.R.Context(), "MeasureReport", url.Values{"subject": {"Organization/" + id},
		"_sort": {"-date"}, "_count": {"1"}})
	if err != nil || len(b.Matches) == 0 {
		return nil, err
	}
	return accreditationOf(b.Matches[0]), nil
}

// accreditationOf reads an accreditation MeasureReport.
func accreditationOf(mr web.Resource) *accreditation {
	a := &accreditation{Date: web.Str(mr, "date"), Start: web.Str(mr, "period", "start"), End: web.Str(mr, "period", "end")}
	for _, e := range web.List(mr, "extension") {
		switch web.Str(e, "url") {
		case levelExtension:
			a.Level = web.Str(e, "valueCoding", "code")
		case typesExtension:
			a.Counted = web.Str(e, "valueInteger")
		case markExtension:
			a.Marks = append(a.Marks, web.Str(e, "valueCoding", "code"))
		}
	}
	for _, g := range web.List(mr, "group") {
		t := assessedType{Type: web.Str(g, "code", "coding", 0, "code")}
		for _, p := range web.List(g, "population") {
			switch web.Str(p, "code", "coding", 0, "code") {
			case "initial-population":
				t.Deposited = web.Str(p, "count")
			case "valid":
				t.Valid = web.Str(p, "count")
			}
		}
		a.Types = append(a.Types, t)
	}
	return a
}

// accredit runs the provider's assessment over the default period
// (Organization/{id}/$accreditation records it).
func (con *console) accredit(c *web.Ctx) error {
	id := c.R.PathValue("id")
	if !idPattern.MatchString(id) {
		return c.Redirect("providers")
	}
	if _, err := c.FHIR.Operation(c.R.Context(), "Organization/"+id+"/$accreditation", nil); err != nil {
		return err
	}
	c.Flash("ok", "accreditation.done")
	return c.Redirect("providers/" + id)
}
