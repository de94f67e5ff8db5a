package citizen

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

var eventID = regexp.MustCompile(`^j-[0-9]{1,20}$`)

// access is one access to the record, in plain words.
type access struct {
	Event, Time, Text string
	Emergency         bool
}

// accessHistory shows who opened the record, in the page's language.
func accessHistory(c *web.Ctx) error {
	q := url.Values{"lang": {string(c.Lang)}, "_count": {"50"}}
	if cur := c.R.URL.Query().Get("page"); cur != "" {
		q.Set("_cursor", cur)
	}
	res, err := c.FHIR.Do(c.R.Context(), "GET", "Patient/"+patient(c)+"/$access-history?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	var list []access
	next := ""
	for _, p := range web.List(res, "parameter") {
		switch web.Str(p, "name") {
		case "access":
			a := access{}
			for _, part := range web.List(p, "part") {
				switch name := web.Str(part, "name"); {
				case name == "event":
					a.Event = strings.TrimPrefix(web.Str(part, "valueReference", "reference"), "AuditEvent/")
				case name == "time":
					a.Time = web.Str(part, "valueInstant")
				case name == "emergency":
					a.Emergency = web.Get(part, "valueBoolean") == true
				case strings.HasPrefix(name, "text-"):
					if a.Text == "" || name == "text-"+string(c.Lang) {
						a.Text = web.Str(part, "valueString")
					}
				}
			}
			list = append(list, a)
		case "next":
			next = web.Str(p, "valueString")
		}
	}
	return c.Render("access", map[string]any{"Accesses": list, "Next": next})
}

// reportForm asks what is wrong with an access.
func reportForm(c *web.Ctx) error {
	ev := c.R.PathValue("event")
	if !eventID.MatchString(ev) {
		return outcome.New(outcome.NotFound, "citizen: no access %q", ev)
	}
	return c.Render("report", map[string]any{"Event": ev})
}

// report reports an access: a Task to the provider and a confirming
// notice.
func report(c *web.Ctx) error {
	ev := c.R.PathValue("event")
	if !eventID.MatchString(ev) {
		return outcome.New(outcome.NotFound, "citizen: no access %q", ev)
	}
	params := []any{map[string]any{"name": "event", "valueReference": map[string]any{"reference": "AuditEvent/" + ev}}}
	if comment := c.Form("comment"); comment != "" {
		params = append(params, map[string]any{"name": "comment", "valueString": comment})
	}
	if _, err := c.FHIR.Operation(c.R.Context(), "Patient/"+patient(c)+"/$report-access", web.Resource{"resourceType": "Parameters", "parameter": params}); err != nil {
		return err
	}
	c.Flash("ok", "access.reported")
	return c.Redirect("access")
}
