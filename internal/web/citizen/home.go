package citizen

import (
	"net/url"
	"time"

	"github.com/ehealthplus/ehealth/internal/web"
)

// home shows what matters first: allergies, upcoming appointments,
// recent results.
func home(c *web.Ctx) error {
	ctx := c.R.Context()
	p, err := c.FHIR.Read(ctx, "Patient", patient(c))
	if err != nil {
		return err
	}
	allergies, err := collect(c, kinds[0], "20")
	if err != nil {
		return err
	}
	appts, err := search(c, "Appointment", url.Values{"date": {"ge" + time.Now().In(web.HongKong()).Format(time.DateOnly)}, "_sort": {"date"}, "_count": {"5"}})
	if err != nil {
		return err
	}
	lab, _ := web.KindOf(kinds, "lab")
	results, err := collect(c, lab, "5")
	if err != nil {
		return err
	}
	if len(results) > 5 {
		results = results[:5]
	}
	var upcoming []web.RecordItem
	for _, a := range appts.Matches {
		upcoming = append(upcoming, web.RecordItemOf(a))
	}
	return c.Render("home", map[string]any{"Name": web.List(p, "name"), "Self": c.Session.FHIRUser == "Patient/"+patient(c),
		"Allergies": allergies, "Appointments": upcoming, "Results": results})
}
