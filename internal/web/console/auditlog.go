package console

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/web"
)

// nsVerify keeps the last verification of the audit journal, so every
// server shows it and a page view does not walk the whole journal.
const (
	nsVerify  = "console.audit-verify"
	keyVerify = "last"
)

// verification is a run of audit.Verify as the console shows it.
type verification struct {
	At          time.Time       `json:"at"`
	By          string          `json:"by"`
	Signed      bool            `json:"signed"` // the server has a checkpoint key
	Entries     int64           `json:"entries"`
	Last        int64           `json:"last"`
	Checkpoints int             `json:"checkpoints"`
	Covered     int64           `json:"covered"`
	LastAt      time.Time       `json:"lastAt,omitzero"` // the last checkpoint's time
	LastSeq     int64           `json:"lastSeq,omitempty"`
	Problems    []audit.Problem `json:"problems,omitempty"`
}

// auditStatus shows the last verification of the audit journal.
func (con *console) auditStatus(c *web.Ctx) error {
	var v *verification
	b, err := con.keys().GetKey(c.R.Context(), nsVerify, keyVerify)
	switch {
	case err == nil:
		v = &verification{}
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("console: last verification: %w", err)
		}
	case !outcome.Is(err, outcome.NotFound):
		return err
	}
	return c.Render("audit", map[string]any{"V": v, "Signed": con.cfg.Key != nil})
}

// verify walks the journal now (audit.Verify, as `ehealth audit verify`
// does, with the server's checkpoint key) and keeps the result.
func (con *console) verify(c *web.Ctx) error {
	ctx := c.R.Context()
	r, err := audit.Verify(ctx, con.cfg.Journal, con.cfg.Key, nil)
	if err != nil {
		return err
	}
	v := verification{At: time.Now().UTC(), By: strings.TrimPrefix(c.Session.FHIRUser, "Operator/"), Signed: con.cfg.Key != nil,
		Entries: r.Entries, Last: r.Last, Checkpoints: r.Checkpoints, Covered: r.Covered, Problems: r.Problems}
	cps, err := con.cfg.Journal.AuditCheckpoints(ctx, 0, 0)
	if err != nil {
		return err
	}
	if n := len(cps); n > 0 {
		v.LastAt, v.LastSeq = cps[n-1].Time, cps[n-1].Seq
	}
	if len(v.Problems) > 100 {
		v.Problems = v.Problems[:100]
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := con.keys().PutKey(ctx, store.Key{NS: nsVerify, Key: keyVerify}, b, time.Time{}); err != nil {
		return fmt.Errorf("console: keep the verification: %w", err)
	}
	con.cfg.Log.Info("console: audit journal verified", "entries", r.Entries, "problems", len(r.Problems), "operator", v.By)
	if r.OK() {
		c.Flash("ok", "audit.verified_ok")
	} else {
		c.Flash("error", "audit.verified_problems", len(r.Problems))
	}
	return c.Redirect("audit")
}
