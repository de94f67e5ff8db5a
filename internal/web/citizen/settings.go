package citizen

import (
	"slices"

	"github.com/ehealthplus/ehealth/internal/web"
)

// channels are the notice channels a citizen may choose (notify's codes);
// the app always gets them.
var channels = []string{"sms", "email"}

// settings shows the language and the notice channels.
func settings(c *web.Ctx) error {
	res, err := c.FHIR.Do(c.R.Context(), "GET", "Patient/"+patient(c)+"/$notice-channels", nil)
	if err != nil {
		return err
	}
	chosen := map[string]bool{}
	for _, p := range web.List(res, "parameter") {
		chosen[web.Str(p, "valueCode")] = true
	}
	return c.Render("settings", map[string]any{"Channels": channels, "Chosen": chosen})
}

// saveChannels records the chosen channels.
func saveChannels(c *web.Ctx) error {
	params := []any{map[string]any{"name": "channel", "valueCode": "app"}}
	for _, ch := range c.R.PostForm["channel"] {
		if slices.Contains(channels, ch) {
			params = append(params, map[string]any{"name": "channel", "valueCode": ch})
		}
	}
	if _, err := c.FHIR.Operation(c.R.Context(), "Patient/"+patient(c)+"/$notice-channels", web.Resource{"resourceType": "Parameters", "parameter": params}); err != nil {
		return err
	}
	c.Flash("ok", "settings.saved")
	return c.Redirect("settings")
}
