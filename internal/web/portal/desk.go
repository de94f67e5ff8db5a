package portal

import (
	"regexp"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// accessKeyPattern is a citizen's access key: 8 digits (spaces allowed as
// typed).
var accessKeyPattern = regexp.MustCompile(`^[0-9]{8}$`)

// codePattern is a one-time code: 6 digits.
var codePattern = regexp.MustCompile(`^[0-9]{6}$`)

// digits keeps the digits of s (people type keys with spaces).
func digits(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		} else if s[i] != ' ' && s[i] != '-' {
			return ""
		}
	}
	return string(b)
}

// desk is what the professional does with the citizen at the desk: the
// access key, or a one-time code sent to the citizen, registers the care
// relationship and records the sharing consent.
func desk(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	return c.Render("desk", map[string]any{"ID": id, "Org": readName(c, c.Session.Org)})
}

// deskKey registers the care relationship and the sharing consent with the
// citizen's access key. A wrong key is answered by the API as for a
// patient that does not exist: the page says the key is not right.
func deskKey(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	key := digits(c.Form("key"))
	if !accessKeyPattern.MatchString(key) {
		c.Flash("error", "desk.bad_key")
		return c.Redirect("patients/" + id + "/desk")
	}
	if _, err := operation(c, "Patient/"+id+"/$care-relationship", "accessKey", key); err != nil {
		return deskRefused(c, id, err)
	}
	if _, err := operation(c, "Patient/"+id+"/$share", "accessKey", key); err != nil {
		return deskRefused(c, id, err)
	}
	c.Flash("ok", "desk.done")
	return c.Redirect("patients/" + id)
}

// deskRefused turns the API's "not known" (a wrong key or code, or a
// patient the professional may not act on) into a message on the desk
// page; other errors are shown as they are.
func deskRefused(c *web.Ctx, id string, err error) error {
	if !outcome.Is(err, outcome.NotFound) && !outcome.Is(err, outcome.Forbidden) {
		return err
	}
	c.Flash("error", "desk.refused")
	return c.Redirect("patients/" + id + "/desk")
}

// deskSend has a one-time code sent to the citizen (or their substitute
// decision maker) for the clinic ($share-code); the answer is the same
// whether or not the citizen exists.
func deskSend(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	if _, err := operation(c, "Patient/"+id+"/$share-code"); err != nil {
		return err
	}
	c.Flash("ok", "desk.sent")
	return c.Redirect("patients/" + id + "/desk")
}

// deskCode uses the code the citizen received for one step: the sharing
// consent or the care relationship (a code works once, so each step needs
// its own). Once the record opens, it is shown; until then the desk page
// says what is left.
func deskCode(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	code := digits(c.Form("code"))
	if !codePattern.MatchString(code) {
		c.Flash("error", "desk.bad_code")
		return c.Redirect("patients/" + id + "/desk")
	}
	op, done := "$share", "desk.consent_done"
	if c.Form("step") == "care" {
		op, done = "$care-relationship", "desk.care_done"
	}
	if _, err := operation(c, "Patient/"+id+"/"+op, "code", code); err != nil {
		return deskRefused(c, id, err)
	}
	if _, err := c.FHIR.Read(c.R.Context(), "Patient", id); err == nil {
		c.Flash("ok", "desk.done")
		return c.Redirect("patients/" + id)
	}
	c.Flash("ok", done)
	c.Flash("info", "desk.still_closed")
	return c.Redirect("patients/" + id + "/desk")
}
