package citizen

import (
	"time"

	"github.com/ehealthplus/ehealth/internal/web"
)

// AgeOfConsent is when a child takes over their record from their
// substitute decision maker (registry.AgeOfConsent; the registry ends
// the SDM's authority then).
const AgeOfConsent = 16

// family shows whose record the session is in, lets someone who acts for
// others switch (a new sign-in through the authorization server's
// picker), and, for a child, when they take over their record.
func family(c *web.Ctx) error {
	p, err := c.FHIR.Read(c.R.Context(), "Patient", patient(c))
	if err != nil {
		return err
	}
	data := map[string]any{"Name": web.List(p, "name"), "Self": c.Session.FHIRUser == "Patient/"+patient(c)}
	if birth, _, ok := web.ParseTime(web.Str(p, "birthDate")); ok {
		handover := birth.AddDate(AgeOfConsent, 0, 0)
		data["Handover"] = handover.Format(time.DateOnly)
		data["Minor"] = time.Now().Before(handover)
	}
	return c.Render("family", data)
}
