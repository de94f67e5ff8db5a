package portal

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/csvdeposit"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// historyTypes are the types the deposit history searches: what the forms
// and the CSV templates deposit, and the other records providers send.
var historyTypes = []string{"AllergyIntolerance", "Immunization", "Observation", "MedicationRequest", "MedicationStatement",
	"MedicationDispense", "Encounter", "DiagnosticReport", "DocumentReference", "ServiceRequest", "ImagingStudy"}

// historyDays and historyMax bound the history: the last 90 days, at most
// 100 records of each type.
const (
	historyDays = 90
	historyMax  = "100"
)

// ownDeposit reports whether r was deposited by the provider org: every
// deposit channel (the portal, CSV templates, the deposit service for
// provider systems) keys a record on a source identifier under the
// provider's namespace.
func ownDeposit(r web.Resource, org string) bool {
	prefix := csvdeposit.SourceBase + org + "/"
	for _, id := range web.List(r, "identifier") {
		if strings.HasPrefix(web.Str(id, "system"), prefix) {
			return true
		}
	}
	return false
}

// history lists what the provider deposited in the last 90 days, newest
// first: the records it sees (its own deposits among them) last updated
// since then, kept when they carry its source identifiers.
func history(c *web.Ctx) error {
	org := orgID(c)
	since := time.Now().AddDate(0, 0, -historyDays).UTC().Format(time.RFC3339)
	var items []web.RecordItem
	for _, typ := range historyTypes {
		b, err := search(c, typ, url.Values{"_lastUpdated": {"ge" + since}, "_sort": {"-_lastUpdated"}, "_count": {historyMax}})
		if err != nil {
			if outcome.Is(err, outcome.Forbidden) {
				continue
			}
			return err
		}
		for _, r := range b.Matches {
			if ownDeposit(r, org) {
				items = append(items, web.RecordItemOf(r))
			}
		}
	}
	slices.SortStableFunc(items, func(a, b web.RecordItem) int { return strings.Compare(b.Updated, a.Updated) })
	return c.Render("history", map[string]any{"Items": items, "Days": historyDays})
}

// The accreditation's MeasureReport extensions (package accreditation).
const (
	levelExtension = "https://ehealth.hk/fhir/StructureDefinition/accreditation-level"
	markExtension  = "https://ehealth.hk/fhir/StructureDefinition/accreditation-mark"
)

// accreditationView is the accreditation page's data.
type accreditationView struct {
	Assessed    bool
	Level, Date string
	Start, End  string
	Marks       []string
	Types       []typeLine
}

// typeLine is one record type of an assessment.
type typeLine struct {
	Type         string
	Count, Valid string
}

// accreditation shows the provider's latest assessment (the MeasureReports
// are its own to read) and offers to assess it now.
func accreditation(c *web.Ctx) error {
	b, err := search(c, "MeasureReport", url.Values{"subject": {c.Session.Org}, "_sort": {"-date"}, "_count": {"1"}})
	if err != nil {
		return err
	}
	v := accreditationView{}
	if len(b.Matches) > 0 {
		v = reportView(b.Matches[0])
	}
	return c.Render("accreditation", v)
}

// reportView reads an assessment's MeasureReport.
func reportView(mr web.Resource) accreditationView {
	v := accreditationView{Assessed: true, Date: web.Str(mr, "date"), Start: web.Str(mr, "period", "start"), End: web.Str(mr, "period", "end")}
	for _, e := range web.List(mr, "extension") {
		switch web.Str(e, "url") {
		case levelExtension:
			v.Level = web.Str(e, "valueCoding", "code")
		case markExtension:
			v.Marks = append(v.Marks, web.Str(e, "valueCoding", "code"))
		}
	}
	for _, g := range web.List(mr, "group") {
		t := typeLine{Type: web.Str(g, "code", "coding", 0, "code")}
		for _, p := range web.List(g, "population") {
			switch web.Str(p, "code", "coding", 0, "code") {
			case "initial-population":
				t.Count = web.Str(p, "count")
			case "valid":
				t.Valid = web.Str(p, "count")
			}
		}
		v.Types = append(v.Types, t)
	}
	return v
}

// assess has the provider assessed now over the default period
// (Organization/{id}/$accreditation records a new MeasureReport).
func assess(c *web.Ctx) error {
	if _, err := operation(c, "Organization/"+orgID(c)+"/$accreditation"); err != nil {
		return err
	}
	c.Flash("ok", "accreditation.assessed")
	return c.Redirect("accreditation")
}
