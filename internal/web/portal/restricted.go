package portal

import (
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// maxReason bounds a reason typed in a form.
const maxReason = 500

// reason is the form's reason, checked.
func reason(c *web.Ctx) (string, bool) {
	r := c.Form("reason")
	return r, r != "" && len(r) <= maxReason
}

// restrictedForm asks why the restricted records must be opened, and
// takes the code the citizen then receives.
func restrictedForm(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	return c.Render("restricted", map[string]any{"ID": id})
}

// restrictedAsk has a one-time code sent to the citizen, naming the
// professional and the reason ($restricted-code).
func restrictedAsk(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	why, ok := reason(c)
	if !ok {
		c.Flash("error", "restricted.no_reason")
		return c.Redirect("patients/" + id + "/restricted")
	}
	if _, err := operation(c, "Patient/"+id+"/$restricted-code", "reason", why); err != nil {
		return err
	}
	c.Flash("ok", "restricted.sent")
	return c.Redirect("patients/" + id + "/restricted")
}

// restrictedOpen opens the restricted records with the citizen's code
// ($open-restricted): for a while, the record shows them too.
func restrictedOpen(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	code := digits(c.Form("code"))
	if !codePattern.MatchString(code) {
		c.Flash("error", "desk.bad_code")
		return c.Redirect("patients/" + id + "/restricted")
	}
	if _, err := operation(c, "Patient/"+id+"/$open-restricted", "code", code); err != nil {
		if outcome.Is(err, outcome.Forbidden) || outcome.Is(err, outcome.NotFound) {
			c.Flash("error", "restricted.refused")
			return c.Redirect("patients/" + id + "/restricted")
		}
		return err
	}
	c.Flash("ok", "restricted.opened")
	return c.Redirect("patients/" + id)
}

// emergencyForm asks for the reason of an emergency access, where the
// platform offers it.
func (p *portal) emergencyForm(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	if !p.emergencyOffered() {
		return outcome.New(outcome.NotFound, "portal: emergency access is not offered")
	}
	return c.Render("emergency", map[string]any{"ID": id})
}

// emergency opens the record by emergency access ($emergency-access with
// the reason): the citizen is told, and the operator reviews it.
func (p *portal) emergency(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	if !p.emergencyOffered() {
		return outcome.New(outcome.NotFound, "portal: emergency access is not offered")
	}
	why, ok := reason(c)
	if !ok {
		c.Flash("error", "emergency.no_reason")
		return c.Redirect("patients/" + id + "/emergency")
	}
	if _, err := operation(c, "Patient/"+id+"/$emergency-access", "reason", why); err != nil {
		return err
	}
	c.Flash("ok", "emergency.opened")
	return c.Redirect("patients/" + id)
}
