package console

import (
	"encoding/json"
	"net/url"

	"github.com/ehealthplus/ehealth/internal/web"
)

// home is what needs the operator: emergency accesses to review,
// reported accesses, stopped notices, and the journal's last
// verification.
func (con *console) home(c *web.Ctx) error {
	ctx := c.R.Context()
	count := func(typ string, q url.Values) (int, error) {
		q.Set("_summary", "count")
		b, err := c.FHIR.Search(ctx, typ, q)
		if err != nil {
			return 0, err
		}
		return max(b.Total, 0), nil
	}
	reviews, err := count("Task", url.Values{"code": {taskCodeSystem + "|" + emergencyReview}, "status": {"requested"}})
	if err != nil {
		return err
	}
	reports, err := count("Task", url.Values{"code": {taskCodeSystem + "|" + accessReport}, "status": {"requested"}})
	if err != nil {
		return err
	}
	stopped, err := count("Communication", url.Values{"category": {noticeKindSystem + "|"}, "status": {"stopped"}})
	if err != nil {
		return err
	}
	var v *verification
	if b, err := con.keys().GetKey(ctx, nsVerify, keyVerify); err == nil {
		v = &verification{}
		if json.Unmarshal(b, v) != nil {
			v = nil
		}
	}
	return c.Render("home", map[string]any{"Reviews": reviews, "Reports": reports, "Stopped": stopped, "V": v})
}
