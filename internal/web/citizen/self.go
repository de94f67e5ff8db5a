package citizen

import (
	"net/url"
	"strconv"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// measure is a kind of self-recorded measurement: its LOINC code(s) and
// UCUM unit, and the range a typed value must fall in.
type measure struct {
	Key      string
	Code     string // LOINC of the observation (a panel for blood pressure)
	Display  string
	Parts    []part // the components (blood pressure) or one value
	Category string
}

type part struct {
	Field, Code, Display, Unit string
	Min, Max                   float64
}

// measures are what a citizen may record themself.
var measures = []measure{
	{Key: "bp", Code: "85354-9", Display: "Blood pressure panel", Category: "vital-signs", Parts: []part{
		{"systolic", "8480-6", "Systolic blood pressure", "mm[Hg]", 50, 260},
		{"diastolic", "8462-4", "Diastolic blood pressure", "mm[Hg]", 30, 160}}},
	{Key: "glucose", Code: "2339-0", Display: "Glucose [Mass/volume] in Blood", Category: "vital-signs", Parts: []part{
		{"value", "", "", "mmol/L", 1, 40}}},
	{Key: "weight", Code: "29463-7", Display: "Body weight", Category: "vital-signs", Parts: []part{
		{"value", "", "", "kg", 1, 400}}},
}

// selfRecorded lists the citizen's own measurements, apart from clinical
// ones, and the form to add one.
func selfRecorded(c *web.Ctx) error {
	b, err := search(c, "Observation", url.Values{"_tag": {web.OriginSystem + "|" + web.OriginCitizen}, "_sort": {"-date"}, "_count": {"50"}})
	if err != nil {
		return err
	}
	var items []web.RecordItem
	for _, r := range b.Matches {
		items = append(items, web.RecordItemOf(r))
	}
	return c.Render("self", map[string]any{"Items": items, "Measures": measures, "Now": time.Now().In(web.HongKong()).Format("2006-01-02T15:04")})
}

// addSelfRecorded stores a measurement as an Observation the citizen
// performed, tagged citizen-provided.
func addSelfRecorded(c *web.Ctx) error {
	i := -1
	for j, m := range measures {
		if m.Key == c.Form("measure") {
			i = j
		}
	}
	if i < 0 {
		return outcome.At(outcome.Invalid, "measure", "citizen: choose what you measured")
	}
	m := measures[i]
	at, err := time.ParseInLocation("2006-01-02T15:04", c.Form("when"), web.HongKong())
	if err != nil || at.After(time.Now().Add(5*time.Minute)) {
		return outcome.At(outcome.Invalid, "when", "citizen: when you measured is not a past date and time")
	}
	obs := web.Resource{"resourceType": "Observation", "status": "final",
		"meta":              map[string]any{"tag": []any{map[string]any{"system": web.OriginSystem, "code": web.OriginCitizen, "display": "Citizen-provided"}}},
		"category":          []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": m.Category}}}},
		"code":              map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": m.Code, "display": m.Display}}, "text": m.Display},
		"subject":           map[string]any{"reference": "Patient/" + patient(c)},
		"performer":         []any{map[string]any{"reference": c.Session.FHIRUser}},
		"effectiveDateTime": at.Format(time.RFC3339)}
	var comps []any
	for _, p := range m.Parts {
		v, err := strconv.ParseFloat(c.Form(p.Field), 64)
		if err != nil || v < p.Min || v > p.Max {
			return outcome.At(outcome.Invalid, p.Field, "citizen: %s must be a number from %g to %g", p.Field, p.Min, p.Max)
		}
		q := map[string]any{"value": v, "unit": p.Unit, "system": "http://unitsofmeasure.org", "code": p.Unit}
		if p.Code == "" {
			obs["valueQuantity"] = q
			continue
		}
		comps = append(comps, map[string]any{"code": map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": p.Code, "display": p.Display}}, "text": p.Display}, "valueQuantity": q})
	}
	if comps != nil {
		obs["component"] = comps
	}
	if _, err := c.FHIR.Create(c.R.Context(), obs); err != nil {
		return err
	}
	c.Flash("ok", "self.saved")
	return c.Redirect("self")
}
